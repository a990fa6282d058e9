/**
 * Refunds. Each one first reserves its amount with a compare-and-set on the order's refundable balance (so
 * concurrent requests can never refund more than was paid), under a stable out_refund_no derived from the client's
 * request id (so a retried call is the same refund at WeChat Pay). It settles on the refund notification or a
 * query: SUCCESS consumes the reservation, ABNORMAL and CLOSED release it. Each settlement is applied to the order
 * once, keyed by out_refund_no in the order's reservations.
 */
import { createHash } from 'node:crypto';
import type { OrderStatus, OrderView, RefundStatus } from '../../../typings/api';
import { WechatPayApiError, type Refund, type RefundStatus as WxRefundStatus } from '../wechatpay';
import { COLLECTIONS } from '../store/store';
import type { Caller, Deps } from './deps';
import { DomainError } from './errors';
import { entry, loadOwnedOrder, readOrderId, refundsOf, requireCaller, toView, userRefundAllowed, type OrderDoc } from './orders';
import { providerError } from './payments';
import { asObject, ID_PATTERN, onlyKeys, readInt, readString } from './validate';

export interface RefundDoc {
  _id: string; // out_refund_no
  orderId: string;
  outTradeNo: string;
  openid: string;
  amountFen: number;
  totalFen: number;
  reason: string;
  requestedBy: 'user' | 'admin';
  requestedByOpenid: string;
  status: RefundStatus;
  refundId?: string;
  error?: string;
  createdAt: number;
  updatedAt: number;
  settledAt?: number;
}

const REFUNDABLE_STATES: OrderStatus[] = ['paid', 'refunding', 'partially_refunded'];
export const REFUND_STATUS_FROM_WECHAT: Record<WxRefundStatus, RefundStatus> = { PROCESSING: 'processing', SUCCESS: 'success', ABNORMAL: 'abnormal', CLOSED: 'closed' };

export function outRefundNoFor(orderId: string, requestId: string): string {
  return `${orderId}R${createHash('sha256').update(requestId).digest('hex').slice(0, 10).toUpperCase()}`;
}

/** A user cancels a paid order: a full refund, allowed until the configured time before the service starts. */
export async function requestRefund(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId', 'reason', 'requestId']);
  const orderId = readOrderId(obj);
  const reason = readString(obj, 'reason', { max: 80 });
  const requestId = readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN });
  const order = await loadOwnedOrder(deps, openid, orderId);
  const outRefundNo = outRefundNoFor(order._id, requestId);
  const known = order.refundReservations?.[outRefundNo];
  if (!known && !userRefundAllowed(order, deps)) {
    throw new DomainError('FAILED_PRECONDITION', order.status === 'paid' ? '已过可退款时间' : '当前订单状态不能申请退款');
  }
  await createRefund(deps, order, { outRefundNo, amountFen: known?.amountFen ?? order.paidFen, reason, requestedBy: 'user', requestedByOpenid: openid });
  return viewOf(deps, order._id);
}

/** An admin refunds any order, fully or in part. */
export async function adminRefund(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  if (!deps.config.adminOpenids.has(openid)) throw new DomainError('FORBIDDEN', '没有退款权限');
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId', 'amountFen', 'reason', 'requestId']);
  const orderId = readOrderId(obj);
  const amountFen = readInt(obj, 'amountFen', { min: 1, max: 100_000_000 })!;
  const reason = readString(obj, 'reason', { max: 80 });
  const requestId = readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN });
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  if (!order) throw new DomainError('NOT_FOUND', '订单不存在');
  await createRefund(deps, order, { outRefundNo: outRefundNoFor(order._id, requestId), amountFen, reason, requestedBy: 'admin', requestedByOpenid: openid });
  return viewOf(deps, order._id);
}

async function viewOf(deps: Deps, orderId: string): Promise<OrderView> {
  const order = (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId))!;
  return toView(order, deps, await refundsOf(deps, orderId));
}

