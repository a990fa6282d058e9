/**
 * The API contract between the mini-program and the cloud functions: every function's requests, responses and
 * typed error codes. Money is integer fen. Identity is never part of a request: it comes from the cloud context.
 */
import type { Fen } from './money';

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ORDER_EXPIRED'
  | 'FAILED_PRECONDITION'
  | 'PAYMENT_PROVIDER_ERROR'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'ORDER_EXPIRED',
  'FAILED_PRECONDITION',
  'PAYMENT_PROVIDER_ERROR',
  'UNAVAILABLE',
  'INTERNAL',
];

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** for INVALID_ARGUMENT: the offending field, as a path like `items[0].quantity` */
  field?: string;
}

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

// ---- shapes ---------------------------------------------------------------------------------------------------

export type OrderStatus =
  | 'pending_payment'
  | 'paid'
  | 'refunding'
  | 'partially_refunded'
  | 'refunded'
  | 'cancelled'
  | 'closed'
  | 'review';

export const ORDER_STATUSES: readonly OrderStatus[] = ['pending_payment', 'paid', 'refunding', 'partially_refunded', 'refunded', 'cancelled', 'closed', 'review'];

/**
 * A refund's state (the backend's refund table): queued (not yet accepted by WeChat Pay), unknown (answer lost, being
 * checked), processing, abnormal (WeChat Pay could not pay the user's account: waits for the merchant), success,
 * closed, failed (refused by WeChat Pay).
 */
export type RefundStatus = 'queued' | 'unknown' | 'processing' | 'abnormal' | 'success' | 'closed' | 'failed';

/** What a person must look at. */
export type ExceptionKind =
  | 'amount_mismatch'
  | 'duplicate_charge'
  | 'abnormal_refund'
  | 'refund_unapplied'
  | 'refund_refused'
  | 'unknown_payment'
  | 'payment_mismatch'
  | 'bill_difference';

export const EXCEPTION_KINDS: readonly ExceptionKind[] = [
  'amount_mismatch',
  'duplicate_charge',
  'abnormal_refund',
  'refund_unapplied',
  'refund_refused',
  'unknown_payment',
  'payment_mismatch',
  'bill_difference',
];

export interface ExceptionView {
  id: string;
  kind: ExceptionKind;
  status: 'open' | 'resolved';
  orderId?: string;
  outTradeNo?: string;
  outRefundNo?: string;
  transactionId?: string;
  expectedFen?: Fen;
  actualFen?: Fen;
  detail: string;
  firstSeenAt: number;
  lastSeenAt: number;
  occurrences: number;
  resolvedAt?: number;
  resolvedBy?: string;
  resolution?: { action: string; note: string };
}

export interface Profile {
  openid: string;
  isAdmin: boolean;
  createdAt: number;
  lastLoginAt: number;
}

export interface Product {
  id: string;
  title: string;
  description: string;
  priceFen: Fen;
  image?: string;
  maxPerOrder: number;
  /** for services and events: when it starts (ms since epoch); user refunds close before it */
  serviceStartsAt?: number;
}

export interface OrderItem {
  productId: string;
  title: string;
  unitPriceFen: Fen;
  quantity: number;
  subtotalFen: Fen;
}

export interface TimelineEntry {
  at: number;
  event: string;
  detail?: string;
}

export interface RefundView {
  outRefundNo: string;
  amountFen: Fen;
  reason: string;
  status: RefundStatus;
  requestedBy: 'user' | 'admin' | 'system';
  createdAt: number;
  settledAt?: number;
}

export interface OrderView {
  id: string;
  status: OrderStatus;
  items: OrderItem[];
  totalFen: Fen;
  paidFen: Fen;
  refundedFen: Fen;
  refundableFen: Fen;
  contact: { name: string; phone: string };
  remark: string;
  createdAt: number;
  expiresAt: number;
  paidAt?: number;
  serviceStartsAt?: number;
  timeline: TimelineEntry[];
  refunds: RefundView[];
  /** what the owner may do now */
  can: { pay: boolean; cancel: boolean; requestRefund: boolean };
}

export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

// ---- requests and responses, per function ---------------------------------------------------------------------

export interface LoginRequest {
  code: string;
}
export type LoginResponse = Profile;

