/**
 * Payments: one document per out_trade_no. Pay creates or reuses the order's active payment, prepays at WeChat Pay
 * and answers wx.requestPayment's parameters. Settlement — from a verified notification or from a query — is one
 * function, so both paths change state in exactly the same way.
 */
import type { OrderView, PayResponse } from '../../../typings/api';
import {
  buildRequestPaymentParams,
  newNonce,
  rfc3339,
  WechatPayApiError,
  WechatPayNetworkError,
  type Transaction,
} from '../wechatpay';
import { COLLECTIONS } from '../store/store';
import type { Caller, Deps } from './deps';
import { DomainError } from './errors';
import { entry, loadOwnedOrder, readOrderId, refundsOf, requireCaller, toView, type OrderDoc } from './orders';
import { asObject, onlyKeys } from './validate';

export type PaymentStatus = 'created' | 'prepaid' | 'success' | 'closed' | 'amount_mismatch';

export interface PaymentDoc {
  _id: string; // out_trade_no
  orderId: string;
  openid: string;
  amountFen: number;
  description: string;
  status: PaymentStatus;
  timeExpire: number;
  prepayId?: string;
  prepayExpiresAt?: number;
  transactionId?: string;
  paidAt?: number;
  createdAt: number;
  updatedAt: number;
}

export const PREPAY_LIFETIME_MS = 2 * 3600 * 1000;
/** a prepay_id this close to its end is not handed out again: the user needs time in the cashier */
const PREPAY_REUSE_MARGIN_MS = 5 * 60 * 1000;

export function providerError(error: unknown): DomainError {
  if (error instanceof WechatPayApiError) return new DomainError('PAYMENT_PROVIDER_ERROR', `微信支付返回错误 ${error.code}`);
  if (error instanceof WechatPayNetworkError) return new DomainError('PAYMENT_PROVIDER_ERROR', '微信支付暂时无法连接，请稍后重试');
  return error instanceof DomainError ? error : new DomainError('PAYMENT_PROVIDER_ERROR', '微信支付暂时不可用');
}

const isPaidCode = (code: string) => code === 'ORDERPAID' || code === 'ORDER_PAID';

function describe(order: OrderDoc): string {
  const first = order.items[0]!.title;
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  const text = count > 1 ? `${first} 等${count}件` : first;
  return [...text].slice(0, 127).join('');
}

function paymentParams(deps: Deps, orderId: string, prepayId: string): PayResponse {
  const timeStamp = String(Math.floor(deps.clock() / 1000));
  return {
    orderId,
    prepayId,
    params: buildRequestPaymentParams(deps.pay.credential.signer, deps.pay.config.appid, prepayId, timeStamp, newNonce()),
  };
}

// ---- pay ------------------------------------------------------------------------------------------------------

export async function pay(deps: Deps, caller: Caller, event: unknown): Promise<PayResponse> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const orderId = readOrderId(obj);
  for (let attempt = 0; attempt < 3; attempt++) {
    const order = await loadOwnedOrder(deps, openid, orderId);
    const result = await payOnce(deps, order);
    if (result) return result;
  }
  throw new DomainError('CONFLICT', '订单正在支付，请稍后重试');
}

