/**
 * The merchant's side: admin operations on orders, refunds and exceptions. Callers listed in ADMIN_OPENIDS only
 * (checked on every call; a non-admin is refused before anything is read). Every admin call is appended to the admin
 * log with its outcome; a refused one (no user, not an admin) too, counted per caller, action and 10 minutes so a flood
 * cannot fill the log. Bank details given for an abnormal refund are never logged or stored.
 */
import type {
  AcceptReviewRequest,
  AdminRefundRequest,
  ApplyAbnormalRefundRequest,
  ExceptionView,
  GetExceptionRequest,
  ListExceptionsRequest,
  ListExceptionsResponse,
  MarkAbnormalHandledRequest,
  OrderView,
  RefundReviewRequest,
  ResolveExceptionRequest,
} from '../../../../typings/api';
import { EXCEPTION_KINDS } from '../../../../typings/api';
import { WechatPayApiError } from '../../wechatpay';
import { COLLECTIONS } from '../../store/store';
import { entry } from '../access';
import type { Deps } from '../deps';
import { inScope, subMerchantOf, type AdminScope } from '../merchants';
import { adminAction } from './action';
import { DomainError } from '../errors';
import { exceptionId, resolveException, toExceptionView, type ExceptionDoc } from '../attention/exceptions';
import { providerError } from '../provider-errors';
import type { OrderDoc, PaymentDoc, RefundDoc } from '../records';
import { createOrderRefund, orderViewWithRefunds, outRefundNoFor } from '../money/refunds';
import {
  ID_PATTERN,
  onlyKeys,
  readEnum,
  readInt,
  readOrderId,
  readString,
  type Input,
  type WithDefaults,
} from '../validate';
import { findPage, readCursor } from '../paging';

const readNote = (obj: Input) => readString(obj, 'note', { max: 200 });
const readRequestId = (obj: Input) => readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN });
const EXCEPTION_ID = /^[a-z_]+:[A-Za-z0-9_\-|*@.]+$/;

/** An order the admin may see: another sub-merchant's is, to a sub-merchant admin, not found. */
export async function loadOrder(deps: Deps, orderId: string, scope: AdminScope = { all: true }): Promise<OrderDoc> {
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  if (!order || !inScope(scope, order)) throw new DomainError('NOT_FOUND', '订单不存在');
  return order;
}

async function loadException(deps: Deps, id: string): Promise<ExceptionDoc> {
  const doc = await deps.store.getById<ExceptionDoc>(COLLECTIONS.exceptions, id);
  if (!doc) throw new DomainError('NOT_FOUND', '异常记录不存在');
  return doc;
}

async function loadAbnormalRefund(deps: Deps, outRefundNo: string): Promise<RefundDoc> {
  const refund = await deps.store.getById<RefundDoc>(COLLECTIONS.refunds, outRefundNo);
  if (!refund) throw new DomainError('NOT_FOUND', '退款单不存在');
  if (refund.status !== 'abnormal') throw new DomainError('FAILED_PRECONDITION', '该退款不是异常状态');
  return refund;
}

// ---- refunds ------------------------------------------------------------------------------------------------------

export const adminRefund = adminAction<OrderView>(
  'refund',
  async (deps, admin, obj, scope) => {
    onlyKeys(obj, ['action', 'orderId', 'amountFen', 'reason', 'requestId']);
    const { orderId, amountFen, reason, requestId }: AdminRefundRequest = {
      orderId: readOrderId(obj),
      amountFen: readInt(obj, 'amountFen', { min: 1, max: 100_000_000 })!,
      reason: readString(obj, 'reason', { max: 80 }),
      requestId: readRequestId(obj),
    };
    const order = await loadOrder(deps, orderId, scope);
    const refund = await createOrderRefund(deps, order, {
      outRefundNo: outRefundNoFor(order._id, requestId),
      amountFen,
      reason,
      requestedBy: 'admin',
      requestedByOpenid: admin,
    });
    return {
      result: await orderViewWithRefunds(deps, orderId),
      target: orderId,
      note: `${refund._id} ${amountFen} fen: ${refund.status}`,
    };
  },
  { subMerchantAdmins: true },
);

// ---- exceptions ---------------------------------------------------------------------------------------------------

