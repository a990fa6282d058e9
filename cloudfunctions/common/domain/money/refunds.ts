/**
 * Refunds, moved only through the refund table (refund-table.ts).
 *
 * Creating one: the amount is reserved on the order first (compare-and-set on its refundable balance, so concurrent
 * requests can never refund more than was paid; the reservation keeps the intent), then the refund is recorded under
 * a stable out_refund_no derived from the client's request id (a retry is the same refund at WeChat Pay), then it is
 * submitted through the payment's one-minute gate. Every answer is taken by its documented meaning: accepted, unknown
 * (query before anything), retry later (NOT_ENOUGH: the same out_refund_no again), refused (released). Settling from a
 * notification or a query is `moveRefund`, which applies the table's reservation effect to the order exactly once.
 */
import { createHash } from 'node:crypto';
import type { OrderStatus, OrderView, RequestRefundRequest } from '../../../../typings/api';
import { WechatPayApiError, type Refund } from '../../wechatpay';
import { COLLECTIONS } from '../../store/store';
import { entry, loadOwnedOrder, refundsOf, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError } from '../errors';
import { refundMerchant, subMerchantOf } from '../merchants';
import { exceptionId, openException, resolveException } from '../attention/exceptions';
import { isNotFound, providerError } from '../provider-errors';
import { REFUNDABLE_ORDER_STATES, type OrderDoc, type RefundDoc, type RefundKind } from '../records';
import {
  MAX_REFUNDS_PER_PAYMENT,
  REFUND_GAP_MS,
  USER_REFUNDABLE_FULFILMENT,
  userRefundAllowed,
} from '../refund-policy';
import {
  classifyRefundError,
  REFUND_STATE_FROM_WECHAT,
  refundBackoffMs,
  reservationEffect,
  sourcesOf,
  type RefundState,
  type SubmitVerdict,
} from './refund-table';
import { asObject, ID_PATTERN, onlyKeys, readOrderId, readString } from '../validate';
import { toView } from '../views';

export function outRefundNoFor(orderId: string, requestId: string): string {
  return `${orderId}R${createHash('sha256').update(requestId).digest('hex').slice(0, 10).toUpperCase()}`;
}

/** The one refund a duplicate charge gets: derived from its out_trade_no, so it can never be made twice. */
export const duplicateChargeRefundNo = (outTradeNo: string) => `${outTradeNo}-DUP`;

// ---- asking for a refund ----------------------------------------------------------------------------------------

/** A user cancels a paid order: a full refund, allowed until the configured time before the service starts. */
export async function requestRefund(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId', 'reason', 'requestId']);
  const { orderId, reason, requestId }: RequestRefundRequest = {
    orderId: readOrderId(obj),
    reason: readString(obj, 'reason', { max: 80 }),
    requestId: readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN }),
  };
  const order = await loadOwnedOrder(deps, openid, orderId);
  const outRefundNo = outRefundNoFor(order._id, requestId);
  const known = order.refundReservations?.[outRefundNo];
  if (!known && !userRefundAllowed(order, deps)) {
    throw new DomainError(
      'FAILED_PRECONDITION',
      order.status !== 'paid'
        ? '当前订单状态不能申请退款'
        : order.fulfilment && order.fulfilment.state !== USER_REFUNDABLE_FULFILMENT
          ? '订单已被接单，请申请售后'
          : '已过可退款时间',
    );
  }
  await createOrderRefund(deps, order, {
    outRefundNo,
    amountFen: known?.amountFen ?? order.paidFen,
    reason,
    requestedBy: 'user',
    requestedByOpenid: openid,
  });
  return orderViewWithRefunds(deps, order._id);
}

export async function orderViewWithRefunds(deps: Deps, orderId: string): Promise<OrderView> {
  const order = (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId))!;
  return toView(order, deps, await refundsOf(deps, orderId));
}

export interface RefundInput {
  outRefundNo: string;
  amountFen: number;
  reason: string;
  requestedBy: 'user' | 'admin';
  requestedByOpenid: string;
}

