/**
 * Payments: one document per out_trade_no. Pay creates or reuses the order's active payment, prepays at WeChat Pay
 * and answers wx.requestPayment's parameters. An order has one out_trade_no for as long as WeChat Pay keeps it open:
 * a prepay_id about to lapse is renewed by prepaying the same out_trade_no again with identical parameters (WeChat Pay
 * then answers a fresh prepay_id), so concurrent pay calls, at any time in the order's life, share one out_trade_no.
 * A new one is made only after WeChat Pay closed the previous one.
 *
 * A guest's order (the Native checkout) goes the same way with Native下单 instead of JSAPI: no payer in the prepay, a
 * code_url instead of a prepay_id, renewed the same way when it is about to lapse (2 hours, never past the order).
 */
import type { ConfirmPaymentRequest, OrderView, PayRequest, PayResponse } from '../../../../typings/api';
import { buildRequestPaymentParams, newNonce, payingAppid, rfc3339, WechatPayApiError } from '../../wechatpay';
import { COLLECTIONS } from '../../store/store';
import { entry, loadOwnedOrder, refundsOf, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError } from '../errors';
import { merchantFields, subMerchantOf } from '../merchants';
import { isPaidCode, providerError } from '../provider-errors';
import type { OrderDoc, PaymentDoc } from '../records';
import { settleByQuery } from './settlement';
import { asObject, onlyKeys, readOrderId } from '../validate';
import { toView } from '../views';

export const PREPAY_LIFETIME_MS = 2 * 3600 * 1000;
/** a prepay_id this close to its end is renewed before it is handed out: the user needs time in the cashier */
const PREPAY_REUSE_MARGIN_MS = 5 * 60 * 1000;

function describe(order: OrderDoc): string {
  const first = order.items[0]!.title;
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  const text = count > 1 ? `${first} 等${count}件` : first;
  return [...text].slice(0, 127).join('');
}

/** paySign is made with the appid the buyer's openid belongs to: sub_appid when prepaid with one, else ours (sp_appid). */
function paymentParams(deps: Deps, payment: PaymentDoc): PayResponse {
  const timeStamp = String(Math.floor(deps.clock() / 1000));
  const prepayId = payment.prepayId!;
  return {
    orderId: payment.orderId,
    prepayId,
    params: buildRequestPaymentParams(
      deps.pay.credential.signer,
      payingAppid(deps.pay.config.appid, subMerchantOf(deps, payment)),
      prepayId,
      timeStamp,
      newNonce(),
    ),
  };
}

// ---- pay ------------------------------------------------------------------------------------------------------

export async function pay(deps: Deps, caller: Caller, event: unknown): Promise<PayResponse> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const { orderId }: PayRequest = { orderId: readOrderId(obj) };
  return payOwnedOrder(deps, openid, orderId);
}

/**
 * wx.requestPayment's parameters for an order of `openid`'s. `known` is the order as the caller just read or wrote it
 * (the pay tap's own confirmation): used for the first attempt instead of reading it again; a concurrent call that
 * moved the order on sends the next attempt back to the database.
 */
export async function payOwnedOrder(
  deps: Deps,
  openid: string,
  orderId: string,
  known?: OrderDoc,
): Promise<PayResponse> {
  let order = known;
  for (let attempt = 0; attempt < 3; attempt++) {
    order ??= await loadOwnedOrder(deps, openid, orderId);
    const result = await payOnce(deps, order);
    if (result) return result;
    order = undefined;
  }
  throw new DomainError('CONFLICT', '订单正在支付，请稍后重试');
}

async function payOnce(deps: Deps, order: OrderDoc): Promise<PayResponse | undefined> {
  const payment = await prepareOnce(deps, order);
  return payment && paymentParams(deps, payment);
}

/** What a Native checkout shows: the order's code_url and when it lapses (never after the order). */
export interface NativeCode {
  outTradeNo: string;
  codeUrl: string;
  expiresAt: number;
}

/** A guest's order: its code_url, reused while it lasts long enough, renewed when about to lapse. */
export async function payNative(deps: Deps, orderId: string): Promise<NativeCode> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
    if (!order?.guest) throw new DomainError('NOT_FOUND', '订单不存在');
    const payment = await prepareOnce(deps, order);
    if (payment) return { outTradeNo: payment._id, codeUrl: payment.codeUrl!, expiresAt: payment.prepayExpiresAt! };
  }
  throw new DomainError('CONFLICT', '订单正在支付，请稍后重试');
}

/** The prepay_id (JSAPI) or code_url (Native) a payment holds. */
const handleOf = (payment: PaymentDoc) => (payment.tradeType === 'NATIVE' ? payment.codeUrl : payment.prepayId);