export const listExceptions = adminAction<ListExceptionsResponse>('listExceptions', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'status', 'kind', 'cursor', 'pageSize']);
  const { status, kind, pageSize }: WithDefaults<ListExceptionsRequest, 'pageSize'> = {
    status: readEnum(obj, 'status', ['open', 'resolved'] as const, { optional: true }),
    kind: readEnum(obj, 'kind', EXCEPTION_KINDS, { optional: true }),
    pageSize: readInt(obj, 'pageSize', { min: 1, max: 50, optional: true }) ?? 20,
  };
  const cursor = readCursor(obj);
  const where: Record<string, unknown> = {};
  if (status) where.status = status;
  if (kind) where.kind = kind;
  const { docs, nextCursor } = await findPage<ExceptionDoc & Record<string, unknown>>(
    deps.store,
    COLLECTIONS.exceptions,
    where,
    'lastSeenAt',
    pageSize,
    cursor,
  );
  return {
    result: {
      exceptions: docs.map(toExceptionView),
      hasMore: nextCursor !== undefined,
      ...(nextCursor ? { nextCursor } : {}),
    },
    target: `${status ?? '*'}/${kind ?? '*'}`,
  };
});

export const getException = adminAction<ExceptionView>('getException', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'id']);
  const { id }: GetExceptionRequest = { id: readString(obj, 'id', { max: 120, pattern: EXCEPTION_ID }) };
  return { result: toExceptionView(await loadException(deps, id)), target: id };
});

export const resolveExceptionAction = adminAction<ExceptionView>('resolveException', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'id', 'note']);
  const { id, note }: ResolveExceptionRequest = {
    id: readString(obj, 'id', { max: 120, pattern: EXCEPTION_ID }),
    note: readNote(obj),
  };
  await loadException(deps, id);
  if (!(await resolveException(deps, id, admin, { action: 'resolved', note })))
    throw new DomainError('CONFLICT', '该异常已处理');
  return { result: toExceptionView(await loadException(deps, id)), target: id, note };
});

// ---- review orders ------------------------------------------------------------------------------------------------

/**
 * A `review` order whose payment WeChat Pay took at another amount becomes paid at that amount (the order's books
 * then follow what WeChat Pay holds), and its exception is resolved. Idempotent: an order already accepted is left.
 */
async function acceptAtWechatAmount(deps: Deps, admin: string, orderId: string, note: string): Promise<OrderDoc> {
  const { store } = deps;
  const _ = store.command;
  const order = await loadOrder(deps, orderId);
  if (order.status !== 'review') return order;
  if (order.review?.reason !== 'amount_mismatch' || !order.review.outTradeNo)
    throw new DomainError('FAILED_PRECONDITION', '该订单的核对原因不能在这里处理');
  const payment = await store.getById<PaymentDoc>(COLLECTIONS.payments, order.review.outTradeNo);
  if (
    !payment ||
    payment.status !== 'amount_mismatch' ||
    payment.paidTotalFen === undefined ||
    !payment.transactionId
  ) {
    throw new DomainError('FAILED_PRECONDITION', '未找到微信支付实收记录');
  }
  const now = deps.clock();
  const accepted = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: orderId, status: 'review' },
    {
      status: 'paid',
      paidFen: payment.paidTotalFen,
      refundableFen: payment.paidTotalFen,
      refundedFen: 0,
      paidAt: payment.paidAt ?? now,
      paidOutTradeNo: payment._id,
      transactionId: payment.transactionId,
      updatedAt: now,
      timeline: _.push([entry(now, 'review_accepted', `${payment.paidTotalFen}`)]),
    },
  );
  if (accepted) {
    await store.updateWhere(
      COLLECTIONS.payments,
      { _id: payment._id, status: 'amount_mismatch' },
      { status: 'success', updatedAt: now },
    );
    await resolveException(deps, exceptionId('amount_mismatch', payment._id), admin, { action: 'accepted', note });
  }
  return (await store.getById<OrderDoc>(COLLECTIONS.orders, orderId))!;
}

export const acceptReview = adminAction<OrderView>(
  'acceptReview',
  async (deps, admin, obj, scope) => {
    onlyKeys(obj, ['action', 'orderId', 'note']);
    const { orderId, note }: AcceptReviewRequest = { orderId: readOrderId(obj), note: readNote(obj) };
    const order = await loadOrder(deps, orderId, scope);
    if (order.status !== 'review') throw new DomainError('CONFLICT', '订单不在核对中');
    await acceptAtWechatAmount(deps, admin, orderId, note);
    return { result: await orderViewWithRefunds(deps, orderId), target: orderId, note };
  },
  { subMerchantAdmins: true },
);

