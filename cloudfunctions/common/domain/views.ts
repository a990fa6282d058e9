/** What the mini-program sees of an order and its refunds (typings/api/shapes.ts), derived from the stored records. */
import type { OrderView, RefundView } from '../../../typings/api';
import type { Deps } from './deps';
import type { OrderDoc, RefundDoc } from './records';
import { userRefundAllowed } from './refund-policy';

export function toView(order: OrderDoc, deps: Pick<Deps, 'clock' | 'config'>, refunds: RefundDoc[] = []): OrderView {
  const now = deps.clock();
  return {
    id: order._id,
    status: order.status,
    items: order.items,
    totalFen: order.totalFen,
    paidFen: order.paidFen,
    refundedFen: order.refundedFen,
    refundableFen: order.refundableFen,
    contact: order.contact,
    remark: order.remark,
    createdAt: order.createdAt,
    expiresAt: order.expiresAt,
    ...(order.paidAt !== undefined ? { paidAt: order.paidAt } : {}),
    ...(order.serviceStartsAt !== undefined ? { serviceStartsAt: order.serviceStartsAt } : {}),
    timeline: order.timeline,
    refunds: refunds.map(toRefundView),
    can: {
      pay: order.status === 'pending_payment' && now < order.expiresAt,
      cancel: order.status === 'pending_payment',
      requestRefund: userRefundAllowed(order, deps),
      confirmReceipt: false,
      requestAfterSale: false,
    },
  };
}

export function toRefundView(refund: RefundDoc): RefundView {
  return {
    outRefundNo: refund._id,
    amountFen: refund.amountFen,
    reason: refund.reason,
    status: refund.status,
    requestedBy: refund.requestedBy,
    createdAt: refund.createdAt,
    ...(refund.settledAt !== undefined ? { settledAt: refund.settledAt } : {}),
  };
}
