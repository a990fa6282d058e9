/**
 * Domain unit tests without the local cloud: the embedded database in memory only, a clock the test moves by hand,
 * and a scripted WeChat Pay (each client method answers, or throws, what the test queued for it). Nothing listens on
 * a port and nothing is written to disk.
 */
import type { AppConfig } from '../../../cloudfunctions/common/domain/config';
import type { Deps, Logger, PayGateway, SubscribeMessage } from '../../../cloudfunctions/common/domain/deps';
import type { ExceptionDoc } from '../../../cloudfunctions/common/domain/attention/exceptions';
import type { OrderDoc, PaymentDoc, RefundDoc } from '../../../cloudfunctions/common/domain/records';
import type { CloudDatabase } from '../../../cloudfunctions/common/store/database';
import { COLLECTIONS, Store } from '../../../cloudfunctions/common/store/store';
import {
  WechatPayApiError,
  WechatPayNetworkError,
  type AbnormalRefundRequest,
  type BillApplication,
  type BillDownload,
  type JsapiPrepayRequest,
  type JsapiPrepayResponse,
  type NativePrepayRequest,
  type NativePrepayResponse,
  type Refund,
  type RefundCreateRequest,
  type RefundStatus,
  type TradeBillRequest,
  type Transaction,
} from '../../../cloudfunctions/common/wechatpay';
import { LocalDatabaseEngine } from '../../../localcloud/db/database';

export const MCHID = '1900000109';
export const APPID = 'wxd678efh567hg6787';
export const BUYER = 'o-buyer-openid-0001';
export const STAFF_A = 'o-staff-openid-a1';
export const STAFF_B = 'o-staff-openid-b2';
export const ADMIN = 'o-admin-openid-01';
export const T0 = Date.parse('2026-03-01T10:00:00+08:00');

type Step<A, R> = R | Error | ((arg: A) => R | Promise<R>);

/** One client method: answers the queued steps in order, then the fallback; an unscripted call is recorded and throws. */
export class Script<A, R> {
  readonly calls: A[] = [];
  private readonly steps: Step<A, R>[] = [];
  fallback: ((arg: A) => R | Promise<R>) | undefined;

  constructor(
    private readonly name: string,
    private readonly unscripted: string[],
  ) {}

  /** Queues answers: a value is returned, an Error thrown, a function called with the request. */
  answer(...steps: Step<A, R>[]): this {
    this.steps.push(...steps);
    return this;
  }

  async run(arg: A): Promise<R> {
    this.calls.push(arg);
    const step = this.steps.length > 0 ? this.steps.shift() : this.fallback;
    if (step === undefined) {
      this.unscripted.push(`${this.name}(${JSON.stringify(arg)})`);
      throw new Error(`unscripted WeChat Pay call ${this.name}`);
    }
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? (step as (arg: A) => R | Promise<R>)(arg) : step;
  }
}

export const apiError = (status: number, code: string) =>
  new WechatPayApiError(status, code, `scripted ${code}`, undefined, 'scripted-request-id');
export const networkError = () => new WechatPayNetworkError('scripted timeout', true);

export interface Harness {
  deps: Deps;
  engine: LocalDatabaseEngine;
  store: Store;
  /** the time the domain sees; `advance` moves it */
  now(): number;
  advance(ms: number): void;
  wx: {
    prepayJsapi: Script<Omit<JsapiPrepayRequest, 'mchid'>, JsapiPrepayResponse>;
    prepayNative: Script<Omit<NativePrepayRequest, 'mchid'>, NativePrepayResponse>;
    queryByOutTradeNo: Script<string, Transaction>;
    closeByOutTradeNo: Script<string, void>;
    createRefund: Script<RefundCreateRequest, Refund>;
    queryRefund: Script<string, Refund>;
    applyAbnormalRefund: Script<{ refundId: string; request: AbnormalRefundRequest }, Refund>;
    applyTradeBill: Script<TradeBillRequest, BillApplication>;
    downloadBill: Script<string, BillDownload>;
  };
  /** WeChat Pay calls no test scripted: every test expects none */
  unscripted: string[];
  messages: SubscribeMessage[];
  logs: { level: 'info' | 'warn' | 'error'; message: string }[];
  close(): Promise<void>;
}