export interface CatalogListRequest {
  action: 'list';
}
export interface CatalogListResponse {
  products: Product[];
}

export interface ConfirmOrderRequest {
  action: 'confirm';
  /** a client-made id per checkout: a double tap or a retry creates one order */
  requestId: string;
  items: { productId: string; quantity: number }[];
  contact: { name: string; phone: string };
  remark?: string;
}
export interface GetOrderRequest {
  action: 'get';
  orderId: string;
}
export interface ListOrdersRequest {
  action: 'list';
  status?: OrderStatus | 'refunds';
  page?: number;
  pageSize?: number;
}
export interface ListOrdersResponse {
  orders: OrderView[];
  page: number;
  hasMore: boolean;
}
export interface CancelOrderRequest {
  action: 'cancel';
  orderId: string;
}
export interface RequestRefundRequest {
  action: 'requestRefund';
  orderId: string;
  reason: string;
  /** a client-made id per refund request: a retry is the same refund */
  requestId: string;
}
export type OrdersRequest = ConfirmOrderRequest | GetOrderRequest | ListOrdersRequest | CancelOrderRequest | RequestRefundRequest;

export interface PayRequest {
  action: 'pay';
  orderId: string;
}
export interface PayResponse {
  orderId: string;
  params: RequestPaymentParams;
  /** the local cloud only: what the cashier sheet needs to stand in for wx.requestPayment */
  prepayId: string;
}
export interface ConfirmPaymentRequest {
  action: 'confirm';
  orderId: string;
}
export type PaymentRequest = PayRequest | ConfirmPaymentRequest;

export interface AdminRefundRequest {
  action: 'refund';
  orderId: string;
  amountFen: Fen;
  reason: string;
  requestId: string;
}
export interface ListExceptionsRequest {
  action: 'listExceptions';
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
  action: 'getException';
  id: string;
}
/** A `review` order (WeChat Pay took another amount): accept it as paid at the amount WeChat Pay took. */
export interface AcceptReviewRequest {
  action: 'acceptReview';
  orderId: string;
  note: string;
}
/** A `review` order: refund in full what WeChat Pay took. */
export interface RefundReviewRequest {
  action: 'refundReview';
  orderId: string;
  note: string;
  requestId: string;
}
/** An ABNORMAL refund: WeChat Pay's apply-abnormal-refund, to the user's bank card or the merchant's. */
export interface ApplyAbnormalRefundRequest {
  action: 'applyAbnormalRefund';
  outRefundNo: string;
  type: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';
  /** USER_BANK_CARD only: bank type code, card number and the holder's name (encrypted before they leave the server) */
  bankType?: string;
  bankAccount?: string;
  realName?: string;
}
/** An ABNORMAL refund handled in the merchant platform: closes its exception; the refund follows WeChat Pay. */
export interface MarkAbnormalHandledRequest {
  action: 'markAbnormalHandled';
  outRefundNo: string;
  note: string;
}
export interface ResolveExceptionRequest {
  action: 'resolveException';
  id: string;
  note: string;
}
export type AdminRequest =
  | AdminRefundRequest
  | ListExceptionsRequest
  | GetExceptionRequest
  | AcceptReviewRequest
  | RefundReviewRequest
  | ApplyAbnormalRefundRequest
  | MarkAbnormalHandledRequest
  | ResolveExceptionRequest
  | GetStatementRequest
  | ListStatementsRequest
  | RunBillDayRequest
  | ListMetricsRequest
  | SubscribeAlertsRequest;

/** What each callable function takes and answers. */
export interface Api {
  login: { request: LoginRequest; response: LoginResponse };
  catalog: { request: CatalogListRequest; response: CatalogListResponse };
  orders: {
    request: OrdersRequest;
    response: OrderView | ListOrdersResponse;
  };
  payment: { request: PaymentRequest; response: PayResponse | OrderView };
  admin: {
    request: AdminRequest;
    response: OrderView | ListExceptionsResponse | ExceptionView | StatementView | ListStatementsResponse | ListMetricsResponse | SubscribeAlertsResponse;
  };
}