async function payOnce(deps: Deps, order: OrderDoc): Promise<PayResponse | undefined> {
  const { store } = deps;
  const now = deps.clock();
  if (order.status !== 'pending_payment') throw new DomainError('CONFLICT', order.status === 'paid' ? '订单已支付' : '订单不能支付');
  if (now >= order.expiresAt) throw new DomainError('ORDER_EXPIRED', '订单已过期，请重新下单');

  let payment = order.activePaymentId ? await store.getById<PaymentDoc>(COLLECTIONS.payments, order.activePaymentId) : undefined;
  if (order.activePaymentId && !payment) {
    // the order names its payment but the document is not there yet: another pay call is creating it, or one died
    // between the two writes. Same out_trade_no: never a second one the user could also pay.
    payment = await ensurePayment(deps, order, order.activePaymentId);
  }
  if (payment?.status === 'prepaid' && payment.prepayId && payment.prepayExpiresAt! > now + PREPAY_REUSE_MARGIN_MS) {
    return paymentParams(deps, order._id, payment.prepayId);
  }
  // a new out_trade_no only for the first payment, after a close, or when the prepay_id is about to lapse
  if (!payment || payment.status === 'closed' || payment.status === 'prepaid') {
    if (payment?.status === 'prepaid' && (await closePaymentAtProvider(deps, payment)) === 'paid') throw new DomainError('CONFLICT', '订单已支付');
    const seq = order.paymentSeq + 1;
    const outTradeNo = `${order._id}P${seq}`;
    const moved = await store.updateWhere(COLLECTIONS.orders, { _id: order._id, status: 'pending_payment', paymentSeq: order.paymentSeq }, {
      paymentSeq: seq,
      activePaymentId: outTradeNo,
      updatedAt: now,
      timeline: store.command.push([entry(now, 'payment_started', outTradeNo)]),
    });
    if (!moved) return undefined; // a concurrent pay moved the order on: start again from its new state
    payment = await ensurePayment(deps, order, outTradeNo);
  }
  if (payment.status !== 'created' && payment.status !== 'prepaid') throw new DomainError('CONFLICT', '订单状态已变化，请刷新');

  let prepayId: string;
  try {
    ({ prepay_id: prepayId } = await deps.pay.client.prepayJsapi({
      appid: deps.pay.config.appid,
      description: payment.description,
      out_trade_no: payment._id,
      time_expire: rfc3339(payment.timeExpire),
      attach: order._id,
      notify_url: deps.pay.config.notifyUrl,
      amount: { total: payment.amountFen, currency: 'CNY' },
      payer: { openid: order.openid },
    }));
  } catch (error) {
    if (error instanceof WechatPayApiError && isPaidCode(error.code)) {
      await settleByQuery(deps, payment._id);
      throw new DomainError('CONFLICT', '订单已支付');
    }
    throw providerError(error);
  }
  const prepayExpiresAt = Math.min(now + PREPAY_LIFETIME_MS, order.expiresAt);
  const saved = await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: store.command.in(['created', 'prepaid']) }, {
    status: 'prepaid',
    prepayId,
    prepayExpiresAt,
    updatedAt: now,
  });
  if (!saved) {
    const current = await store.getById<PaymentDoc>(COLLECTIONS.payments, payment._id);
    if (current?.status === 'success') throw new DomainError('CONFLICT', '订单已支付');
    if (current?.status !== 'prepaid' || !current.prepayId) return undefined;
    prepayId = current.prepayId;
  }
  return paymentParams(deps, order._id, prepayId);
}

/** The payment document for an out_trade_no, created if missing (idempotent: its _id is the out_trade_no). */
async function ensurePayment(deps: Deps, order: OrderDoc, outTradeNo: string): Promise<PaymentDoc> {
  const now = deps.clock();
  const payment: PaymentDoc = {
    _id: outTradeNo,
    orderId: order._id,
    openid: order.openid,
    amountFen: order.totalFen,
    description: describe(order),
    status: 'created',
    timeExpire: order.expiresAt,
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
  if (payment.status === 'closed' || payment.status === 'amount_mismatch') return 'closed';
  try {
    await deps.pay.client.closeByOutTradeNo(payment._id);
  } catch (error) {
    if (error instanceof WechatPayApiError && isPaidCode(error.code)) {
      await settleByQuery(deps, payment._id);
      return 'paid';
    }
    const neverPrepaid = error instanceof WechatPayApiError && error.status === 404;
    if (!neverPrepaid) throw providerError(error);
  }
  await deps.store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: deps.store.command.in(['created', 'prepaid']) }, {
    status: 'closed',
    updatedAt: deps.clock(),
  });
  return 'closed';
}

// ---- settlement -----------------------------------------------------------------------------------------------

export type SettleVerdict =
  | 'paid'
  | 'paid_repaired'
  | 'duplicate'
  | 'duplicate_charge'
  | 'amount_mismatch'
  | 'merchant_mismatch'
  | 'unknown_payment'
  | 'not_paid'
  | 'closed';

/**
 * Applies what WeChat Pay says about a transaction. Order first, payment second: a crash between the two leaves a
 * paid order whose payment a later delivery or reconcile completes, never a paid payment with an unpaid order.
 * Round trips on a first success: read payment, CAS order, CAS payment. On a duplicate: read payment.
 */