/** Reserves, records and submits a refund against the order's balance. Safe to call again with the same input. */
export async function createOrderRefund(deps: Deps, order: OrderDoc, input: RefundInput): Promise<RefundDoc> {
  const { store } = deps;
  const _ = store.command;
  if (!order.paidOutTradeNo || order.paidFen <= 0) throw new DomainError('FAILED_PRECONDITION', '订单未支付，不能退款');
  const sameIntent = 'requestId was already used for a different refund';
  let reservation = order.refundReservations?.[input.outRefundNo];
  if (reservation && reservation.amountFen !== input.amountFen) throw new DomainError('CONFLICT', sameIntent);
  if (!reservation) {
    const live = Object.values(order.refundReservations ?? {}).filter((r) => r.state !== 'released').length;
    if (live >= MAX_REFUNDS_PER_PAYMENT)
      throw new DomainError('FAILED_PRECONDITION', `每笔支付最多退款 ${MAX_REFUNDS_PER_PAYMENT} 次`);
    const now = deps.clock();
    const reserved = await store.updateWhere(
      COLLECTIONS.orders,
      {
        _id: order._id,
        status: _.in([...REFUNDABLE_ORDER_STATES]),
        refundableFen: _.gte(input.amountFen),
        [`refundReservations.${input.outRefundNo}`]: _.exists(false),
        // a user refund holds only while nobody took the order: decided against an acceptance by this one write
        ...(input.requestedBy === 'user'
          ? order.fulfilment
            ? { 'fulfilment.state': USER_REFUNDABLE_FULFILMENT }
            : { fulfilment: _.exists(false) }
          : {}),
      },
      {
        refundableFen: _.inc(-input.amountFen),
        status: 'refunding',
        refundReservations: {
          [input.outRefundNo]: {
            amountFen: input.amountFen,
            state: 'reserved',
            reason: input.reason,
            requestedBy: input.requestedBy,
            requestedByOpenid: input.requestedByOpenid,
            at: now,
          },
        },
        nextCheckAt: now + deps.config.reconcileStuckMinutes * 60_000,
        updatedAt: now,
        timeline: _.push([entry(now, 'refund_requested', `${input.amountFen}`)]),
      },
    );
    if (!reserved) {
      const current = (await store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
      reservation = current.refundReservations?.[input.outRefundNo];
      if (!reservation) {
        if (!REFUNDABLE_ORDER_STATES.includes(current.status))
          throw new DomainError('FAILED_PRECONDITION', '当前订单状态不能退款');
        if (
          input.requestedBy === 'user' &&
          current.fulfilment &&
          current.fulfilment.state !== USER_REFUNDABLE_FULFILMENT
        )
          throw new DomainError('FAILED_PRECONDITION', '订单已被接单，请申请售后');
        throw new DomainError('CONFLICT', `可退金额不足（剩余 ${current.refundableFen} 分）`);
      }
      if (reservation.amountFen !== input.amountFen) throw new DomainError('CONFLICT', sameIntent);
    }
  }
  const refund = await recordRefund(deps, {
    _id: input.outRefundNo,
    kind: 'order',
    orderId: order._id,
    outTradeNo: order.paidOutTradeNo,
    openid: order.openid,
    ...refundMerchant(order),
    amountFen: input.amountFen,
    totalFen: order.paidFen,
    reason: input.reason,
    requestedBy: input.requestedBy,
    requestedByOpenid: input.requestedByOpenid,
  });
  if (refund.orderId !== order._id || refund.amountFen !== input.amountFen)
    throw new DomainError('CONFLICT', sameIntent);
  if (refund.status === 'queued') await submitRefund(deps, refund);
  return (await store.getById<RefundDoc>(COLLECTIONS.refunds, refund._id))!;
}

type NewRefund = Pick<
  RefundDoc,
  | '_id'
  | 'kind'
  | 'orderId'
  | 'outTradeNo'
  | 'openid'
  | 'subMchid'
  | 'amountFen'
  | 'totalFen'
  | 'reason'
  | 'requestedBy'
  | 'requestedByOpenid'
>;

/** Writes the refund document (queued), or returns the one a previous call wrote. */
export async function recordRefund(deps: Deps, fields: NewRefund): Promise<RefundDoc> {
  const now = deps.clock();
  const refund: RefundDoc = {
    ...fields,
    status: 'queued',
    nextAttemptAt: now,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
  if ((await deps.store.insert(COLLECTIONS.refunds, refund)) === 'created') return refund;
  return (await deps.store.getById<RefundDoc>(COLLECTIONS.refunds, fields._id))!;
}

/** A whole payment the order never used (a second successful payment): refunded in full, once. */
export async function refundDuplicateCharge(
  deps: Deps,
  payment: { _id: string; orderId: string; openid: string; subMchid?: string },
  totalFen: number,
): Promise<RefundDoc> {
  const refund = await recordRefund(deps, {
    _id: duplicateChargeRefundNo(payment._id),
    kind: 'duplicate_charge' satisfies RefundKind,
    orderId: payment.orderId,
    outTradeNo: payment._id,
    openid: payment.openid,
    ...refundMerchant(payment),
    amountFen: totalFen,
    totalFen,
    reason: '重复支付，自动退款',
    requestedBy: 'system',
    requestedByOpenid: '',
  });
  if (refund.status === 'queued') await submitRefund(deps, refund);
  return refund;
}

// ---- submitting -------------------------------------------------------------------------------------------------

/**
 * Sends a queued refund to WeChat Pay with its own out_refund_no (again, after NOT_ENOUGH or a query that found
 * nothing: same number, never a new one), no sooner than a minute after the payment's previous submission.
 * Never throws for WeChat Pay's answers: the refund's state says what happened.
 */
export async function submitRefund(deps: Deps, refund: RefundDoc): Promise<RefundState> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const gateOpen = await store.updateWhere(
    COLLECTIONS.payments,
    { _id: refund.outTradeNo, refundGateAt: _.lte(now) },
    { refundGateAt: now + REFUND_GAP_MS },
  );
  if (!gateOpen) {
    await reschedule(
      deps,
      refund,
      'queued',
      now + REFUND_GAP_MS,
      'waiting for the one-minute gate between refunds of one payment',
    );
    return 'queued';
  }
  let verdict: SubmitVerdict;
  try {
    const answer: Refund = await deps.pay.client.createRefund(
      {
        out_trade_no: refund.outTradeNo,
        out_refund_no: refund._id,
        reason: refund.reason,
        notify_url: deps.pay.config.refundNotifyUrl,
        amount: { refund: refund.amountFen, total: refund.totalFen, currency: 'CNY' },
      },
      subMerchantOf(deps, refund),
    );
    verdict = { kind: 'accepted', status: answer.status, refundId: answer.refund_id };
  } catch (error) {
    // an API error by its documented meaning; anything else (network, timeout, an answer that fails verification)
    // leaves the outcome unknown
    verdict =
      error instanceof WechatPayApiError
        ? classifyRefundError(error.status, error.code)
        : { kind: 'unknown', reason: (error as Error).message };
  }
  switch (verdict.kind) {
    case 'accepted':
      await moveRefund(deps, refund._id, REFUND_STATE_FROM_WECHAT[verdict.status], { refundId: verdict.refundId });
      return REFUND_STATE_FROM_WECHAT[verdict.status];
    case 'unknown':
      await moveRefund(deps, refund._id, 'unknown', { error: verdict.reason });
      return 'unknown';
    case 'retry_later':
      await reschedule(deps, refund, 'queued', undefined, verdict.reason);
      return 'queued';
    case 'refused':
      await moveRefund(deps, refund._id, 'failed', { error: verdict.reason });
      await openException(deps, {
        kind: 'refund_refused',
        key: refund._id,
        orderId: refund.orderId,
        outTradeNo: refund.outTradeNo,
        outRefundNo: refund._id,
        expectedFen: refund.amountFen,
        detail: `WeChat Pay refused the refund: ${verdict.reason}`,
      });
      return 'failed';
  }
}

/** Leaves the refund in `state` and puts it behind the others: reconcile looks at it again later. */
async function reschedule(
  deps: Deps,
  refund: RefundDoc,
  state: RefundState,
  at?: number,
  error?: string,
): Promise<void> {
  const now = deps.clock();
  await deps.store.updateWhere(
    COLLECTIONS.refunds,
    { _id: refund._id, status: state },
    {
      nextAttemptAt: at ?? now + refundBackoffMs(state, refund.attempts),
      attempts: deps.store.command.inc(1),
      updatedAt: now,
      ...(error ? { error } : {}),
    },
  );
}

// ---- settling ---------------------------------------------------------------------------------------------------

export type RefundVerdict = 'settled' | 'moved' | 'duplicate' | 'unknown_refund';

/** When reconcile should first look at a refund that has just moved to `to`. */
function firstLookAt(to: RefundState, now: number): number {
  if (to === 'queued') return now;
  if (to === 'abnormal') return now + 3600_000;
  return now + 60_000;
}

/**
 * Moves a refund to `to` if the table allows it from its current state, then applies the move's reservation effect
 * to the order. Safe to repeat: the refund's compare-and-set and the reservation's own state each refuse a second
 * application, and a repeat completes an application a crash interrupted.
 */
export async function moveRefund(
  deps: Deps,
  outRefundNo: string,
  to: RefundState,
  extra: { refundId?: string; error?: string; successTime?: string } = {},
): Promise<RefundVerdict> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const refund = await store.getById<RefundDoc>(COLLECTIONS.refunds, outRefundNo);
  if (!refund) return 'unknown_refund';
  const final = to === 'success' || to === 'closed' || to === 'failed';
  const moved = await store.updateWhere(
    COLLECTIONS.refunds,
    { _id: outRefundNo, status: _.in(sourcesOf(to)) },
    {
      status: to,
      updatedAt: now,
      nextAttemptAt: firstLookAt(to, now),
      attempts: 0,
      ...(final ? { settledAt: to === 'success' && extra.successTime ? Date.parse(extra.successTime) : now } : {}),
      ...(to === 'abnormal' ? { abnormalAt: now } : {}),
      ...(extra.refundId ? { refundId: extra.refundId } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    },
  );
  // the state the refund is in now, as far as this move is concerned: a repeat of the same move completes it
  if (!moved && refund.status !== to) return 'duplicate';
  if (to === 'abnormal' && moved) {
    await openException(deps, {
      kind: 'abnormal_refund',
      key: outRefundNo,
      orderId: refund.orderId,
      outTradeNo: refund.outTradeNo,
      outRefundNo,
      expectedFen: refund.amountFen,
      detail:
        'WeChat Pay could not pay the refund into the user’s account: apply-abnormal-refund or handle it in the merchant platform',
    });
  }
  if (to === 'success' && moved && (refund.abnormalAt !== undefined || refund.status === 'abnormal')) {
    await resolveException(deps, exceptionId('abnormal_refund', outRefundNo), 'system', {
      action: 'refund_succeeded',
      note: 'WeChat Pay reported the refund successful',
    });
  }
  if (refund.kind === 'duplicate_charge') {
    if (to === 'success')
      await resolveException(deps, exceptionId('duplicate_charge', refund.outTradeNo), 'system', {
        action: 'refund_succeeded',
        note: 'the duplicate charge was refunded',
      });
    return moved ? (final ? 'settled' : 'moved') : 'duplicate';
  }
  const effect = reservationEffect(to);
  const applied = effect === 'keep' ? false : await applyToOrder(deps, refund, effect);
  if (applied) await recomputeRefundState(deps, refund.orderId);
  if (moved || applied) return final ? 'settled' : 'moved';
  return 'duplicate';
}

/** The reservation's effect on the order, once per refund (keyed by the reservation's own state). */
async function applyToOrder(deps: Deps, refund: RefundDoc, effect: 'consume' | 'release'): Promise<boolean> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const key = `refundReservations.${refund._id}.state`;
  if (effect === 'release') {
    return (
      (await store.updateWhere(
        COLLECTIONS.orders,
        { _id: refund.orderId, [key]: 'reserved' },
        {
          refundableFen: _.inc(refund.amountFen),
          refundReservations: { [refund._id]: { state: 'released' } },
          updatedAt: now,
          timeline: _.push([entry(now, 'refund_failed', refund._id)]),
        },
      )) > 0
    );
  }
  const consumed = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: refund.orderId, [key]: 'reserved' },
    {
      refundedFen: _.inc(refund.amountFen),
      refundReservations: { [refund._id]: { state: 'settled' } },
      updatedAt: now,
      timeline: _.push([entry(now, 'refund_succeeded', `${refund.amountFen}`)]),
    },
  );
  if (consumed) return true;
  // a SUCCESS for a refund already released (closed or refused here, paid out by WeChat Pay all the same): apply it
  // again while the order still has the balance; otherwise a person must look
  const reapplied = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: refund.orderId, [key]: 'released', refundableFen: _.gte(refund.amountFen) },
    {
      refundableFen: _.inc(-refund.amountFen),
      refundedFen: _.inc(refund.amountFen),
      refundReservations: { [refund._id]: { state: 'settled' } },
      updatedAt: now,
      timeline: _.push([entry(now, 'refund_succeeded', `${refund.amountFen}`)]),
    },
  );
  if (reapplied) return true;
  const order = await store.getById<OrderDoc>(COLLECTIONS.orders, refund.orderId);
  if (order?.refundReservations?.[refund._id]?.state === 'settled') return false; // already applied
  const detail = `refund ${refund._id} of ${refund.amountFen} fen succeeded at WeChat Pay but the order has only ${order?.refundableFen ?? 0} fen refundable`;
  await store.updateWhere(
    COLLECTIONS.orders,
    { _id: refund.orderId },
    {
      status: 'review',
      review: { reason: 'refund_unapplied', at: now, detail },
      updatedAt: now,
      timeline: _.push([entry(now, 'review', detail)]),
    },
  );
  await openException(deps, {
    kind: 'refund_unapplied',
    key: refund._id,
    orderId: refund.orderId,
    outTradeNo: refund.outTradeNo,
    outRefundNo: refund._id,
    actualFen: refund.amountFen,
    detail,
  });
  deps.log.error('refund success could not be applied: order put in review', {
    orderId: refund.orderId,
    outRefundNo: refund._id,
  });
  return false;
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

