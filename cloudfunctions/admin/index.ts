/** admin: refunds, the exception queue, review orders, abnormal refunds, order search, fulfilment (callers listed in ADMIN_OPENIDS; in partner mode a sub-merchant admin: its own orders). */
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
  assignOrder,
  correctShipping,
  decideAfterSale,
  fulfilmentSummary,
  listAfterSales,
  listStaff,
  markUnfulfillable,
  refundUnfulfillable,
} from '../common/domain/admin/fulfilment';
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
    assign: assignOrder,
    listStaff,
    listAfterSales,
    decideAfterSale,
    correctShipping,
    markUnfulfillable,
    refundUnfulfillable,
    fulfilmentSummary,
  }),
);