export async function settleTransaction(deps: Deps, tx: Transaction): Promise<SettleVerdict> {
  const { store } = deps;
  if (tx.mchid !== deps.pay.config.mchid || tx.appid !== deps.pay.config.appid) return 'merchant_mismatch';
  const payment = await store.getById<PaymentDoc>(COLLECTIONS.payments, tx.out_trade_no);
  if (!payment) return 'unknown_payment';
  const now = deps.clock();
  const _ = store.command;

  if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') {
    if (payment.status === 'success' || payment.status === 'amount_mismatch') return 'duplicate';
    if (tx.amount?.total !== payment.amountFen) {
      const detail = `WeChat Pay total ${tx.amount?.total} fen, payment ${payment.amountFen} fen`;
      await store.updateWhere(COLLECTIONS.orders, { _id: payment.orderId, status: _.in(['pending_payment', 'closed', 'cancelled']) }, {
        status: 'review',
        review: { reason: 'amount_mismatch', at: now, detail },
        updatedAt: now,
        timeline: _.push([entry(now, 'review', detail)]),
      });
      await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: _.in(['created', 'prepaid', 'closed']) }, {
        status: 'amount_mismatch',
        transactionId: tx.transaction_id,
        updatedAt: now,
      });
      deps.log.error('payment amount mismatch: order put in review', { outTradeNo: payment._id, orderId: payment.orderId, detail });
      return 'amount_mismatch';
    }
    const paidAt = tx.success_time ? Date.parse(tx.success_time) : now;
    const orderPaid = await store.updateWhere(COLLECTIONS.orders, { _id: payment.orderId, status: _.in(['pending_payment', 'closed', 'cancelled']) }, {
      status: 'paid',
      paidFen: payment.amountFen,
      refundableFen: payment.amountFen,
      refundedFen: 0,
      paidAt,
      paidOutTradeNo: payment._id,
      transactionId: tx.transaction_id,
      updatedAt: now,
      timeline: _.push([entry(now, 'paid', tx.transaction_id)]),
    });
    const paymentDone = await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: _.in(['created', 'prepaid', 'closed']) }, {
      status: 'success',
      transactionId: tx.transaction_id,
      paidAt,
      updatedAt: now,
    });
    if (orderPaid) {
      await notifyPaid(deps, payment, paidAt);
      return 'paid';
    }
    const order = await store.getById<OrderDoc>(COLLECTIONS.orders, payment.orderId);
    if (order?.paidOutTradeNo && order.paidOutTradeNo !== payment._id) {
      deps.log.error('a second payment succeeded for an order already paid: refund it', { orderId: payment.orderId, outTradeNo: payment._id });
      await store.updateWhere(COLLECTIONS.orders, { _id: payment.orderId }, { updatedAt: now, timeline: _.push([entry(now, 'duplicate_charge', payment._id)]) });
      return 'duplicate_charge';
    }
    return paymentDone ? 'paid_repaired' : 'duplicate';
  }
  if (tx.trade_state === 'CLOSED' || tx.trade_state === 'REVOKED') {
    await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: _.in(['created', 'prepaid']) }, { status: 'closed', updatedAt: now });
    return 'closed';
  }
  return 'not_paid';
}

async function notifyPaid(deps: Deps, payment: PaymentDoc, paidAt: number): Promise<void> {
  const templateId = deps.config.subscribeTemplateId;
  if (!templateId) {
    deps.log.info('subscribe message skipped: SUBSCRIBE_TEMPLATE_ID is not set', { orderId: payment.orderId });
    return;
  }
  try {
    await deps.messenger.sendSubscribeMessage({
      touser: payment.openid,
      templateId,
      page: `pages/order/detail/index?id=${payment.orderId}`,
      data: {
        character_string1: { value: payment.orderId },
        amount2: { value: `${(payment.amountFen / 100).toFixed(2)}元` },
        thing3: { value: [...payment.description].slice(0, 20).join('') },
        time4: { value: rfc3339(paidAt).slice(0, 16).replace('T', ' ') },
      },
    });
  } catch (error) {
    // the user may not have subscribed: payment stands regardless
    deps.log.warn('subscribe message not sent', { orderId: payment.orderId, error: (error as Error).message });
  }
}

/** Queries WeChat Pay for one out_trade_no and settles from the answer. */
export async function settleByQuery(deps: Deps, outTradeNo: string): Promise<SettleVerdict | 'not_found'> {
  let tx: Transaction;
  try {
    tx = await deps.pay.client.queryByOutTradeNo(outTradeNo);
  } catch (error) {
    if (error instanceof WechatPayApiError && error.status === 404) return 'not_found';
    throw providerError(error);
  }
  return settleTransaction(deps, tx);
}

/** The result page's "I have paid": asks WeChat Pay instead of trusting the client. */
export async function confirmPayment(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  let order = await loadOwnedOrder(deps, openid, readOrderId(obj));
  if (order.status === 'pending_payment' && order.activePaymentId) {
    await settleByQuery(deps, order.activePaymentId);
    order = (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
  }
  return toView(order, deps, await refundsOf(deps, order._id));
}
