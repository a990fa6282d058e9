/**
 * Payment: the pay parameters from the backend, then wx.requestPayment (cloud) or, on the local cloud, a cashier
 * sheet whose choice is sent to the local WeChat Pay simulator's cashier together with everything wx.requestPayment
 * would hand WeChat (its parameters and the app's appId), so the simulator checks paySign as WeChat's payment sheet
 * does. The outcome is only what the user did: the result page asks the server whether the order is paid.
 *
 * Failures: every errMsg becomes a plain Chinese message (constants/payment.ts); one not known there says so and is
 * reported with its raw text to the client log, and so is every "cancel" (WeChat answers cancel for some real errors
 * too; the time the sheet was open tells them apart). The local cashier is reachable only in a develop build.
 */
import type { ConfirmOrderRequest, OrderView, RequestPaymentParams } from '../../typings/api';
import { appConfig, backendMode } from '../config';
import { PAY_FAILURE_RULES, UNKNOWN_PAY_FAILURE, type PayFailureAction } from '../constants/payment';
import { callApi } from './api';
import { reportClientLog } from './client-log';
import { publishOrder } from './orders';
import { assertDevelop, wxRequest } from './transport';

export interface PayFailure {
  kind: 'fail';
  /** what the buyer reads */
  message: string;
  action: PayFailureAction;
  /** WeChat's own text, kept for the log */
  raw: string;
  known: boolean;
}
export type PayOutcome = { kind: 'ok' } | { kind: 'cancel' } | PayFailure;
export type CashierChoice = 'pay' | 'cancel' | 'fail';

const PREFIX = /^requestPayment:fail\s*/;

/** WeChat's errMsg as the buyer should read it. */
export function describePayFailure(errMsg: string): PayFailure {
  const reason = errMsg.replace(PREFIX, '').trim();
  const rule = reason ? PAY_FAILURE_RULES.find((r) => r.pattern.test(reason)) : undefined;
  if (rule) return { kind: 'fail', message: rule.message, action: rule.action, raw: errMsg, known: true };
  return { kind: 'fail', message: UNKNOWN_PAY_FAILURE, action: 'retry', raw: errMsg, known: false };
}

function outcomeOf(errMsg: string, elapsedMs: number): PayOutcome {
  if (/^requestPayment:fail\s*cancel/.test(errMsg) || errMsg === 'cancel') {
    reportClientLog('pay_cancel', errMsg, { elapsedMs });
    return { kind: 'cancel' };
  }
  const failure = describePayFailure(errMsg);
  if (!failure.known) reportClientLog('pay_error', errMsg, { elapsedMs });
  return failure;
}

export function requestPayment(params: RequestPaymentParams): Promise<PayOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    wx.requestPayment({
      ...params,
      success: () => resolve({ kind: 'ok' }),
      fail: (err) => resolve(outcomeOf(String(err?.errMsg ?? ''), Date.now() - started)),
    });
  });
}

let localCloud: { simulatorUrl: string; appId: string } | undefined;

async function localCashier(
  params: RequestPaymentParams,
  presentCashier: () => Promise<CashierChoice>,
): Promise<PayOutcome> {
  assertDevelop();
  if (!localCloud) {
    // the local cloud is the app's backend; its appid is the one WeChat's client would add for this app
    const index = await wxRequest<{ wechatpay?: string; appid?: string }>({
      url: `${appConfig.localCloudUrl}/`,
      method: 'GET',
    });
    if (!index.data.wechatpay || !index.data.appid)
      return {
        kind: 'fail',
        message: '本地云未返回微信支付模拟器地址或小程序 appid',
        action: 'contact',
        raw: 'local cloud index',
        known: true,
      };
    localCloud = { simulatorUrl: index.data.wechatpay, appId: index.data.appid };
  }
  const started = Date.now();
  const choice = await presentCashier();
  const reply = await wxRequest<{ message?: string }>({
    url: `${localCloud.simulatorUrl}/sim/cashier/${choice}`,
    method: 'POST',
    data: { appId: localCloud.appId, ...params },
  });
  if (reply.statusCode !== 200)
    return outcomeOf(reply.data.message ?? `requestPayment:fail 收银台返回 ${reply.statusCode}`, Date.now() - started);
  if (choice === 'pay') return { kind: 'ok' };
  return outcomeOf(
    choice === 'cancel' ? 'requestPayment:fail cancel' : 'requestPayment:fail 余额不足（模拟）',
    Date.now() - started,
  );
}

/** The payment sheet: WeChat's in the cloud, the local cashier in a develop build. */
function openSheet(params: RequestPaymentParams, presentCashier: () => Promise<CashierChoice>): Promise<PayOutcome> {
  if (backendMode() === 'local') return localCashier(params, presentCashier);
  return requestPayment(params);
}

/** Pay parameters for an order that exists, then the payment sheet. */
export async function payOrder(orderId: string, presentCashier: () => Promise<CashierChoice>): Promise<PayOutcome> {
  const { params } = await callApi('payment.pay', { orderId });
  return openSheet(params, presentCashier);
}

/**
 * The pay tap in one call: the order confirmed (or the one this requestId made) and its pay parameters in the same
 * answer, then the payment sheet. The order is published as confirmed before the sheet opens.
 */
export async function orderAndPay(
  request: ConfirmOrderRequest,
  presentCashier: () => Promise<CashierChoice>,
  onOrder: (order: OrderView) => void = () => undefined,
): Promise<{ order: OrderView; outcome: PayOutcome }> {
  const { order, params } = await callApi('payment.orderAndPay', request);
  publishOrder(order);
  onOrder(order);
  return { order, outcome: await openSheet(params, presentCashier) };
}

export async function confirmPayment(orderId: string): Promise<OrderView> {
  return publishOrder(await callApi('payment.confirm', { orderId }));
}

/** An unpaid order whose payment was started may have been paid without this device hearing of it. */
export const mayBeSettled = (order: OrderView): boolean =>
  order.status === 'pending_payment' && order.timeline.some((e) => e.event === 'payment_started');

/** How often one order is checked with WeChat Pay from the list and detail pages. */
export const CHECK_INTERVAL_MS = 15_000;
const lastChecked = new Map<string, number>();

/**
 * Asks the backend to check an unpaid order with WeChat Pay (payment.confirm), at most once per CHECK_INTERVAL_MS
 * per order; undefined when it was checked too recently.
 */
export async function checkPayment(orderId: string): Promise<OrderView | undefined> {
  const now = Date.now();
  const last = lastChecked.get(orderId);
  if (last !== undefined && now - last < CHECK_INTERVAL_MS) return undefined;
  lastChecked.set(orderId, now);
  return confirmPayment(orderId);
}

/** Tests reset the cached simulator address, appid and check times. */
export function resetPaymentCache(): void {
  localCloud = undefined;
  lastChecked.clear();
}
