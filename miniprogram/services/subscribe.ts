/**
 * Subscribe messages. WeChat shows the subscribe dialog only when wx.requestSubscribeMessage is called in a tap
 * handler (later it fails: "can only be invoked by user TAP gesture"), so the pay flow calls `askPaySuccessMessage`
 * first, synchronously, in the pay tap. A refusal, a dialog the user switched off, or a failure never stops paying.
 * An acceptance is recorded for the order (payment.subscribe): the backend sends the message only after one.
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

/** Orders whose payment-success message was accepted in this session: one message per order, so asked once. */
const acceptedOrders = new Set<string>();

/** Call synchronously in the pay tap (orderId: the order being paid, when it already exists). */
export function askPaySuccessMessage(orderId?: string): Promise<SubscribeAnswer> {
  if (orderId && acceptedOrders.has(orderId)) return Promise.resolve('skipped');
  return askSubscription(appConfig.paySuccessTemplateId);
}

/** Tells the backend the buyer accepted the payment-success message for this order; never throws. */
export async function recordPaySuccessAcceptance(orderId: string): Promise<boolean> {
  try {
    await callApi('payment.subscribe', { orderId, templateId: appConfig.paySuccessTemplateId });
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
