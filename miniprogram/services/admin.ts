/** The merchant's calls. The backend checks on every call that the caller is an admin; hiding pages is not security. */
import type {
  CorrectShippingRequest,
  DecideAfterSaleRequest,
  MarkUnfulfillableRequest,
  RefundUnfulfillableRequest,
  AdminOrderView,
  ExceptionView,
  ListExceptionsResponse,
  ListMetricsResponse,
  ListStatementsResponse,
  OrderView,
  SearchOrdersResponse,
  StatementView,
} from '../../typings/api';
import { callApi } from './api';

export const listExceptions = (
  status: 'open' | 'resolved',
  cursor: string,
  pageSize = 20,
): Promise<ListExceptionsResponse> =>
  callApi('admin.listExceptions', { status, pageSize, ...(cursor ? { cursor } : {}) });
export const getException = (id: string): Promise<ExceptionView> => callApi('admin.getException', { id });
export const resolveException = (id: string, note: string): Promise<ExceptionView> =>
  callApi('admin.resolveException', { id, note });
export const acceptReview = (orderId: string, note: string): Promise<OrderView> =>
  callApi('admin.acceptReview', { orderId, note });
export const refundReview = (orderId: string, note: string, requestId: string): Promise<OrderView> =>
  callApi('admin.refundReview', { orderId, note, requestId });
export function applyAbnormalRefund(
  outRefundNo: string,
  to:
    | { type: 'MERCHANT_BANK_CARD' }
    | { type: 'USER_BANK_CARD'; bankType: string; bankAccount: string; realName: string },
): Promise<ExceptionView> {
  return callApi('admin.applyAbnormalRefund', { outRefundNo, ...to });
}
export const markAbnormalHandled = (outRefundNo: string, note: string): Promise<ExceptionView> =>
  callApi('admin.markAbnormalHandled', { outRefundNo, note });

export const searchOrders = (query: string): Promise<SearchOrdersResponse> => callApi('admin.searchOrders', { query });
export const getAdminOrder = (orderId: string): Promise<AdminOrderView> => callApi('admin.getOrder', { orderId });
export const refundOrder = (
  orderId: string,
  amountFen: number,
  reason: string,
  requestId: string,
): Promise<OrderView> => callApi('admin.refund', { orderId, amountFen, reason, requestId });

/** `cursor`: the previous page's nextCursor, '' for the first page */
export const listStatements = (cursor: string, pageSize = 20): Promise<ListStatementsResponse> =>
  callApi('books.listStatements', { pageSize, ...(cursor ? { cursor } : {}) });
export const runBillDay = (billDate: string): Promise<StatementView> => callApi('books.runBillDay', { billDate });
export const listMetrics = (days = 30): Promise<ListMetricsResponse> => callApi('books.listMetrics', { days });

export const listStaff = () => callApi('admin.listStaff', {});
export const assignOrder = (orderId: string, staffOpenid: string) => callApi('admin.assign', { orderId, staffOpenid });
export const listAfterSales = (page = 1) =>
  callApi('admin.listAfterSales', { status: 'requested', page, pageSize: 20 });
export const decideAfterSale = (request: DecideAfterSaleRequest) => callApi('admin.decideAfterSale', request);
export const fulfilmentSummary = () => callApi('admin.fulfilmentSummary', {});
/** WeChat allows one update of an upload: the request carries the admin's confirmation that this is the last. */
export const correctShipping = (request: CorrectShippingRequest) => callApi('admin.correctShipping', request);
export const markUnfulfillable = (request: MarkUnfulfillableRequest) => callApi('admin.markUnfulfillable', request);
export const refundUnfulfillable = (request: RefundUnfulfillableRequest) =>
  callApi('admin.refundUnfulfillable', request);