/** The order's active payment, prepaid and valid for a while; undefined when a concurrent call moved the order on. */
async function prepareOnce(deps: Deps, order: OrderDoc): Promise<PaymentDoc | undefined> {
  const { store } = deps;
  const now = deps.clock();
  if (order.status !== 'pending_payment')
    throw new DomainError('CONFLICT', order.status === 'paid' ? '订单已支付' : '订单不能支付');
  if (now >= order.expiresAt) throw new DomainError('ORDER_EXPIRED', '订单已过期，请重新下单');

  let payment = order.activePaymentId
    ? await store.getById<PaymentDoc>(COLLECTIONS.payments, order.activePaymentId)
    : undefined;
  if (order.activePaymentId && !payment) {
    // the order names its payment but the document is not there yet: another pay call is creating it, or one died
    // between the two writes. Same out_trade_no: never a second one the user could also pay.
    payment = await ensurePayment(deps, order, order.activePaymentId);
  }
  if (
    payment &&
    payment.closeRequestedAt !== undefined &&
    (payment.status === 'created' || payment.status === 'prepaid')
  )
    payment = await finishLostClose(deps, payment);
  // reuse while the prepay_id lasts as long as the order, or long enough for the cashier; renew otherwise
  if (
    payment?.status === 'prepaid' &&
    handleOf(payment) &&
    (payment.prepayExpiresAt! >= order.expiresAt || payment.prepayExpiresAt! > now + PREPAY_REUSE_MARGIN_MS)
  ) {
    return payment;
  }
  // a new out_trade_no only for the first payment, or after WeChat Pay closed the previous one
  if (!payment || payment.status === 'closed') {
    const seq = order.paymentSeq + 1;
    const outTradeNo = `${order._id}P${seq}`;
    const moved = await store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id, status: 'pending_payment', paymentSeq: order.paymentSeq },
      {
        paymentSeq: seq,
        activePaymentId: outTradeNo,
        updatedAt: now,
        timeline: store.command.push([entry(now, 'payment_started', outTradeNo)]),
      },
    );
    if (!moved) return undefined; // a concurrent pay moved the order on: start again from its new state
    payment = await ensurePayment(deps, order, outTradeNo);
  }
  if (payment.status !== 'created' && payment.status !== 'prepaid')
    throw new DomainError('CONFLICT', '订单状态已变化，请刷新');

  const native = payment.tradeType === 'NATIVE';
  let handle: string;
  try {
    // identical fields every time for one out_trade_no: WeChat Pay then answers a fresh prepay_id / code_url. Built
    // in here: a WeChat Pay this function could not configure throws on first touch, and is the provider's error
    const fields = {
      appid: deps.pay.config.appid,
      description: payment.description,
      out_trade_no: payment._id,
      time_expire: rfc3339(payment.timeExpire),
      attach: order._id,
      notify_url: deps.pay.config.notifyUrl,
      amount: { total: payment.amountFen, currency: 'CNY' as const },
    };
    const sub = subMerchantOf(deps, payment);
    if (native) ({ code_url: handle } = await deps.pay.client.prepayNative(fields, sub));
    else
      ({ prepay_id: handle } = await deps.pay.client.prepayJsapi({ ...fields, payer: { openid: order.openid } }, sub));
  } catch (error) {
    if (error instanceof WechatPayApiError && isPaidCode(error.code)) {
      await settleByQuery(deps, payment._id);
      throw new DomainError('CONFLICT', '订单已支付');
    }
    throw providerError(error);
  }
  const prepayExpiresAt = Math.min(now + PREPAY_LIFETIME_MS, order.expiresAt);
  const held = native ? { codeUrl: handle } : { prepayId: handle };
  const saved = await store.updateWhere(
    COLLECTIONS.payments,
    { _id: payment._id, status: store.command.in(['created', 'prepaid']) },
    {
      status: 'prepaid',
      ...held,
      prepayExpiresAt,
      updatedAt: now,
    },
  );
  if (!saved) {
    const current = await store.getById<PaymentDoc>(COLLECTIONS.payments, payment._id);
    if (current?.status === 'success') throw new DomainError('CONFLICT', '订单已支付');
    if (current?.status !== 'prepaid' || !handleOf(current)) return undefined;
    return current;
  }
  return { ...payment, status: 'prepaid', ...held, prepayExpiresAt, updatedAt: now };
}