export function createHarness(options: { subscribeTemplateId?: string; mode?: 'direct' | 'partner' } = {}): Harness {
  let now = T0;
  const engine = new LocalDatabaseEngine(undefined, () => now);
  const store = new Store(engine.database({ throwOnNotFound: false }) as unknown as CloudDatabase);
  const unscripted: string[] = [];
  const wx: Harness['wx'] = {
    prepayJsapi: new Script('prepayJsapi', unscripted),
    prepayNative: new Script('prepayNative', unscripted),
    queryByOutTradeNo: new Script('queryByOutTradeNo', unscripted),
    closeByOutTradeNo: new Script('closeByOutTradeNo', unscripted),
    createRefund: new Script('createRefund', unscripted),
    queryRefund: new Script('queryRefund', unscripted),
    applyAbnormalRefund: new Script('applyAbnormalRefund', unscripted),
    applyTradeBill: new Script('applyTradeBill', unscripted),
    downloadBill: new Script('downloadBill', unscripted),
  };
  const pay: PayGateway = {
    config: {
      mchid: MCHID,
      appid: APPID,
      notifyUrl: 'https://example.com/pay/notify',
      refundNotifyUrl: 'https://example.com/pay/refund-notify',
    },
    credential: { signer: { sign: () => 'scripted-signature' } },
    client: {
      prepayJsapi: (request) => wx.prepayJsapi.run(request),
      prepayNative: (request) => wx.prepayNative.run(request),
      queryByOutTradeNo: (outTradeNo) => wx.queryByOutTradeNo.run(outTradeNo),
      closeByOutTradeNo: (outTradeNo) => wx.closeByOutTradeNo.run(outTradeNo),
      createRefund: (request) => wx.createRefund.run(request),
      queryRefund: (outRefundNo) => wx.queryRefund.run(outRefundNo),
      applyAbnormalRefund: (refundId, request) => wx.applyAbnormalRefund.run({ refundId, request }),
      applyTradeBill: (request) => wx.applyTradeBill.run(request),
      downloadBill: (downloadUrl) => wx.downloadBill.run(downloadUrl),
    },
    notifications: {
      parse: () => {
        throw new Error('domain unit tests settle decrypted resources directly');
      },
    },
  };
  const config: AppConfig = {
    payMode: options.mode ?? 'direct',
    appid: APPID,
    appSecret: 'a1b2c3d4e5f6a7b8c9d0',
    wxApiBaseUrl: 'https://api.weixin.qq.com',
    orderExpiryMinutes: 30,
    adminOpenids: new Set(['o-admin-openid-01']),
    userRefundCutoffMinutes: 60,
    ...(options.subscribeTemplateId ? { subscribeTemplateId: options.subscribeTemplateId } : {}),
    reconcileStuckMinutes: 5,
    reconcileBatchSize: 50,
    reconcileMaxCalls: 200,
    wechatpayTimeoutMs: 3000,
    staff: new Map([
      [STAFF_A, { name: '小王', services: ['class-latte-art'] }],
      [STAFF_B, { name: '小李', services: [] }],
    ]),
    fulfilAcceptAlertMinutes: 15,
  };
  const messages: SubscribeMessage[] = [];
  const logs: Harness['logs'] = [];
  const log: Logger = {
    info: (message) => void logs.push({ level: 'info', message }),
    warn: (message) => void logs.push({ level: 'warn', message }),
    error: (message) => void logs.push({ level: 'error', message }),
  };
  const deps: Deps = {
    store,
    pay,
    config,
    clock: () => now,
    wxApi: {
      code2session: () => Promise.reject(new Error('no wx.login in domain unit tests')),
    },
    messenger: {
      sendSubscribeMessage: async (message) => void messages.push(message),
    },
    log,
  };
  return {
    deps,
    engine,
    store,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    wx,
    unscripted,
    messages,
    logs,
    close: () => engine.close(),
  };
}

// ---- seeding ------------------------------------------------------------------------------------------------------

let seq = 0;
export const nextOrderId = () => `ORD${T0}${String(++seq).padStart(4, '0')}`;

function orderDoc(orderId: string, totalFen: number, at: number): OrderDoc {
  return {
    _id: orderId,
    openid: BUYER,
    requestId: `req-${orderId}`,
    items: [{ productId: 'latte', title: '拿铁', unitPriceFen: totalFen, quantity: 1, subtotalFen: totalFen }],
    totalFen,
    contact: { name: '张三', phone: '13800000000' },
    remark: '',
    status: 'pending_payment',
    createdAt: at,
    updatedAt: at,
    expiresAt: at + 30 * 60_000,
    paidFen: 0,
    refundableFen: 0,
    refundedFen: 0,
    refundReservations: {},
    paymentSeq: 0,
    timeline: [{ at, event: 'created' }],
  };
}

function paymentDoc(outTradeNo: string, orderId: string, amountFen: number, at: number): PaymentDoc {
  return {
    _id: outTradeNo,
    orderId,
    openid: BUYER,
    amountFen,
    description: '拿铁',
    status: 'prepaid',
    timeExpire: at + 30 * 60_000,
    prepayId: `wx${outTradeNo}`,
    prepayExpiresAt: at + 30 * 60_000,
    refundGateAt: 0,
    nextCheckAt: at + 5 * 60_000,
    checks: 0,
    createdAt: at,
    updatedAt: at,
  };
}

/** An unpaid order whose payment `<orderId>P1` has been prepaid, and `extraPayments` more payments of it. */
export async function seedUnpaidOrder(
  h: Harness,
  totalFen: number,
  extraPayments = 0,
): Promise<{ order: OrderDoc; payments: PaymentDoc[] }> {
  const orderId = nextOrderId();
  const payments = Array.from({ length: 1 + extraPayments }, (_, i) =>
    paymentDoc(`${orderId}P${i + 1}`, orderId, totalFen, h.now()),
  );
  const order: OrderDoc = {
    ...orderDoc(orderId, totalFen, h.now()),
    paymentSeq: payments.length,
    activePaymentId: payments[payments.length - 1]!._id,
  };
  await h.store.insert(COLLECTIONS.orders, order);
  for (const payment of payments) await h.store.insert(COLLECTIONS.payments, payment);
  return { order, payments };
}

