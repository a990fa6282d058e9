/**
 * The API contract between the mini-program and the cloud functions: every function's requests, responses and
 * typed error codes, one file per function, and the `Actions` map below. Money is integer fen. Identity is never part
 * of a request: it comes from the cloud context.
 */
import type { CatalogListRequest, CatalogListResponse } from './catalog';
import type { ClientLogRequest, ClientLogResponse } from './client-log';
import type { LoginRequest, LoginResponse } from './login';
import type {
  CancelOrderRequest,
  ConfirmOrderRequest,
  GetOrderRequest,
  ListOrdersRequest,
  ListOrdersResponse,
  RequestRefundRequest,
} from './orders';
import type {
  ConfirmPaymentRequest,
  PayRequest,
  PayResponse,
  SubscribePaidRequest,
  SubscribePaidResponse,
} from './payment';
import type {
  AcceptReviewRequest,
  AdminGetOrderRequest,
  AdminOrderView,
  AdminRefundRequest,
  ApplyAbnormalRefundRequest,
  GetExceptionRequest,
  ListExceptionsRequest,
  ListExceptionsResponse,
  MarkAbnormalHandledRequest,
  RefundReviewRequest,
  ResolveExceptionRequest,
  SearchOrdersRequest,
  SearchOrdersResponse,
  ListMerchantsRequest,
  ListMerchantsResponse,
  MerchantView,
  SaveMerchantRequest,
} from './admin';
import type {
  GetStatementRequest,
  ListMetricsRequest,
  ListMetricsResponse,
  ListStatementsRequest,
  ListStatementsResponse,
  RunBillDayRequest,
  StatementView,
  SubscribeAlertsRequest,
  SubscribeAlertsResponse,
} from './books';
import type { ExceptionView, OrderView } from './shapes';

export * from './errors';
export * from './shapes';
export * from './login';
export * from './catalog';
export * from './orders';
export * from './payment';
export * from './admin';
export * from './books';
export * from './client-log';

/**
 * Every action of every callable function, `'<function>.<action>'` (`login`: the function alone, which takes no action),
 * by function: what it takes and what it answers. A request is what the action takes besides its name: the function
 * gets `{ action, ...request }` (login: the request alone), its `byAction` routes on `action`, and its parser answers
 * the request type. The client's `callApi(key, request)` adds the action from the key.
 */
export interface Actions {
  login: { request: LoginRequest; response: LoginResponse };

  'catalog.list': { request: CatalogListRequest; response: CatalogListResponse };

  'orders.confirm': { request: ConfirmOrderRequest; response: OrderView };
  'orders.get': { request: GetOrderRequest; response: OrderView };
  'orders.list': { request: ListOrdersRequest; response: ListOrdersResponse };
  'orders.cancel': { request: CancelOrderRequest; response: OrderView };
  'orders.requestRefund': { request: RequestRefundRequest; response: OrderView };

  'payment.pay': { request: PayRequest; response: PayResponse };
  'payment.confirm': { request: ConfirmPaymentRequest; response: OrderView };
  'payment.subscribe': { request: SubscribePaidRequest; response: SubscribePaidResponse };

  'admin.refund': { request: AdminRefundRequest; response: OrderView };
  'admin.listExceptions': { request: ListExceptionsRequest; response: ListExceptionsResponse };
  'admin.getException': { request: GetExceptionRequest; response: ExceptionView };
  'admin.resolveException': { request: ResolveExceptionRequest; response: ExceptionView };
  'admin.acceptReview': { request: AcceptReviewRequest; response: OrderView };
  'admin.refundReview': { request: RefundReviewRequest; response: OrderView };
  'admin.applyAbnormalRefund': { request: ApplyAbnormalRefundRequest; response: ExceptionView };
  'admin.markAbnormalHandled': { request: MarkAbnormalHandledRequest; response: ExceptionView };
  'admin.searchOrders': { request: SearchOrdersRequest; response: SearchOrdersResponse };
  'admin.getOrder': { request: AdminGetOrderRequest; response: AdminOrderView };
  'admin.getStatement': { request: GetStatementRequest; response: StatementView };
  'admin.listStatements': { request: ListStatementsRequest; response: ListStatementsResponse };
  'admin.runBillDay': { request: RunBillDayRequest; response: StatementView };
  'admin.listMetrics': { request: ListMetricsRequest; response: ListMetricsResponse };
  'admin.subscribeAlerts': { request: SubscribeAlertsRequest; response: SubscribeAlertsResponse };

  'merchants.save': { request: SaveMerchantRequest; response: MerchantView };
  'merchants.list': { request: ListMerchantsRequest; response: ListMerchantsResponse };

  'clientLog.report': { request: ClientLogRequest; response: ClientLogResponse };
}