/** The payment document for an out_trade_no, created if missing (idempotent: its _id is the out_trade_no). */
async function ensurePayment(deps: Deps, order: OrderDoc, outTradeNo: string): Promise<PaymentDoc> {
  const now = deps.clock();
  const payment: PaymentDoc = {
    _id: outTradeNo,
    orderId: order._id,
    openid: order.openid,
    // a guest's order is paid by Native: no payer is named before a phone scans the code
    ...(order.guest ? { tradeType: 'NATIVE' as const } : {}),
    ...merchantFields(subMerchantOf(deps, order)),
    amountFen: order.totalFen,
    description: describe(order),
    status: 'created',
    timeExpire: order.expiresAt,
    refundGateAt: 0,
    nextCheckAt: now + deps.config.reconcileStuckMinutes * 60_000,
    checks: 0,
    createdAt: now,
    updatedAt: now,
  };
  if ((await deps.store.insert(COLLECTIONS.payments, payment)) === 'created') return payment;
  return (await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, outTradeNo))!;
}

// ---- closing ----------------------------------------------------------------------------------------------------

/**
 * Closes a payment at WeChat Pay, then locally. 'paid' when WeChat Pay says it was paid meanwhile (the order is then
 * settled as paid: money taken is never dropped).
 */
export async function closePaymentAtProvider(deps: Deps, payment: PaymentDoc): Promise<'closed' | 'paid'> {
  if (payment.status === 'success') return 'paid';
  if (payment.status !== 'created' && payment.status !== 'prepaid') return 'closed';
  // marked before the call: if every answer is lost, WeChat Pay may have closed it, so pay asks before offering it
  if (payment.closeRequestedAt === undefined)
    await deps.store.updateWhere(
      COLLECTIONS.payments,
      { _id: payment._id, status: deps.store.command.in(['created', 'prepaid']) },
      { closeRequestedAt: deps.clock() },
    );
  try {
    await deps.pay.client.closeByOutTradeNo(payment._id, subMerchantOf(deps, payment));
  } catch (error) {
    if (error instanceof WechatPayApiError && isPaidCode(error.code)) {
      await settleByQuery(deps, payment._id);
      return 'paid';
    }
    const neverPrepaid = error instanceof WechatPayApiError && error.status === 404;
    if (!neverPrepaid) throw providerError(error);
  }
  await deps.store.updateWhere(
    COLLECTIONS.payments,
    { _id: payment._id, status: deps.store.command.in(['created', 'prepaid']) },
    {
      status: 'closed',
      updatedAt: deps.clock(),
    },
  );
  return 'closed';
}

/**
 * A payment whose close was sent but never answered: WeChat Pay may have closed it (its prepay would meet ORDER_CLOSED
 * at the cashier) or the buyer may have paid it. Asked first; still open, the close is finished. Never handed out again.
 */
async function finishLostClose(deps: Deps, payment: PaymentDoc): Promise<PaymentDoc> {
  const verdict = await settleByQuery(deps, payment._id);
  if (verdict !== 'closed' && verdict !== 'not_paid' && verdict !== 'not_found')
    throw new DomainError('CONFLICT', '订单已支付');
  if (verdict !== 'closed' && (await closePaymentAtProvider(deps, payment)) === 'paid')
    throw new DomainError('CONFLICT', '订单已支付');
  return (await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, payment._id))!;
}

/** The result page's "I have paid": asks WeChat Pay instead of trusting the client. */
export async function confirmPayment(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const { orderId }: ConfirmPaymentRequest = { orderId: readOrderId(obj) };
  let order = await loadOwnedOrder(deps, openid, orderId);
  if (order.status === 'pending_payment' && order.activePaymentId) {
    await settleByQuery(deps, order.activePaymentId);
    order = (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
  }
  return toView(order, deps, await refundsOf(deps, order._id));
}

/** Ends an unpaid order: the payment is closed at WeChat Pay first, so nobody can pay it afterwards. */
export async function endUnpaidOrder(
  deps: Deps,
  order: OrderDoc,
  to: 'cancelled' | 'closed',
): Promise<'ended' | 'paid' | 'unchanged'> {
  if (order.activePaymentId) {
    const payment = await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, order.activePaymentId);
    if (payment && (await closePaymentAtProvider(deps, payment)) === 'paid') return 'paid';
  }
  const now = deps.clock();
  // paymentSeq in the condition: a pay call that started a new payment meanwhile makes this refuse, not orphan it
  const ended = await deps.store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id, status: 'pending_payment', paymentSeq: order.paymentSeq },
    {
      status: to,
      updatedAt: now,
      timeline: deps.store.command.push([entry(now, to)]),
    },
  );
  return ended ? 'ended' : 'unchanged';
}
