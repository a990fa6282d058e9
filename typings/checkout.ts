/**
 * The Native checkout's HTTP API (cloudfunctions/checkout): what a guest's web page sends and gets. Money is integer
 * fen. A guest has no login: the order token the create call answers is the order's bearer credential, sent back as
 * `Authorization: Bearer <token>`; an unknown or someone else's token answers 404 like a missing order.
 *
 *   GET  api/catalog        → CheckoutCatalog
 *   POST api/orders         { items: [{ productId, quantity }] } → CheckoutCreated (201)
 *   GET  api/order          → CheckoutAnswer          (the page polls this)
 *   POST api/order/pay      → CheckoutAnswer          (the QR code: reused while it lasts, renewed when it lapses)
 *   POST api/order/check    → CheckoutAnswer          ("我已支付": asks WeChat Pay, settles what it says)
 * Errors: { error: { code, message, field? } } with 400, 404, 409, 410 (expired), 429 (Retry-After), 502, 503, 500.
 */
import type { ErrorCode, OrderItem, OrderStatus, Product } from './api';
import type { Fen } from './money';

export interface CheckoutCatalog {
  products: Product[];
}

export interface CheckoutCode {
  /** weixin://wxpay/bizpayurl?pr=…, from WeChat Pay's Native下单 */
  codeUrl: string;
  /** the code lapses then (2 hours after it was made, never after the order) */
  expiresAt: number;
  lapsed: boolean;
  /** the QR code of codeUrl as an SVG document */
  svg?: string;
}

export interface CheckoutOrderView {
  id: string;
  status: OrderStatus;
  items: OrderItem[];
  totalFen: Fen;
  refundedFen: Fen;
  createdAt: number;
  expiresAt: number;
  paidAt?: number;
  /** while the order can be paid: its current code, if one was made */
  code?: CheckoutCode;
}

export interface CheckoutAnswer {
  order: CheckoutOrderView;
  /** the server's clock, so a page can count down against it */
  now: number;
}

export interface CheckoutCreated extends CheckoutAnswer {
  /** the order's bearer token: keep it (the page keeps it in its URL fragment), never sent anywhere but this API */
  token: string;
}

export interface CheckoutError {
  error: { code: ErrorCode; message: string; field?: string };
}