interface RefundInput {
  outRefundNo: string;
  amountFen: number;
  reason: string;
  requestedBy: 'user' | 'admin';
  requestedByOpenid: string;
}

export async function createRefund(deps: Deps, order: OrderDoc, input: RefundInput): Promise<RefundDoc> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  if (!order.paidOutTradeNo || order.paidFen <= 0) throw new DomainError('FAILED_PRECONDITION', '订单未支付，不能退款');
  let refund: RefundDoc = {
    _id: input.outRefundNo,
    orderId: order._id,
    outTradeNo: order.paidOutTradeNo,
    openid: order.openid,
    amountFen: input.amountFen,
    totalFen: order.paidFen,
    reason: input.reason,
    requestedBy: input.requestedBy,
    requestedByOpenid: input.requestedByOpenid,
    status: 'reserving',
    createdAt: now,
    updatedAt: now,
  };
  if ((await store.insert(COLLECTIONS.refunds, refund)) === 'exists') {
    const existing = (await store.getById<RefundDoc>(COLLECTIONS.refunds, input.outRefundNo))!;
    if (existing.orderId !== order._id || existing.amountFen !== input.amountFen) throw new DomainError('CONFLICT', 'requestId was already used for a different refund');
    refund = existing;
  }
  if (refund.status !== 'reserving') return refund; // a retry of a refund already submitted

  const key = `refundReservations.${refund._id}`;
  const reserved = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id, status: _.in(REFUNDABLE_STATES), refundableFen: _.gte(refund.amountFen), [key]: _.exists(false) },
    {
      refundableFen: _.inc(-refund.amountFen),
      status: 'refunding',
      refundReservations: { [refund._id]: { amountFen: refund.amountFen, state: 'reserved' } },
      updatedAt: now,
      timeline: _.push([entry(now, 'refund_requested', `${refund.amountFen}`)]),
    },
  );
  if (!reserved) {
    const current = (await store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
    if (current.refundReservations?.[refund._id]?.state !== 'reserved') {
      await store.updateWhere(COLLECTIONS.refunds, { _id: refund._id, status: 'reserving' }, { status: 'failed', error: 'not enough refundable', updatedAt: now });
      throw new DomainError('CONFLICT', `可退金额不足（剩余 ${current.refundableFen} 分）`);
    }
  }
  await submitRefund(deps, refund);
  return (await store.getById<RefundDoc>(COLLECTIONS.refunds, refund._id))!;
}

/** Sends a reserved refund to WeChat Pay (again, after a crash or an unknown outcome: same out_refund_no). */
export async function submitRefund(deps: Deps, refund: RefundDoc): Promise<void> {
  let answer: Refund;
  try {
    answer = await deps.pay.client.createRefund({
      out_trade_no: refund.outTradeNo,
      out_refund_no: refund._id,
      reason: refund.reason,
      notify_url: deps.pay.config.refundNotifyUrl,
      amount: { refund: refund.amountFen, total: refund.totalFen, currency: 'CNY' },
    });
  } catch (error) {
    if (error instanceof WechatPayApiError && error.status >= 400 && error.status < 500) {
      // refused for good (for example NOT_ENOUGH): give the reservation back
      await applyRefundOutcome(deps, refund._id, 'failed', { error: `${error.code}: ${error.message}` });
    }
    // otherwise the outcome is unknown: stay 'reserving'; a retry or reconcile submits the same out_refund_no
    throw providerError(error);
  }
  await applyRefundOutcome(deps, refund._id, REFUND_STATUS_FROM_WECHAT[answer.status], { refundId: answer.refund_id });
}

export type RefundVerdict = 'settled' | 'duplicate' | 'unknown_refund' | 'processing';

/**
 * Moves a refund to `to` and applies it to its order exactly once. Safe to call again with the same outcome
 * (duplicate notification, notification after a query): the refund's CAS and the order's per-refund state both
 * refuse a second application.
 */