/** Response type by action, for typed services. */
export interface ActionResponses {
  'catalog.list': CatalogListResponse;
  'orders.confirm': OrderView;
  'orders.get': OrderView;
  'orders.list': ListOrdersResponse;
  'orders.cancel': OrderView;
  'orders.requestRefund': OrderView;
  'payment.pay': PayResponse;
  'payment.confirm': OrderView;
  'admin.refund': OrderView;
  'admin.listExceptions': ListExceptionsResponse;
  'admin.getException': ExceptionView;
  'admin.acceptReview': OrderView;
  'admin.refundReview': OrderView;
  'admin.applyAbnormalRefund': ExceptionView;
  'admin.markAbnormalHandled': ExceptionView;
  'admin.resolveException': ExceptionView;
  'admin.getStatement': StatementView;
  'admin.listStatements': ListStatementsResponse;
  'admin.runBillDay': StatementView;
  'admin.listMetrics': ListMetricsResponse;
  'admin.subscribeAlerts': SubscribeAlertsResponse;
}

// ---- books: daily bill statements, metrics, alerts (admin) --------------------------------------------------------

/** One way a day's WeChat Pay trade bill and the backend's books disagree. */
export type BillDifferenceKind =
  /** in the bill, not settled here (healed by querying WeChat Pay and settling, when it can be) */
  | 'missing_here'
  /** settled here, not in the bill */
  | 'missing_in_bill'
  /** both have it, at different amounts */
  | 'amount_differs'
  /** both have the refund, in states that cannot both be true */
  | 'refund_state_differs'
  /** the bill lists the same payment or refund twice */
  | 'duplicate_row';

export interface BillDifference {
  kind: BillDifferenceKind;
  subject: 'payment' | 'refund';
  outTradeNo: string;
  outRefundNo?: string;
  orderId?: string;
  billFen?: Fen;
  booksFen?: Fen;
  billState?: string;
  booksState?: string;
  detail: string;
  /** how the job healed it; absent when a person must look (then `exceptionId` names the exception) */
  healed?: string;
  exceptionId?: string;
}

/** Counts and totals of one side of a day. Net is gross − refunds − fees. */
export interface StatementTotals {
  paymentCount: number;
  refundCount: number;
  grossFen: Fen;
  refundFen: Fen;
  /** WeChat Pay's fees; on the books' side what the bill's rate makes of the books' amounts */
  feeFen: number;
  netFen: number;
}

export type StatementStatus = 'creating' | 'no_statement' | 'done' | 'failed';

export interface StatementView {
  billDate: string;
  /** creating: WeChat Pay is still making the bill (retried every 30 minutes); no_statement: no trades at WeChat Pay that day */
  status: StatementStatus;
  attempts: number;
  nextAttemptAt?: number;
  lastError?: string;
  /** the bill's side, from its rows (its summary row agreed); absent until a bill was read */
  bill?: StatementTotals & { settlementFen: Fen; feeMilliFen: number; rows: number; sha1: string };
  books?: StatementTotals;
  /** at most 200 are kept; the counts cover all */
  differences: BillDifference[];
  differenceCount: number;
  healedCount: number;
  openCount: number;
  /** how many times the day was compared (a re-run replaces the statement) */
  runs: number;
  updatedAt: number;
  completedAt?: number;
  ms?: number;
}

/** One day's payment figures, rolled up from the collections by the books timer. */
export interface DailyMetrics {
  date: string;
  rolledUpAt: number;
  /** orders created that day, by what became of them; paid: orders whose payment succeeded that day */
  orders: { created: number; paid: number; expired: number; cancelled: number };
  /** payments that succeeded that day, by what settled them here */
  paidBy: { notification: number; query: number; reconcile: number; bill: number; unknown: number };
  /** from the payment's prepay to WeChat Pay's success time: counts per bucket (upper bound in seconds, null: beyond) */
  prepayToPaid: { count: number; buckets: { leSeconds: number | null; count: number }[]; p50Seconds: number | null; p90Seconds: number | null };
  /** notification deliveries received that day, by the verdict logged */
  notifications: { total: number; byVerdict: Record<string, number> };
  /** refunds created that day by their state now; and, at roll-up time, refunds not final after 5 minutes and after 3 days */
  refunds: { created: number; byStatus: Record<RefundStatus, number>; openOver5Minutes: number; openOver3Days: number };
  /** exceptions open at roll-up time, by kind */
  exceptionsOpen: Record<ExceptionKind, number>;
  /** the day's statement */
  bill: { status: StatementStatus | 'none'; differences: number; healed: number; open: number };
}

