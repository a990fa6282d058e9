/**
 * The WeChat Pay notification endpoint (cloud HTTP access). Verify the raw body, decrypt, settle through the same
 * functions a query uses, log every delivery append-only, and answer:
 *   413 before any work when the body is over 64 KB (no WeChat Pay notification comes near it);
 *   204 when handled (including duplicates, event types we do not act on, and genuine notifications we cannot act on,
 *       such as an amount mismatch: a retry cannot change them; a person looks at the exception instead);
 *   401 {"code":"FAIL"} when the signature, freshness or decryption fails, 400 when the merchant does not match;
 *   500 {"code":"FAIL"} when storage fails, so WeChat Pay retries.
 * A verified delivery is logged whole; a rejected one (anyone can post to the notify URL) only as its size, SHA-256,
 * first 512 bytes and Wechatpay-* headers, so unauthenticated posts cannot grow the log by more than that.
 * Round trips on a first payment notification: payment read, transaction_id claim, order CAS, payment CAS, log
 * append (5); on a duplicate: payment read and log append (2).
 */
import { createHash } from 'node:crypto';
import {
  WechatPayDecryptError,
  WechatPayNotificationError,
  WechatPayVerificationError,
  type ParsedNotification,
  type RawNotification,
} from '../../wechatpay';
import { bodySize, rawRequestOf, type HttpAccessEvent, type HttpResponse } from '../../http';
import { COLLECTIONS } from '../../store/store';
import type { Deps } from '../deps';
import { openException } from '../attention/exceptions';
import { isPartner } from '../merchants';
import type { RefundDoc } from '../records';
import { moveRefund } from './refunds';
import { REFUND_STATE_FROM_WECHAT } from './refund-table';
import { settleTransaction } from './settlement';

export const MAX_NOTIFICATION_BYTES = 64 * 1024;
const LOGGED_PREFIX_BYTES = 512;

/** The event types WeChat Pay documents for JSAPI payments and refunds: only these change anything. */
export const ACTED_EVENT_TYPES = new Set(['TRANSACTION.SUCCESS', 'REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED']);

export interface NotificationLogEntry {
  receivedAt: number;
  /** verified deliveries: every header and the whole body */
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  /** rejected deliveries: what identifies them without storing what an anonymous sender chose to send */
  size?: number;
  sha256?: string;
  prefix?: string;
  wechatpayHeaders?: Record<string, string | undefined>;
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

function rejectedFields(
  raw: RawNotification,
): Pick<NotificationLogEntry, 'size' | 'sha256' | 'prefix' | 'wechatpayHeaders'> {
  const wechatpayHeaders: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw.headers)) {
    if (/^wechatpay-/i.test(name))
      wechatpayHeaders[name] = Array.isArray(value) ? value.join(',') : (value as string | undefined)?.slice(0, 1024);
  }
  return {
    size: raw.body.length,
    sha256: createHash('sha256').update(raw.body).digest('hex'),
    prefix: raw.body.subarray(0, LOGGED_PREFIX_BYTES).toString('utf8'),
    wechatpayHeaders,
  };
}

export async function handleNotification(deps: Deps, event: HttpAccessEvent): Promise<HttpResponse> {
  if (bodySize(event) > MAX_NOTIFICATION_BYTES) return answer(413, 'FAIL', 'body too large');
  const started = deps.clock();
  const raw = rawRequestOf(event);
  const entry: NotificationLogEntry = { receivedAt: started, verdict: 'pending', ms: 0 };
  let response: HttpResponse;
  try {
    const parsed = parse(deps, raw);
    if ('rejected' in parsed) {
      Object.assign(entry, rejectedFields(raw));
      entry.verdict = parsed.rejected;
      response = answer(401, 'FAIL', 'verification failed');
    } else {
      Object.assign(entry, {
        headers: event.headers ?? {},
        body: event.body ?? '',
        isBase64Encoded: event.isBase64Encoded === true,
      });
      entry.eventType = parsed.eventType;
      entry.notificationId = parsed.envelope.id;
      entry.verdict = await act(deps, parsed, entry);
      response = entry.verdict === 'merchant_mismatch' ? answer(400, 'FAIL', 'merchant mismatch') : answer(204);
    }
  } catch (error) {
    deps.log.error('notification not processed: answering 500 so WeChat Pay retries', {
      error: (error as Error).message,
    });
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

/** What a verified notification changes; its verdict is logged. */
async function act(deps: Deps, parsed: ParsedNotification, entry: NotificationLogEntry): Promise<string> {
  const outTradeNo = (parsed.resource as { out_trade_no?: unknown }).out_trade_no;
  if (typeof outTradeNo === 'string') entry.outTradeNo = outTradeNo;
  if (parsed.kind === 'other' || !ACTED_EVENT_TYPES.has(parsed.eventType)) return 'ignored_event_type';
  if (parsed.kind === 'transaction') {
    if (parsed.resource.trade_state !== 'SUCCESS') return 'event_state_mismatch';
    return settleTransaction(deps, parsed.resource, 'notification');
  }
  const refund = parsed.resource;
  entry.outRefundNo = refund.out_refund_no;
  const partner = isPartner(deps);
  if ((partner ? refund.sp_mchid : refund.mchid) !== deps.pay.config.mchid) return 'merchant_mismatch';
  if (parsed.eventType !== `REFUND.${refund.refund_status}`) return 'event_state_mismatch';
  const stored = await deps.store.getById<RefundDoc>(COLLECTIONS.refunds, refund.out_refund_no);
  if (!stored) return 'unknown_refund';
  if (partner && refund.sub_mchid !== stored.subMchid) {
    // another sub-merchant's refund under our out_refund_no: nothing changes, a person looks at it
    await openException(deps, {
      kind: 'payment_mismatch',
      key: stored._id,
      orderId: stored.orderId,
      outTradeNo: stored.outTradeNo,
      outRefundNo: stored._id,
      detail: `refund notification of sub_mchid ${String(refund.sub_mchid)}, the refund's is ${String(stored.subMchid)}`,
    });
    return 'merchant_mismatch';
  }
  if (
    stored.outTradeNo !== refund.out_trade_no ||
    stored.amountFen !== refund.amount.refund ||
    stored.totalFen !== refund.amount.total
  ) {
    deps.log.error('refund notification does not match the stored refund: not applied', {
      outRefundNo: refund.out_refund_no,
    });
    return 'refund_mismatch';
  }
  return moveRefund(deps, refund.out_refund_no, REFUND_STATE_FROM_WECHAT[refund.refund_status], {
    refundId: refund.refund_id,
    ...(refund.success_time ? { successTime: refund.success_time } : {}),
  });
}

function parse(deps: Deps, raw: RawNotification): ParsedNotification | { rejected: string } {
  try {
    return deps.pay.notifications.parse(raw);
  } catch (error) {
    if (error instanceof WechatPayVerificationError) return { rejected: `rejected:${error.reason}` };
    if (error instanceof WechatPayDecryptError) return { rejected: `rejected:DECRYPT_${error.reason}` };
    if (error instanceof WechatPayNotificationError) return { rejected: 'rejected:MALFORMED' };
    throw error;
  }
}
