/**
 * Payment: the pay parameters from the backend, then wx.requestPayment (cloud) or, on the local cloud, a cashier
 * sheet whose choice is sent to the local WeChat Pay simulator's cashier together with everything wx.requestPayment
 * would hand WeChat (its parameters and the app's appId), so the simulator checks paySign as WeChat's payment sheet
 * does. The outcome is only what the user did: the result page asks the server whether the order is paid.
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

let localCloud: { simulatorUrl: string; appId: string } | undefined;

async function localCashier(params: RequestPaymentParams, choice: CashierChoice): Promise<PayOutcome> {
  if (!localCloud) {
    // the local cloud is the app's backend; its appid is the one WeChat's client would add for this app
    const index = await wxRequest<{ wechatpay?: string; appid?: string }>({ url: `${appConfig.localCloudUrl}/`, method: 'GET' });
    if (!index.data.wechatpay || !index.data.appid) return { kind: 'fail', reason: '本地云未返回微信支付模拟器地址或小程序 appid' };
    localCloud = { simulatorUrl: index.data.wechatpay, appId: index.data.appid };
  }
  const reply = await wxRequest<{ message?: string }>({ url: `${localCloud.simulatorUrl}/sim/cashier/${choice}`, method: 'POST', data: { appId: localCloud.appId, ...params } });
  if (reply.statusCode !== 200) return { kind: 'fail', reason: reply.data.message?.replace(/^requestPayment:fail\s*/, '') || `收银台返回 ${reply.statusCode}` };
  if (choice === 'pay') return { kind: 'ok' };
  return choice === 'cancel' ? { kind: 'cancel' } : { kind: 'fail', reason: '余额不足（模拟）' };
}

export async function payOrder(orderId: string, presentCashier: () => Promise<CashierChoice>): Promise<PayOutcome> {
  const { params } = await callApi('payment.pay', { action: 'pay', orderId });
  if (appConfig.mode === 'local') return localCashier(params, await presentCashier());
  return requestPayment(params);
}

export const confirmPayment = (orderId: string): Promise<OrderView> => callApi('payment.confirm', { action: 'confirm', orderId });

/** Tests reset the cached simulator address and appid. */
export function resetPaymentCache(): void {
  localCloud = undefined;
}
