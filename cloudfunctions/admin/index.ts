/** admin: refunds, the exception queue, review orders, abnormal refunds, order search, bill statements and metrics, sub-merchants (callers listed in ADMIN_OPENIDS; a sub-merchant admin: its own orders, partner mode). */
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
import { listMerchants, saveMerchant } from '../common/domain/admin/merchants';
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
    saveMerchant,
    listMerchants,
  }),
);