export async function applyRefundOutcome(
  deps: Deps,
  outRefundNo: string,
  to: RefundStatus,
  extra: { refundId?: string; error?: string; successTime?: string } = {},
): Promise<RefundVerdict> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const refund = await store.getById<RefundDoc>(COLLECTIONS.refunds, outRefundNo);
  if (!refund) return 'unknown_refund';
  if (to === 'processing' || to === 'reserving') {
    const moved = await store.updateWhere(COLLECTIONS.refunds, { _id: outRefundNo, status: 'reserving' }, {
      status: 'processing',
      ...(extra.refundId ? { refundId: extra.refundId } : {}),
      updatedAt: now,
    });
    return moved ? 'processing' : 'duplicate';
  }
  const settledAt = extra.successTime ? Date.parse(extra.successTime) : now;
  const moved = await store.updateWhere(COLLECTIONS.refunds, { _id: outRefundNo, status: _.in(['reserving', 'processing']) }, {
    status: to,
    settledAt,
    updatedAt: now,
    ...(extra.refundId ? { refundId: extra.refundId } : {}),
    ...(extra.error ? { error: extra.error } : {}),
  });
  const final = moved ? to : refund.status;
  if (final === 'reserving' || final === 'processing') return 'duplicate';
  const key = `refundReservations.${outRefundNo}.state`;
  const applied =
    final === 'success'
      ? await store.updateWhere(COLLECTIONS.orders, { _id: refund.orderId, [key]: 'reserved' }, {
          refundedFen: _.inc(refund.amountFen),
          refundReservations: { [outRefundNo]: { state: 'settled' } },
          updatedAt: now,
          timeline: _.push([entry(now, 'refund_succeeded', `${refund.amountFen}`)]),
        })
      : await store.updateWhere(COLLECTIONS.orders, { _id: refund.orderId, [key]: 'reserved' }, {
          refundableFen: _.inc(refund.amountFen),
          refundReservations: { [outRefundNo]: { state: 'released' } },
          updatedAt: now,
          timeline: _.push([entry(now, 'refund_failed', final)]),
        });
  if (applied) await recomputeRefundState(deps, refund.orderId);
  return moved || applied ? 'settled' : 'duplicate';
}

export function refundStateOf(order: Pick<OrderDoc, 'paidFen' | 'refundableFen' | 'refundedFen'>): OrderStatus {
  const pending = order.paidFen - order.refundableFen - order.refundedFen;
  if (pending > 0) return 'refunding';
  if (order.refundedFen === 0) return 'paid';
  return order.refundedFen >= order.paidFen ? 'refunded' : 'partially_refunded';
}

/** The order's status follows its counters; a CAS on the counters read keeps concurrent settlements consistent. */
async function recomputeRefundState(deps: Deps, orderId: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
    if (!order || !['paid', 'refunding', 'partially_refunded', 'refunded'].includes(order.status)) return;
    const status = refundStateOf(order);
    if (status === order.status) return;
    const done = await deps.store.updateWhere(
      COLLECTIONS.orders,
      { _id: orderId, status: order.status, refundableFen: order.refundableFen, refundedFen: order.refundedFen },
      { status, updatedAt: deps.clock() },
    );
    if (done) return;
  }
}

/** Asks WeChat Pay about one refund and applies the answer; resubmits a reservation WeChat Pay never received. */
export async function settleRefundByQuery(deps: Deps, refund: RefundDoc): Promise<RefundVerdict | 'resubmitted'> {
  let answer: Refund;
  try {
    answer = await deps.pay.client.queryRefund(refund._id);
  } catch (error) {
    if (error instanceof WechatPayApiError && error.status === 404 && refund.status === 'reserving') {
      await submitRefund(deps, refund);
      return 'resubmitted';
    }
    throw providerError(error);
  }
  return applyRefundOutcome(deps, refund._id, REFUND_STATUS_FROM_WECHAT[answer.status], { refundId: answer.refund_id, ...(answer.success_time ? { successTime: answer.success_time } : {}) });
}