/**
 * Reconcile's step for one open refund: a queued one is submitted; any other is queried first, and a query that finds
 * nothing (WeChat Pay never accepted it) queues it for resubmission under the same out_refund_no.
 */
export async function advanceRefund(deps: Deps, refund: RefundDoc): Promise<RefundVerdict | 'submitted' | 'unchanged'> {
  if (refund.status === 'queued') {
    const state = await submitRefund(deps, refund);
    return state === 'queued' ? 'unchanged' : 'submitted';
  }
  let answer: Refund;
  try {
    answer = await deps.pay.client.queryRefund(refund._id, subMerchantOf(deps, refund));
  } catch (error) {
    if (isNotFound(error) && refund.status === 'unknown') {
      await moveRefund(deps, refund._id, 'queued', { error: 'not found at WeChat Pay: resubmitting' });
      const queued = (await deps.store.getById<RefundDoc>(COLLECTIONS.refunds, refund._id))!;
      return queued.status === 'queued' && (await submitRefund(deps, queued)) !== 'queued' ? 'submitted' : 'unchanged';
    }
    await reschedule(deps, refund, refund.status);
    throw providerError(error);
  }
  const to = REFUND_STATE_FROM_WECHAT[answer.status];
  const verdict = await moveRefund(deps, refund._id, to, {
    refundId: answer.refund_id,
    ...(answer.success_time ? { successTime: answer.success_time } : {}),
  });
  if (verdict === 'duplicate') {
    await reschedule(deps, refund, refund.status);
    return 'unchanged';
  }
  return verdict;
}
