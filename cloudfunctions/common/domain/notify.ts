/**
 * The WeChat Pay notification endpoint (cloud HTTP access). Verify the raw body, decrypt, settle through the same
 * functions a query uses, log every delivery append-only, and answer:
 *   204 when handled (including duplicates, and genuine notifications we cannot act on, such as an amount mismatch:
 *       a retry cannot change them);
 *   401 {"code":"FAIL"} when the signature, freshness or decryption fails, 400 when the merchant does not match;
 *   500 {"code":"FAIL"} when storage fails, so WeChat Pay retries.
 * Round trips on a first payment notification: payment read, order CAS, payment CAS, log append (4); on a duplicate:
 * payment read and log append (2).
 */
import {
  rawNotificationFromHttpEvent,
  WechatPayDecryptError,
  WechatPayNotificationError,
  WechatPayVerificationError,
  type HttpAccessEvent,
  type ParsedNotification,
} from '../wechatpay';
import { COLLECTIONS } from '../store/store';
import type { Deps } from './deps';
import { settleTransaction } from './payments';
import { applyRefundOutcome, REFUND_STATUS_FROM_WECHAT } from './refunds';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface NotificationLogEntry {
  receivedAt: number;
  headers: Record<string, string | undefined>;
  body: string;
  isBase64Encoded: boolean;
  verdict: string;
  eventType?: string;
  notificationId?: string;
  outTradeNo?: string;
  outRefundNo?: string;
  ms: number;
}

const answer = (statusCode: number, code?: string, message?: string): HttpResponse => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: code ? JSON.stringify({ code, message }) : '',
});

export async function handleNotification(deps: Deps, event: HttpAccessEvent): Promise<HttpResponse> {
  const started = deps.clock();
  const entry: NotificationLogEntry = {
    receivedAt: started,
    headers: event.headers ?? {},
    body: event.body ?? '',
    isBase64Encoded: event.isBase64Encoded === true,
    verdict: 'pending',
    ms: 0,
  };
  let response: HttpResponse;
  try {
    const parsed = parse(deps, event);
    if ('rejected' in parsed) {
      entry.verdict = parsed.rejected;
      response = answer(401, 'FAIL', 'verification failed');
    } else {
      entry.eventType = parsed.eventType;
      entry.notificationId = parsed.envelope.id;
      entry.outTradeNo = parsed.resource.out_trade_no;
      if (parsed.kind === 'transaction') {
        entry.verdict = await settleTransaction(deps, parsed.resource);
      } else {
        entry.outRefundNo = parsed.resource.out_refund_no;
        entry.verdict =
          parsed.resource.mchid !== deps.pay.config.mchid
            ? 'merchant_mismatch'
            : await applyRefundOutcome(deps, parsed.resource.out_refund_no, REFUND_STATUS_FROM_WECHAT[parsed.resource.refund_status], {
                refundId: parsed.resource.refund_id,
                ...(parsed.resource.success_time ? { successTime: parsed.resource.success_time } : {}),
              });
      }
      response = entry.verdict === 'merchant_mismatch' ? answer(400, 'FAIL', 'merchant mismatch') : answer(204);
    }
  } catch (error) {
    deps.log.error('notification not processed: answering 500 so WeChat Pay retries', { error: (error as Error).message });
    entry.verdict = 'error';
    response = answer(500, 'FAIL', 'temporarily unavailable');
  }
  entry.ms = deps.clock() - started;
  try {
    await deps.store.append(COLLECTIONS.notifications, entry);
  } catch (error) {
    deps.log.error('notification log write failed', { error: (error as Error).message, verdict: entry.verdict });
    if (response.statusCode < 300) response = answer(500, 'FAIL', 'temporarily unavailable');
  }
  return response;
}

function parse(deps: Deps, event: HttpAccessEvent): ParsedNotification | { rejected: string } {
  try {
    return deps.pay.notifications.parse(rawNotificationFromHttpEvent(event));
  } catch (error) {
    if (error instanceof WechatPayVerificationError) return { rejected: `rejected:${error.reason}` };
    if (error instanceof WechatPayDecryptError) return { rejected: `rejected:DECRYPT_${error.reason}` };
    if (error instanceof WechatPayNotificationError) return { rejected: 'rejected:MALFORMED' };
    throw error;
  }
}
