/** admin: refunds, the exception queue, review orders, abnormal refunds, order search, bill statements and metrics (callers listed in ADMIN_OPENIDS; in partner mode a sub-merchant admin: its own orders). */
import {
  acceptReview,
  adminRefund,
  applyAbnormalRefund,
  getException,
  listExceptions,
  markAbnormalHandled,
  refundReview,
  resolveExceptionAction,
} from '../common/domain/admin/admin';
import { adminGetOrder, searchOrders } from '../common/domain/admin/orders';
import {
  getStatementAction,
  listMetrics,
  listStatements,
  runBillDayAction,
  subscribeAlerts,
} from '../common/domain/books/admin';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(
  cloudRuntime('admin'),
  byAction<unknown>({
    refund: adminRefund,
    listExceptions,
    getException,
    resolveException: resolveExceptionAction,
    acceptReview,
    refundReview,
    applyAbnormalRefund,
    markAbnormalHandled,
    searchOrders,
    getOrder: adminGetOrder,
    getStatement: getStatementAction,
    listStatements,
    runBillDay: runBillDayAction,
    listMetrics,
    subscribeAlerts,
  }),
);
