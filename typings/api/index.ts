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
  ConfirmReceiptRequest,
  GetOrderRequest,
  ListOrdersRequest,
  ListOrdersResponse,
  RequestAfterSaleRequest,
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
  AssignRequest,
  CorrectShippingRequest,
  DecideAfterSaleRequest,
  FulfilmentSummaryRequest,
  FulfilmentSummaryResponse,
  ListAfterSalesRequest,
  ListAfterSalesResponse,
  ListStaffRequest,
  ListStaffResponse,
  MarkUnfulfillableRequest,
  RefundUnfulfillableRequest,
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
import type {
  StaffAcceptRequest,
  StaffCompleteRequest,
  StaffDeclineRequest,
  StaffDeliveryCompaniesRequest,
  StaffDeliveryCompaniesResponse,
  StaffGetRequest,
  StaffHandOverRequest,
  StaffMeRequest,
  StaffMeResponse,
  StaffMineRequest,
  StaffMineResponse,
  StaffOrderView,
  StaffQueueRequest,
  StaffQueueResponse,
  StaffReadyRequest,
  StaffShipRequest,
  StaffStartRequest,
  StaffSubscribeRequest,
  StaffSubscribeResponse,
} from './staff';
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
export * from './fulfilment';
export * from './staff';

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
  'orders.confirmReceipt': { request: ConfirmReceiptRequest; response: OrderView };
  'orders.requestAfterSale': { request: RequestAfterSaleRequest; response: OrderView };

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
  'admin.assign': { request: AssignRequest; response: AdminOrderView };
  'admin.listStaff': { request: ListStaffRequest; response: ListStaffResponse };
  'admin.listAfterSales': { request: ListAfterSalesRequest; response: ListAfterSalesResponse };
  'admin.decideAfterSale': { request: DecideAfterSaleRequest; response: AdminOrderView };
  'admin.correctShipping': { request: CorrectShippingRequest; response: AdminOrderView };
  'admin.markUnfulfillable': { request: MarkUnfulfillableRequest; response: AdminOrderView };
  'admin.refundUnfulfillable': { request: RefundUnfulfillableRequest; response: AdminOrderView };
  'admin.fulfilmentSummary': { request: FulfilmentSummaryRequest; response: FulfilmentSummaryResponse };

  'staff.me': { request: StaffMeRequest; response: StaffMeResponse };
  'staff.queue': { request: StaffQueueRequest; response: StaffQueueResponse };
  'staff.mine': { request: StaffMineRequest; response: StaffMineResponse };
  'staff.get': { request: StaffGetRequest; response: StaffOrderView };
  'staff.accept': { request: StaffAcceptRequest; response: StaffOrderView };
  'staff.decline': { request: StaffDeclineRequest; response: StaffOrderView };
  'staff.ready': { request: StaffReadyRequest; response: StaffOrderView };
  'staff.handOver': { request: StaffHandOverRequest; response: StaffOrderView };
  'staff.ship': { request: StaffShipRequest; response: StaffOrderView };
  'staff.start': { request: StaffStartRequest; response: StaffOrderView };
  'staff.complete': { request: StaffCompleteRequest; response: StaffOrderView };
  'staff.subscribe': { request: StaffSubscribeRequest; response: StaffSubscribeResponse };
  'staff.deliveryCompanies': { request: StaffDeliveryCompaniesRequest; response: StaffDeliveryCompaniesResponse };

  'clientLog.report': { request: ClientLogRequest; response: ClientLogResponse };
}