export interface GetStatementRequest {
  action: 'getStatement';
  billDate: string;
}
export interface ListStatementsRequest {
  action: 'listStatements';
  page?: number;
  pageSize?: number;
}
export interface ListStatementsResponse {
  statements: StatementView[];
  page: number;
  hasMore: boolean;
}
/** Compares a past day now (WeChat Pay keeps bills three months), replacing its statement. */
export interface RunBillDayRequest {
  action: 'runBillDay';
  billDate: string;
}
/** The last `days` days' metrics (at most 30), newest first. */
export interface ListMetricsRequest {
  action: 'listMetrics';
  days?: number;
}
export interface ListMetricsResponse {
  metrics: DailyMetrics[];
}
/** The admin accepted `accepted` alert subscribe messages (wx.requestSubscribeMessage): each allows one alert. */
export interface SubscribeAlertsRequest {
  action: 'subscribeAlerts';
  accepted: number;
}
export interface SubscribeAlertsResponse {
  credits: number;
}

// ---- the mini-program in real WeChat (issue 12): client log, payment-success subscription, admin order search ----

/**
 * What the client reports that it could not explain to the user: a payment errMsg it does not know, a payment sheet
 * answered "cancel" (which WeChat also answers for some real errors), a subscribe request that failed. No personal
 * data: no openid, order number, name or phone; the server masks long digit and hex runs in `message` as well.
 */
export type ClientLogKind = 'pay_error' | 'pay_cancel' | 'subscribe_error';

export const CLIENT_LOG_KINDS: readonly ClientLogKind[] = ['pay_error', 'pay_cancel', 'subscribe_error'];

export interface ClientLogRequest {
  action: 'report';
  kind: ClientLogKind;
  /** the platform's raw message, e.g. wx.requestPayment's errMsg (at most 200 characters) */
  message: string;
  /** the page route, e.g. `pages/order/confirm/index` */
  page: string;
  /** the base library version and platform (`ios`, `android`, `windows`, `mac`, `devtools`) */
  sdkVersion?: string;
  platform?: string;
  /** ms from opening the payment sheet to its answer: a "cancel" within a second is likely an error */
  elapsedMs?: number;
}

/** `accepted: false` when the caller is over its rate limit: the entry was dropped, which is not an error. */
export interface ClientLogResponse {
  accepted: boolean;
}

/**
 * `payment.subscribe`: the user accepted the payment-success subscribe message (wx.requestSubscribeMessage answered
 * 'accept' for this template) while paying this order. The server sends that message only after such an acceptance,
 * at most once per order.
 */
export interface SubscribePaidRequest {
  action: 'subscribe';
  orderId: string;
  templateId: string;
}
export interface SubscribePaidResponse {
  orderId: string;
  templateId: string;
  acceptedAt: number;
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
export type AdminOrderSummary = Pick<OrderView, 'id' | 'status' | 'items' | 'totalFen' | 'paidFen' | 'refundedFen' | 'refundableFen' | 'contact' | 'createdAt'>;

/** `admin.searchOrders`: by order number, out_trade_no, WeChat Pay transaction_id or the contact's phone (newest 20). */
export interface SearchOrdersRequest {
  action: 'searchOrders';
  query: string;
}
export interface SearchOrdersResponse {
  matchedBy: 'orderId' | 'outTradeNo' | 'transactionId' | 'phone';
  orders: AdminOrderSummary[];
}
export interface AdminGetOrderRequest {
  action: 'getOrder';
  orderId: string;
}

/** Declaration merging: the actions above, added without reordering the contract. */
export interface ActionResponses {
  'clientLog.report': ClientLogResponse;
  'payment.subscribe': SubscribePaidResponse;
  'admin.searchOrders': SearchOrdersResponse;
  'admin.getOrder': AdminOrderView;
}

export interface Api {
  clientLog: { request: ClientLogRequest; response: ClientLogResponse };
}