/** An order paid in full by its payment `<orderId>P1`, nothing refunded yet. */
export async function seedPaidOrder(h: Harness, totalFen: number): Promise<OrderDoc> {
  const orderId = nextOrderId();
  const at = h.now();
  const outTradeNo = `${orderId}P1`;
  const transactionId = `4200${orderId}`;
  const order: OrderDoc = {
    ...orderDoc(orderId, totalFen, at),
    status: 'paid',
    paidFen: totalFen,
    refundableFen: totalFen,
    paymentSeq: 1,
    activePaymentId: outTradeNo,
    paidAt: at,
    paidOutTradeNo: outTradeNo,
    transactionId,
  };
  await h.store.insert(COLLECTIONS.orders, order);
  await h.store.insert(COLLECTIONS.payments, {
    ...paymentDoc(outTradeNo, orderId, totalFen, at),
    status: 'success',
    transactionId,
    paidTotalFen: totalFen,
    paidAt: at,
  });
  await h.store.insert(COLLECTIONS.transactionClaims, { _id: transactionId, outTradeNo, at });
  return order;
}

// ---- WeChat Pay's answers ------------------------------------------------------------------------------------------

/** A successful transaction of a payment, as a verified notification or a query carries it. */
export function successTx(
  payment: Pick<PaymentDoc, '_id' | 'orderId' | 'amountFen'>,
  overrides: Partial<Transaction> = {},
): Transaction {
  return {
    appid: APPID,
    mchid: MCHID,
    out_trade_no: payment._id,
    transaction_id: `4200${payment._id}`,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: payment.orderId,
    success_time: '2026-03-01T10:01:00+08:00',
    payer: { openid: BUYER },
    amount: { total: payment.amountFen, payer_total: payment.amountFen, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  };
}

/** WeChat Pay's Refund object for a create or query answer. */
export function refundAnswer(
  request: Pick<RefundCreateRequest, 'out_refund_no' | 'amount'> & { out_trade_no?: string },
  status: RefundStatus,
): Refund {
  return {
    refund_id: `5030${request.out_refund_no}`,
    out_refund_no: request.out_refund_no,
    transaction_id: `4200${request.out_trade_no ?? ''}`,
    out_trade_no: request.out_trade_no ?? '',
    status,
    ...(status === 'SUCCESS' ? { success_time: '2026-03-01T10:30:00+08:00' } : {}),
    amount: { total: request.amount.total, refund: request.amount.refund, currency: 'CNY' },
  };
}

/** The Refund object as a query by out_refund_no answers it, from the stored refund. */
export const refundQueryAnswer = (refund: RefundDoc, status: RefundStatus): Refund =>
  refundAnswer(
    {
      out_refund_no: refund._id,
      out_trade_no: refund.outTradeNo,
      amount: { refund: refund.amountFen, total: refund.totalFen, currency: 'CNY' },
    },
    status,
  );

// ---- reading back ------------------------------------------------------------------------------------------------

export const getOrder = async (h: Harness, id: string) => (await h.store.getById<OrderDoc>(COLLECTIONS.orders, id))!;
export const getPayment = (h: Harness, id: string) => h.store.getById<PaymentDoc>(COLLECTIONS.payments, id);
export const getRefund = (h: Harness, id: string) => h.store.getById<RefundDoc>(COLLECTIONS.refunds, id);
export const refundsOfOrder = (h: Harness, orderId: string) =>
  h.store.find<RefundDoc>(COLLECTIONS.refunds, { orderId }, { limit: 100 });
export const exceptions = (h: Harness) => h.store.find<ExceptionDoc>(COLLECTIONS.exceptions, {}, { limit: 100 });
export const getException = (h: Harness, id: string) => h.store.getById<ExceptionDoc>(COLLECTIONS.exceptions, id);

/** What the order still holds for refunds not yet decided (reservations in state `reserved`). */
export const heldFen = (order: OrderDoc) =>
  Object.values(order.refundReservations ?? {})
    .filter((r) => r.state === 'reserved')
    .reduce((sum, r) => sum + r.amountFen, 0);

/** The order's money adds up: paid = refundable + refunded + held, none negative. Returns the order. */
export async function expectBalanced(h: Harness, orderId: string): Promise<OrderDoc> {
  const order = await getOrder(h, orderId);
  const counters = {
    paid: order.paidFen,
    refundable: order.refundableFen,
    refunded: order.refundedFen,
    held: heldFen(order),
  };
  expect({ ...counters, sum: counters.refundable + counters.refunded + counters.held }).toEqual({
    ...counters,
    sum: counters.paid,
  });
  expect(Math.min(counters.refundable, counters.refunded, counters.held)).toBeGreaterThanOrEqual(0);
  return order;
}
