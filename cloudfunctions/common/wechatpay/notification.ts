/**
 * Notification handling: verify the raw body, decrypt the resource, and type it by event.
 *
 * Input is the request as received, `{ headers, body }`: the raw body's bytes and the headers in any case (as
 * wechatpay-go's notify handler knows only the request; reading it out of a platform's event is the caller's part).
 * Nothing is parsed before the signature is checked.
 */
import { decryptAesGcmBytes } from './aesgcm';
import type { HeaderBag } from './encoding';
import { WechatPayNotificationError } from './errors';
import type { NotificationEnvelope, RefundNotificationResource, Transaction } from './types';
import { REFUND_STATUSES, TRADE_STATES } from './types';
import { parseJsonObject, parseUtf8JsonObject } from './utf8-json';
import type { VerifiedHeaders, Verifier } from './verifier';

export type ParsedNotification =
  | {
      kind: 'transaction';
      eventType: string;
      envelope: NotificationEnvelope;
      verified: VerifiedHeaders;
      resource: Transaction;
    }
  | {
      kind: 'refund';
      eventType: string;
      envelope: NotificationEnvelope;
      verified: VerifiedHeaders;
      resource: RefundNotificationResource;
    }
  /** verified and decrypted, of an event type this module does not type (the caller decides to ignore it) */
  | {
      kind: 'other';
      eventType: string;
      envelope: NotificationEnvelope;
      verified: VerifiedHeaders;
      resource: Record<string, unknown>;
    };

export interface NotificationParserOptions {
  verifier: Verifier;
  apiV3Key: string | Buffer;
}

export interface RawNotification {
  headers: HeaderBag;
  body: Buffer;
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
    const plaintext = decryptAesGcmBytes({
      key: this.apiV3Key,
      nonce: resource.nonce,
      associatedData: resource.associated_data ?? '',
      ciphertext: resource.ciphertext,
    });
    const eventType = envelope.event_type;
    if (eventType.startsWith('TRANSACTION.')) {
      const decoded = parseUtf8JsonObject(plaintext, 'decrypted resource', TRANSACTION_TEXT_FIELDS);
      return { kind: 'transaction', eventType, envelope, verified, resource: asTransaction(decoded) };
    }
    if (eventType.startsWith('REFUND.')) {
      const decoded = parseUtf8JsonObject(plaintext, 'decrypted resource', REFUND_TEXT_FIELDS);
      return { kind: 'refund', eventType, envelope, verified, resource: asRefundResource(decoded) };
    }
    return { kind: 'other', eventType, envelope, verified, resource: parseJsonObject(plaintext, 'decrypted resource') };
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isFen = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The top-level strings that carry non-ASCII text, most likely first: the envelope's `summary` ("支付成功"), a payment's
 * `trade_state_desc`, a refund's `user_received_account` ("招商银行信用卡0403"). Text anywhere else (a coupon's name in
 * `promotion_detail`) is decoded as well, by decoding the whole document (utf8-json.ts).
 */
const ENVELOPE_TEXT_FIELDS = ['summary', 'id', 'create_time', 'resource_type', 'event_type'] as const;
const TRANSACTION_TEXT_FIELDS = ['trade_state_desc', 'attach'] as const;
const REFUND_TEXT_FIELDS = ['user_received_account'] as const;

export function parseEnvelope(body: Buffer | string): NotificationEnvelope {
  const obj =
    typeof body === 'string'
      ? parseJsonObject(body, 'notification body')
      : parseUtf8JsonObject(body, 'notification body', ENVELOPE_TEXT_FIELDS);
  const resource = obj.resource as Record<string, unknown> | undefined;
  if (!isString(obj.id) || !isString(obj.event_type) || typeof resource !== 'object' || resource === null) {
    throw new WechatPayNotificationError('notification envelope lacks id, event_type or resource');
  }
  if (resource.algorithm !== 'AEAD_AES_256_GCM' || !isString(resource.ciphertext) || !isString(resource.nonce)) {
    throw new WechatPayNotificationError('notification resource is not AEAD_AES_256_GCM with ciphertext and nonce');
  }
  return obj as unknown as NotificationEnvelope;
}

/** A direct merchant's resource names mchid (and appid); a service provider's sp_mchid, sub_mchid (and sp_appid). */
const namesMerchant = (obj: Record<string, unknown>, app: boolean): boolean =>
  (isString(obj.mchid) && (!app || isString(obj.appid))) ||
  (isString(obj.sp_mchid) && isString(obj.sub_mchid) && (!app || isString(obj.sp_appid)));

function asTransaction(obj: Record<string, unknown>): Transaction {
  const amount = obj.amount as Record<string, unknown> | undefined;
  if (
    !namesMerchant(obj, true) ||
    !isString(obj.out_trade_no) ||
    !TRADE_STATES.includes(obj.trade_state as never) ||
    typeof amount !== 'object' ||
    amount === null ||
    !isFen(amount.total)
  ) {
    throw new WechatPayNotificationError(
      'transaction resource lacks mchid, appid (or sp_mchid, sub_mchid, sp_appid), out_trade_no, trade_state or amount.total',
    );
  }
  return obj as unknown as Transaction;
}

function asRefundResource(obj: Record<string, unknown>): RefundNotificationResource {
  const amount = obj.amount as Record<string, unknown> | undefined;
  if (
    !namesMerchant(obj, false) ||
    !isString(obj.out_trade_no) ||
    !isString(obj.out_refund_no) ||
    !REFUND_STATUSES.includes(obj.refund_status as never) ||
    typeof amount !== 'object' ||
    amount === null ||
    !isFen(amount.refund) ||
    !isFen(amount.total)
  ) {
    throw new WechatPayNotificationError(
      'refund resource lacks mchid (or sp_mchid, sub_mchid), out_trade_no, out_refund_no, refund_status or amount',
    );
  }
  return obj as unknown as RefundNotificationResource;
}