/** A `review` order refunded in full: accepted at WeChat Pay's amount, then a full refund of that amount. */
export const refundReview = adminAction<OrderView>(
  'refundReview',
  async (deps, admin, obj, scope) => {
    onlyKeys(obj, ['action', 'orderId', 'note', 'requestId']);
    const { orderId, note, requestId }: RefundReviewRequest = {
      orderId: readOrderId(obj),
      note: readNote(obj),
      requestId: readRequestId(obj),
    };
    const outRefundNo = outRefundNoFor(orderId, requestId);
    const before = await loadOrder(deps, orderId, scope);
    if (before.status !== 'review' && !before.refundReservations?.[outRefundNo])
      throw new DomainError('CONFLICT', '订单不在核对中');
    const order = await acceptAtWechatAmount(deps, admin, orderId, note);
    const amountFen = order.refundReservations?.[outRefundNo]?.amountFen ?? order.refundableFen;
    await createOrderRefund(deps, order, {
      outRefundNo,
      amountFen,
      reason: '金额核对后全额退款',
      requestedBy: 'admin',
      requestedByOpenid: admin,
    });
    return { result: await orderViewWithRefunds(deps, orderId), target: orderId, note };
  },
  { subMerchantAdmins: true },
);

// ---- abnormal refunds ---------------------------------------------------------------------------------------------

export const applyAbnormalRefund = adminAction<ExceptionView>('applyAbnormalRefund', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'outRefundNo', 'type', 'bankType', 'bankAccount', 'realName']);
  const outRefundNo = readString(obj, 'outRefundNo', { max: 64, pattern: /^[0-9A-Za-z_\-|*@]+$/ });
  const type = readEnum(obj, 'type', ['USER_BANK_CARD', 'MERCHANT_BANK_CARD'] as const)!;
  const toUser = type === 'USER_BANK_CARD';
  const { bankType, bankAccount, realName }: ApplyAbnormalRefundRequest = {
    outRefundNo,
    type,
    ...(toUser
      ? {
          bankType: readString(obj, 'bankType', { max: 32, pattern: /^[A-Z0-9_]+$/ }),
          bankAccount: readString(obj, 'bankAccount', { min: 8, max: 32, pattern: /^\d+$/ }),
          realName: readString(obj, 'realName', { max: 40 }),
        }
      : {}),
  };
  if (!toUser && (obj.bankType !== undefined || obj.bankAccount !== undefined || obj.realName !== undefined)) {
    throw new DomainError('INVALID_ARGUMENT', 'MERCHANT_BANK_CARD takes no bank details', 'type');
  }
  const refund = await loadAbnormalRefund(deps, outRefundNo);
  if (!refund.refundId) throw new DomainError('FAILED_PRECONDITION', '缺少微信退款单号');
  try {
    await deps.pay.client.applyAbnormalRefund(
      refund.refundId,
      {
        out_refund_no: refund._id,
        type,
        ...(toUser ? { bank_type: bankType, bank_account: bankAccount, real_name: realName } : {}),
      },
      subMerchantOf(deps, refund),
    );
  } catch (error) {
    if (error instanceof WechatPayApiError && error.status < 500)
      throw new DomainError('FAILED_PRECONDITION', `微信支付拒绝：${error.code} ${error.message}`);
    throw providerError(error);
  }
  const now = deps.clock();
  // the outcome follows from WeChat Pay (notification or query): look again soon
  await deps.store.updateWhere(
    COLLECTIONS.refunds,
    { _id: refund._id, status: 'abnormal' },
    { abnormalAppliedAt: now, nextAttemptAt: now + 60_000, attempts: 0, updatedAt: now },
  );
  const exception = await deps.store.getById<ExceptionDoc>(
    COLLECTIONS.exceptions,
    exceptionId('abnormal_refund', refund._id),
  );
  return {
    result: exception ? toExceptionView(exception) : await missingException(refund),
    target: refund._id,
    note: type,
  };
});

export const markAbnormalHandled = adminAction<ExceptionView>('markAbnormalHandled', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'outRefundNo', 'note']);
  const { outRefundNo, note }: MarkAbnormalHandledRequest = {
    outRefundNo: readString(obj, 'outRefundNo', { max: 64, pattern: /^[0-9A-Za-z_\-|*@]+$/ }),
    note: readNote(obj),
  };
  await loadAbnormalRefund(deps, outRefundNo);
  const id = exceptionId('abnormal_refund', outRefundNo);
  await loadException(deps, id);
  if (!(await resolveException(deps, id, admin, { action: 'handled_outside', note })))
    throw new DomainError('CONFLICT', '该异常已处理');
  return { result: toExceptionView(await loadException(deps, id)), target: outRefundNo, note };
});

async function missingException(refund: RefundDoc): Promise<never> {
  throw new DomainError('NOT_FOUND', `no exception recorded for abnormal refund ${refund._id}`);
}
