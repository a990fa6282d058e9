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
  /** where the page starts: the `nextCursor` of the page before; absent: the first page */
  cursor?: string;
  pageSize?: number;
}
export interface ListExceptionsResponse {
  exceptions: ExceptionView[];
  hasMore: boolean;
  /** the next page's `cursor`, when `hasMore` */
  nextCursor?: string;
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
