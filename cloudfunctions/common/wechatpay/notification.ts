/**
 * Notification handling: verify the raw body, decrypt the resource, and type it by event.
 *
 * Input is the raw body exactly as received (bytes or string) plus headers in any case, or a cloud HTTP access
 * event, whose body is base64 when `isBase64Encoded`. Nothing is parsed before the signature is checked.
 */
import { decryptAesGcm } from './aesgcm';
import type { HeaderBag } from './encoding';
import { WechatPayNotificationError } from './errors';
import type { NotificationEnvelope, RefundNotificationResource, Transaction } from './types';
import { REFUND_STATUSES, TRADE_STATES } from './types';
import type { VerifiedHeaders, Verifier } from './verifier';

export type ParsedNotification =
  | { kind: 'transaction'; eventType: string; envelope: NotificationEnvelope; verified: VerifiedHeaders; resource: Transaction }
  | { kind: 'refund'; eventType: string; envelope: NotificationEnvelope; verified: VerifiedHeaders; resource: RefundNotificationResource }
  /** verified and decrypted, of an event type this module does not type (the caller decides to ignore it) */
  | { kind: 'other'; eventType: string; envelope: NotificationEnvelope; verified: VerifiedHeaders; resource: Record<string, unknown> };

export interface NotificationParserOptions {
  verifier: Verifier;
  apiV3Key: string | Buffer;
}

