/** What the mini-program sees of an order and its refunds (typings/api/shapes.ts), derived from the stored records. */
import type { AfterSaleView, FulfilmentView, OrderView, RefundView } from '../../../typings/api';
import type { Deps } from './deps';
import type { AfterSaleRecord, FulfilmentRecord, OrderDoc, RefundDoc } from './records';
import { userRefundAllowed } from './refund-policy';

export function toView(
  order: OrderDoc,
  deps: Pick<Deps, 'clock' | 'config' | 'wxOrder'>,
  refunds: RefundDoc[] = [],
): OrderView {
  const now = deps.clock();
  const mchid = deps.wxOrder?.mchid;
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
    ...(order.fulfilment && order.paidAt !== undefined
      ? { fulfilment: toFulfilmentView(order.fulfilment, { audience: 'buyer', order, ...(mchid ? { mchid } : {}) }) }
      : {}),
    ...(order.afterSale ? { afterSale: toAfterSaleView(order.afterSale) } : {}),
    can: {
      pay: order.status === 'pending_payment' && now < order.expiresAt,
      cancel: order.status === 'pending_payment',
      requestRefund: userRefundAllowed(order, deps),
      confirmReceipt: order.fulfilment?.state === 'shipped',
      requestAfterSale: afterSaleAllowed(order),
    },
  };
}

/** After the order was taken the buyer no longer refunds alone: they may ask, once, while money is left to refund. */
export function afterSaleAllowed(order: OrderDoc): boolean {
  const state = order.fulfilment?.state;
  if (!state || state === 'awaiting' || state === 'unfulfillable') return false;
  return (
    !order.afterSale && order.refundableFen > 0 && (order.status === 'paid' || order.status === 'partially_refunded')
  );
}

/**
 * The fulfilment as the buyer or a staff member sees it. Only the buyer sees the pickup code (they show it at the
 * counter) and the full phone of the address; staff see it masked. WeChat's confirm-receipt component is offered for
 * shipped orders whose shipping information was uploaded to a managed mini-program.
 */
export function toFulfilmentView(
  f: FulfilmentRecord,
  options: { audience: 'buyer' | 'staff' | 'admin'; order: OrderDoc; mchid?: string },
): FulfilmentView {
  const { audience, order } = options;
  const mask = (phone: string) => (phone.length >= 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : '****');
  const address =
    f.address && audience === 'staff' ? { ...f.address, telNumber: mask(f.address.telNumber) } : f.address;
  const uploaded = order.wxShipping?.status === 'uploaded';
  return {
    kind: f.kind,
    state: f.state,
    at: f.at,
    ...(f.pickupCode && audience !== 'staff' && f.state === 'ready' ? { pickupCode: f.pickupCode } : {}),
    ...(f.shipping ? { shipping: f.shipping } : {}),
    ...(f.staffName ? { staffName: f.staffName } : {}),
    ...(address ? { address } : {}),
    ...(f.receivedBy ? { receivedBy: f.receivedBy } : {}),
    steps: f.steps.map((s) => ({ state: s.state, at: s.at, ...(s.by ? { by: s.by } : {}) })),
    ...(f.state === 'shipped' && uploaded && options.mchid && order.paidOutTradeNo
      ? {
          receiptComponent: {
            merchantId: options.mchid,
            merchantTradeNo: order.paidOutTradeNo,
            ...(order.transactionId ? { transactionId: order.transactionId } : {}),
          },
        }
      : {}),
  };
}

export function toAfterSaleView(a: AfterSaleRecord): AfterSaleView {
  return {
    status: a.status,
    reason: a.reason,
    ...(a.photos?.length ? { photos: a.photos } : {}),
    ...(a.amountFen !== undefined ? { amountFen: a.amountFen } : {}),
    ...(a.decisionNote ? { decisionNote: a.decisionNote } : {}),
    at: a.at,
    ...(a.decidedAt !== undefined ? { decidedAt: a.decidedAt } : {}),
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
