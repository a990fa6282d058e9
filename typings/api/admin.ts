/**
 * admin: the merchant's refunds, exception queue, review orders, abnormal refunds and order search (callers listed in
 * ADMIN_OPENIDS only). The admin function also routes the books' actions (books.ts).
 */
import type { Fen } from '../money';
import type { ExceptionKind, ExceptionView, OrderView } from './shapes';

export interface AdminRefundRequest {
  orderId: string;
  amountFen: Fen;
  reason: string;
  requestId: string;
}
export interface ListExceptionsRequest {
  status?: 'open' | 'resolved';
  kind?: ExceptionKind;
  page?: number;
  pageSize?: number;
}
export interface ListExceptionsResponse {
  exceptions: ExceptionView[];
  page: number;
  hasMore: boolean;
}
export interface GetExceptionRequest {
  id: string;
}
/** A `review` order (WeChat Pay took another amount): accept it as paid at the amount WeChat Pay took. */
export interface AcceptReviewRequest {
  orderId: string;
  note: string;
}
/** A `review` order: refund in full what WeChat Pay took. */
export interface RefundReviewRequest {
  orderId: string;
  note: string;
  requestId: string;
}
/** An ABNORMAL refund: WeChat Pay's apply-abnormal-refund, to the user's bank card or the merchant's. */
export interface ApplyAbnormalRefundRequest {
  outRefundNo: string;
  type: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';
  /** USER_BANK_CARD only: bank type code, card number and the holder's name (encrypted before they leave the server) */
  bankType?: string;
  bankAccount?: string;
  realName?: string;
}
/** An ABNORMAL refund handled in the merchant platform: closes its exception; the refund follows WeChat Pay. */
export interface MarkAbnormalHandledRequest {
  outRefundNo: string;
  note: string;
}
export interface ResolveExceptionRequest {
  id: string;
  note: string;
}

/** A payment of an order as the merchant sees it (one per out_trade_no). */
export interface AdminPaymentView {
  outTradeNo: string;
  status: 'created' | 'prepaid' | 'success' | 'closed' | 'amount_mismatch' | 'duplicate';
  amountFen: Fen;
  /** what WeChat Pay took, once it did */
  paidTotalFen?: Fen;
  transactionId?: string;
  createdAt: number;
  paidAt?: number;
}

/** An order as the merchant sees it: the owner's view, with its payments and buyer. */
export interface AdminOrderView extends OrderView {
  openid: string;
  payments: AdminPaymentView[];
}

/** A search hit: enough to recognise the order; `admin.getOrder` gives the rest. */
export type AdminOrderSummary = Pick<
  OrderView,
  'id' | 'status' | 'items' | 'totalFen' | 'paidFen' | 'refundedFen' | 'refundableFen' | 'contact' | 'createdAt'
>;

/** `admin.searchOrders`: by order number, out_trade_no, WeChat Pay transaction_id or the contact's phone (newest 20). */
export interface SearchOrdersRequest {
  query: string;
}
export interface SearchOrdersResponse {
  matchedBy: 'orderId' | 'outTradeNo' | 'transactionId' | 'phone';
  orders: AdminOrderSummary[];
}
export interface AdminGetOrderRequest {
  orderId: string;
}

/**
 * Partner mode (the `merchants` function): a sub-merchant as data (admins of ADMIN_OPENIDS only). `subAppid`: its own mini-program, bound to it at
 * WeChat Pay; `adminOpenids`: its sub-merchant admins, who see and act on its orders only (the whole list: openids
 * left out stop being its admins).
 */
export interface SaveMerchantRequest {
  subMchid: string;
  name: string;
  subAppid?: string;
  active: boolean;
  adminOpenids?: string[];
}
/** A sub-merchant and the day's figures of its orders (China day): paid orders, the fen they took and refunded. */
export interface MerchantView {
  subMchid: string;
  name: string;
  subAppid?: string;
  active: boolean;
  adminOpenids: string[];
  day: { date: string; paidOrders: number; paidFen: Fen; refundedFen: Fen };
}
/** `date` YYYY-MM-DD (China), default today. A sub-merchant admin sees its own sub-merchant only. */
export interface ListMerchantsRequest {
  date?: string;
}
export interface ListMerchantsResponse {
  merchants: MerchantView[];
}
