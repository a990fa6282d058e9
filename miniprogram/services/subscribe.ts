/**
 * Subscribe messages. WeChat shows the subscribe dialog only when wx.requestSubscribeMessage is called in a tap
 * handler (later it fails: "can only be invoked by user TAP gesture"). The order-progress message is asked on the paid
 * page, in its own tap (not in the pay tap: WeChat sends its payment voucher itself, and paying stays one dialog);
 * an acceptance is recorded for the order (payment.subscribe): the backend sends the message only after one.
 */
import type { SubscribeAlertsResponse } from '../../typings/api';
import { appConfig } from '../config';
import { callApi } from './api';
import { reportClientLog } from './client-log';

export type SubscribeAnswer = 'accept' | 'reject' | 'ban' | 'filter' | 'failed' | 'skipped';

/** errCode 20004: the user turned subscribe messages off for this mini-program; not worth a log line */
const SWITCHED_OFF = 20004;

export function askSubscription(templateId: string): Promise<SubscribeAnswer> {
  if (!templateId || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve('skipped');
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: [templateId],
      success: (res) => {
        const answer = (res as unknown as Record<string, string>)[templateId];
        resolve(
          answer === 'accept' || answer === 'reject' || answer === 'ban' || answer === 'filter' ? answer : 'failed',
        );
      },
      fail: (err) => {
        const { errCode, errMsg } = err as { errCode?: number; errMsg?: string };
        if (errCode !== SWITCHED_OFF)
          reportClientLog('subscribe_error', `${errMsg ?? ''}${errCode ? ` (${errCode})` : ''}`);
        resolve('failed');
      },
    });
  });
}

/** Orders whose progress message was accepted in this session: one message per order, so asked once. */
const acceptedOrders = new Set<string>();

export const orderUpdatesOffered = (orderId: string) =>
  Boolean(appConfig.orderUpdateTemplateId) && !acceptedOrders.has(orderId);

/** Call synchronously in a tap handler; an acceptance is recorded for the order. Never throws. */
export async function subscribeOrderUpdates(orderId: string): Promise<SubscribeAnswer> {
  if (!orderUpdatesOffered(orderId)) return 'skipped';
  const answer = await askSubscription(appConfig.orderUpdateTemplateId);
  if (answer === 'accept' && !(await recordOrderUpdateAcceptance(orderId))) return 'failed';
  return answer;
}

/** Tells the backend the buyer accepted the progress message for this order; never throws. */
async function recordOrderUpdateAcceptance(orderId: string): Promise<boolean> {
  try {
    await callApi('payment.subscribe', { orderId, templateId: appConfig.orderUpdateTemplateId });
    acceptedOrders.add(orderId);
    return true;
  } catch {
    return false;
  }
}

/** An admin accepted alert messages: each acceptance lets the backend send one alert. */
export function recordAlertAcceptance(accepted: number): Promise<SubscribeAlertsResponse> {
  return callApi('books.subscribeAlerts', { accepted });
}

/** Tests start each case with nothing accepted. */
export function resetSubscriptions(): void {
  acceptedOrders.clear();
}
