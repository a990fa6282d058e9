/**
 * Payment: the pay parameters from the backend, then wx.requestPayment (cloud) or, on the local cloud, a cashier
 * sheet whose choice is sent to the local WeChat Pay simulator's cashier. The outcome is only what the user did:
 * the result page asks the server whether the order is paid.
 */
import type { OrderView, RequestPaymentParams } from '../../typings/api';
import { appConfig } from '../config';
import { callApi } from './api';
import { wxRequest } from './transport';

export type PayOutcome = { kind: 'ok' } | { kind: 'cancel' } | { kind: 'fail'; reason: string };
export type CashierChoice = 'pay' | 'cancel' | 'fail';

export function requestPayment(params: RequestPaymentParams): Promise<PayOutcome> {
  return new Promise((resolve) => {
    wx.requestPayment({
      ...params,
      success: () => resolve({ kind: 'ok' }),
      fail: (err) => resolve(/cancel/.test(err.errMsg) ? { kind: 'cancel' } : { kind: 'fail', reason: err.errMsg.replace(/^requestPayment:fail\s*/, '') || '支付失败' }),
    });
  });
}

let simulatorUrl: string | undefined;

async function localCashier(prepayId: string, choice: CashierChoice): Promise<PayOutcome> {
  if (!simulatorUrl) {
    const index = await wxRequest<{ wechatpay?: string }>({ url: `${appConfig.localCloudUrl}/`, method: 'GET' });
    simulatorUrl = index.data.wechatpay;
    if (!simulatorUrl) return { kind: 'fail', reason: '本地云未返回微信支付模拟器地址' };
  }
  const reply = await wxRequest<{ message?: string }>({ url: `${simulatorUrl}/sim/cashier/${choice}`, method: 'POST', data: { prepay_id: prepayId } });
  if (reply.statusCode !== 200) return { kind: 'fail', reason: reply.data.message ?? `收银台返回 ${reply.statusCode}` };
  if (choice === 'pay') return { kind: 'ok' };
  return choice === 'cancel' ? { kind: 'cancel' } : { kind: 'fail', reason: '余额不足（模拟）' };
}

export async function payOrder(orderId: string, presentCashier: () => Promise<CashierChoice>): Promise<PayOutcome> {
  const { params, prepayId } = await callApi('payment.pay', { action: 'pay', orderId });
  if (appConfig.mode === 'local') return localCashier(prepayId, await presentCashier());
  return requestPayment(params);
}

export const confirmPayment = (orderId: string): Promise<OrderView> => callApi('payment.confirm', { action: 'confirm', orderId });

/** Tests reset the cached simulator address. */
export function resetPaymentCache(): void {
  simulatorUrl = undefined;
}