/** The part of a cloud HTTP access event a notification needs. */
export interface HttpAccessEvent {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface RawNotification {
  headers: HeaderBag;
  body: Buffer;
}

export function rawNotificationFromHttpEvent(event: HttpAccessEvent): RawNotification {
  const text = event.body ?? '';
  return {
    headers: event.headers ?? {},
    body: event.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

export class NotificationParser {
  private readonly apiV3Key: Buffer;
  constructor(private readonly options: NotificationParserOptions) {
    // converted once: the parser runs on every notification
    this.apiV3Key = typeof options.apiV3Key === 'string' ? Buffer.from(options.apiV3Key, 'utf8') : options.apiV3Key;
  }

  /** Verifies and decrypts; throws WechatPayVerificationError, WechatPayDecryptError or WechatPayNotificationError. */
  parse(raw: RawNotification): ParsedNotification {
    const verified = this.options.verifier.verify(raw.headers, raw.body);
    const envelope = parseEnvelope(raw.body);
    const { resource } = envelope;
    const plaintext = decryptAesGcm({
      key: this.apiV3Key,
      nonce: resource.nonce,
      associatedData: resource.associated_data ?? '',
      ciphertext: resource.ciphertext,
    });
    const decoded = parseJsonObject(plaintext, 'decrypted resource');
    if (envelope.event_type.startsWith('TRANSACTION.')) {
      return { kind: 'transaction', eventType: envelope.event_type, envelope, verified, resource: asTransaction(decoded) };
    }
    if (envelope.event_type.startsWith('REFUND.')) {
      return { kind: 'refund', eventType: envelope.event_type, envelope, verified, resource: asRefundResource(decoded) };
    }
    return { kind: 'other', eventType: envelope.event_type, envelope, verified, resource: decoded };
  }

  parseHttpEvent(event: HttpAccessEvent): ParsedNotification {
    return this.parse(rawNotificationFromHttpEvent(event));
  }
}

function parseJsonObject(text: string | Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.toString());
  } catch {
    throw new WechatPayNotificationError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WechatPayNotificationError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isFen = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const BACKSLASH_U = Buffer.from('\\u');
/** The envelope's top-level strings that may carry non-ASCII text (WeChat Pay's `summary` is Chinese). */
const ENVELOPE_TEXT_FIELDS = ['summary', 'id', 'create_time', 'resource_type', 'event_type'] as const;

/**
 * A JSON object from its UTF-8 bytes, equal to `JSON.parse(bytes.toString('utf8'))` for every input (same value, same
 * rejection). Why not just that: WeChat Pay's envelope carries a Chinese `summary`, and one non-ASCII byte sends V8's
 * UTF-8 decoder down its slow path for the whole kilobyte (about 0.9 µs a notification, more than the envelope's
 * JSON.parse). JSON's structure is ASCII, so the bytes are parsed as Latin-1 (one character per byte, no decoding):
 * a byte ≥ 0x80 can then only stand inside a string, and the strings named in `textFields` that hold such bytes are
 * decoded from their own bytes. That is exact because an ASCII byte always ends a UTF-8 sequence, valid or not, so a
 * string's bytes decode alone as they decode in the whole; and without a `\u` escape every character ≥ 0x80 in a
 * parsed string is one raw byte. With a `\u` escape, or with high bytes elsewhere (a key, another field), the bytes
 * are decoded whole as before. The equivalence is property-tested (test/server/wechatpay/notification.test.ts).
 */
export function parseUtf8JsonObject(bytes: Buffer, what: string, textFields: readonly string[]): Record<string, unknown> {
  const latin1 = bytes.toString('latin1');
  const obj = parseJsonObject(latin1, what);
  // each byte ≥ 0x80 is one Latin-1 character that takes two bytes in UTF-8
  let highBytes = Buffer.byteLength(latin1, 'utf8') - latin1.length;
  if (highBytes === 0) return obj;
  if (bytes.indexOf(BACKSLASH_U) !== -1) return parseJsonObject(bytes, what);
  for (const field of textFields) {
    const value = obj[field];
    if (typeof value !== 'string') continue;
    const high = Buffer.byteLength(value, 'utf8') - value.length;
    if (high === 0) continue;
    obj[field] = Buffer.from(value, 'latin1').toString('utf8');
    highBytes -= high;
    if (highBytes === 0) return obj;
  }
  return parseJsonObject(bytes, what);
}

export function parseEnvelope(body: Buffer | string): NotificationEnvelope {
  const obj = typeof body === 'string' ? parseJsonObject(body, 'notification body') : parseUtf8JsonObject(body, 'notification body', ENVELOPE_TEXT_FIELDS);
  const resource = obj.resource as Record<string, unknown> | undefined;
  if (!isString(obj.id) || !isString(obj.event_type) || typeof resource !== 'object' || resource === null) {
    throw new WechatPayNotificationError('notification envelope lacks id, event_type or resource');
  }
  if (resource.algorithm !== 'AEAD_AES_256_GCM' || !isString(resource.ciphertext) || !isString(resource.nonce)) {
    throw new WechatPayNotificationError('notification resource is not AEAD_AES_256_GCM with ciphertext and nonce');
  }
  return obj as unknown as NotificationEnvelope;
}

function asTransaction(obj: Record<string, unknown>): Transaction {
  const amount = obj.amount as Record<string, unknown> | undefined;
  if (
    !isString(obj.mchid) ||
    !isString(obj.appid) ||
    !isString(obj.out_trade_no) ||
    !TRADE_STATES.includes(obj.trade_state as never) ||
    typeof amount !== 'object' ||
    amount === null ||
    !isFen(amount.total)
  ) {
    throw new WechatPayNotificationError('transaction resource lacks mchid, appid, out_trade_no, trade_state or amount.total');
  }
  return obj as unknown as Transaction;
}

function asRefundResource(obj: Record<string, unknown>): RefundNotificationResource {
  const amount = obj.amount as Record<string, unknown> | undefined;
  if (
    !isString(obj.mchid) ||
    !isString(obj.out_trade_no) ||
    !isString(obj.out_refund_no) ||
    !REFUND_STATUSES.includes(obj.refund_status as never) ||
    typeof amount !== 'object' ||
    amount === null ||
    !isFen(amount.refund) ||
    !isFen(amount.total)
  ) {
    throw new WechatPayNotificationError('refund resource lacks mchid, out_trade_no, out_refund_no, refund_status or amount');
  }
  return obj as unknown as RefundNotificationResource;
}
