/**
 * admin: the merchant's refunds, exception queue, review orders, abnormal refunds and order search (callers listed in
 * ADMIN_OPENIDS only). The admin function also routes the books' actions (books.ts).
 */
import type { Fen } from '../money';
import type { AfterSaleStatus, FulfilmentState } from './fulfilment';
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
  /** paid orders: the shipping information uploaded to WeChat's order shipping management */
  wechatShipping?: WechatShippingView;
}

/**
 * The order's shipping upload (小程序发货信息管理服务): pending (not yet due or being retried), uploaded, failed (retried by
 * the reconcile timer with backoff), not_managed (the mini-program is not under shipping management: nothing to upload).
 */
export interface WechatShippingView {
  status: 'none' | 'pending' | 'uploaded' | 'failed' | 'not_managed';
  /** 1 express, 3 virtual goods, 4 buyer pick-up */
  logisticsType?: 1 | 2 | 3 | 4;
  attempts: number;
  nextAttemptAt?: number;
  lastError?: string;
  uploadedAt?: number;
  /** WeChat allows one update of an upload; false once it was used */
  canCorrect: boolean;
  /** get_order's order_state, when last read: 1 待发货 2 已发货 3 确认收货 4 交易完成 5 已退款 */
  wxOrderState?: number;
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

/** Service orders: give one waiting order to a staff member who may take that service. */
export interface AssignRequest {
  orderId: string;
  /** the staff member's openid (from `admin.listStaff`) */
  staffOpenid: string;
}
export interface StaffMemberView {
  openid: string;
  name: string;
  services: string[];
}
export type ListStaffRequest = Record<string, never>;
export interface ListStaffResponse {
  staff: StaffMemberView[];
}

export interface ListAfterSalesRequest {
  status?: AfterSaleStatus;
  page?: number;
  pageSize?: number;
}
export interface ListAfterSalesResponse {
  orders: OrderView[];
  page: number;
  hasMore: boolean;
}
/** approve: refund what is refundable; partly: refund `amountFen`; decline: no refund. The note is shown to the buyer. */
export interface DecideAfterSaleRequest {
  orderId: string;
  decision: 'approve' | 'partly' | 'decline';
  amountFen?: Fen;
  note: string;
  requestId: string;
}
/**
 * Corrects the uploaded shipping information (a new express company / tracking number). WeChat allows one update per
 * payment: this is the last; the answer says so (`canCorrect: false`).
 */
export interface CorrectShippingRequest {
  orderId: string;
  expressCompany: string;
  trackingNo: string;
  /** the admin confirmed the warning that no further correction is possible */
  confirmLast: true;
}
/** An unfulfillable order (exception queue): refund in full what is refundable, through the refund path. */
export interface RefundUnfulfillableRequest {
  orderId: string;
  note: string;
  requestId: string;
}
/** Marks an order that can no longer be fulfilled (sold out, nobody takes it): it goes to the exception queue. */
export interface MarkUnfulfillableRequest {
  orderId: string;
  note: string;
}

/** The admin home's fulfilment counts. */
export type FulfilmentSummaryRequest = Record<string, never>;
export interface FulfilmentSummaryResponse {
  /** paid orders nobody accepted yet, and of those older than FULFIL_ACCEPT_ALERT_MINUTES */
  waitingForStaff: number;
  waitingOverdue: number;
  byState: Partial<Record<FulfilmentState, number>>;
  /** shipping uploads due and not done, and failed ones (being retried) */
  uploadsPending: number;
  uploadsFailed: number;
  /** uploads failed for more than a day (alerted) */
  uploadsOverdue: number;
  afterSalesOpen: number;
  /** is_trade_managed's last answer (null: not asked yet), and when it was asked */
  isTradeManaged: boolean | null;
  tradeManagedCheckedAt?: number;
}
