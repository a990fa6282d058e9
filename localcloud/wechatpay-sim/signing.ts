/**
 * WeChat Pay's side of signatures and encryption: the Wechatpay-* headers of answers and notifications, the
 * encrypted notification envelope, and which key signs what in each signing mode. Written on node:crypto alone,
 * apart from the merchant's protocol module, so that a slip in the merchant's verification or decryption cannot be
 * mirrored here and pass unnoticed.
 *
 * Modes: `publicKey` (merchants created since about September 2024), `certificate`, and `both` (a merchant moving
 * from certificates to the public key): answers are signed with the public key only when the request names it in
 * Wechatpay-Serial, and notifications move to the public key on a schedule, from 0.1% to 100% of them.
 */
import {
  createCipheriv,
  createHash,
  createPrivateKey,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { LocalKeys } from '../keys';
import { PlatformCertificates } from './platform-certificates';

export type SigningMode = 'publicKey' | 'certificate' | 'both';
export const SIGNING_MODES: readonly SigningMode[] = ['publicKey', 'certificate', 'both'];
/** WeChat Pay moves a migrating merchant's notifications to the public key over about 7 days (0.1% … 100%). */
export const MIGRATION_DURATION_MS = 7 * 24 * 3600 * 1000;

export type SignedHeaders = {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048';
};

/** Anything that signs a message with WeChat Pay's private key: the key itself, or an object with `sign`. */
export type PlatformKey = KeyObject | string | { sign(message: string): string };

function signWith(key: PlatformKey, message: string): string {
  if (typeof key === 'object' && 'sign' in key && typeof key.sign === 'function') return key.sign(message);
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : (key as KeyObject);
  return sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** The Wechatpay-* headers over `timestamp\nnonce\nbody\n`. */
export function signResponse(
  key: PlatformKey,
  serial: string,
  body: string | Buffer,
  timestamp: number,
  nonce = randomBytes(16).toString('hex'),
): SignedHeaders {
  const ts = String(timestamp);
  const raw = typeof body === 'string' ? body : body.toString('utf8');
  return {
    'Wechatpay-Timestamp': ts,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signWith(key, `${ts}\n${nonce}\n${raw}\n`),
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
  };
}

export interface NotificationEnvelope {
  id: string;
  create_time: string;
  resource_type: 'encrypt-resource';
  event_type: string;
  summary: string;
  resource: {
    original_type: string;
    algorithm: 'AEAD_AES_256_GCM';
    ciphertext: string;
    associated_data: string;
    nonce: string;
  };
}

/** AEAD_AES_256_GCM with the APIv3 key: base64(ciphertext ‖ 16-byte tag). */
export function encryptResource(
  apiV3Key: string | Buffer,
  nonce: string,
  associatedData: string,
  plaintext: string,
): string {
  const key = typeof apiV3Key === 'string' ? Buffer.from(apiV3Key, 'utf8') : apiV3Key;
  if (key.length !== 32) throw new RangeError('the APIv3 key is 32 bytes');
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

export interface EnvelopeInput {
  apiV3Key: string | Buffer;
  eventType: string;
  summary: string;
  originalType: 'transaction' | 'refund';
  resource: unknown;
  createTime: string;
  id?: string;
}

/** A notification as WeChat Pay posts it: the resource encrypted, associated_data the original type. */
export function encryptNotification(input: EnvelopeInput): NotificationEnvelope {
  const nonce = randomBytes(9).toString('base64url').slice(0, 12);
  const associatedData = input.originalType;
  return {
    id: input.id ?? randomUUID(),
    create_time: input.createTime,
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary,
    resource: {
      original_type: input.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptResource(input.apiV3Key, nonce, associatedData, JSON.stringify(input.resource)),
      associated_data: associatedData,
      nonce,
    },
  };
}

export interface SigningSettings {
  signingMode: SigningMode;
  /** the ramp of notifications moving to the public key (`both`), on business time */
  migration: { startedAt: number; durationMs: number };
  /** a fixed share of notifications signed with the public key (`both`), instead of the ramp */
  publicKeyShare?: number;
}

/**
 * Which key signs what: the simulator's private key behind the public key, and the current platform certificate's
 * key (the local keys' certificate, until a rotation issues another: platform-certificates.ts).
 */
export class PlatformSigning {
  private readonly key: KeyObject;
  readonly certificates: PlatformCertificates;

  constructor(
    private readonly keys: LocalKeys,
    private readonly settings: SigningSettings,
    private readonly businessNow: () => number,
    private readonly wallNow: () => number,
  ) {
    this.key = createPrivateKey(keys.platformPrivateKeyPem);
    this.certificates = new PlatformCertificates(keys);
  }

  /** The serials of the keys this merchant has in the current mode (listed certificates, the public key). */
  knownSerials(): string[] {
    return [
      ...(this.settings.signingMode !== 'certificate' ? [this.keys.publicKeyId] : []),
      ...(this.settings.signingMode !== 'publicKey'
        ? this.certificates.list(this.businessNow()).map((c) => c.serial)
        : []),
    ];
  }

  /** The private key behind a serial (for signing and for sensitive-field decryption). */
  privateKeyFor(serial: string): KeyObject | undefined {
    return serial === this.keys.publicKeyId ? this.key : this.certificates.get(serial)?.key;
  }

  /** An answer's serial: in `both` mode the public key only when the request names it in Wechatpay-Serial. */
  responseSerial(requestSerial: string | undefined): string {
    const { publicKeyId } = this.keys;
    const platformCertificateSerial = this.certificates.current().serial;
    if (this.settings.signingMode === 'publicKey') return publicKeyId;
    if (this.settings.signingMode === 'certificate') return platformCertificateSerial;
    return requestSerial === publicKeyId ? publicKeyId : platformCertificateSerial;
  }

  /**
   * The share of notifications signed with the public key: all in publicKey mode, none in certificate mode; in
   * `both` mode it grows geometrically from 0.1% when the migration starts to 100% when it ends, unless fixed.
   */
  publicKeyShare(): number {
    if (this.settings.signingMode === 'publicKey') return 1;
    if (this.settings.signingMode === 'certificate') return 0;
    if (this.settings.publicKeyShare !== undefined) return this.settings.publicKeyShare;
    const elapsed = this.businessNow() - this.settings.migration.startedAt;
    if (elapsed < 0) return 0;
    return Math.min(1, 0.001 * 1000 ** (elapsed / this.settings.migration.durationMs));
  }

  /** A notification's key is fixed by its id, so every attempt of one notification carries the same serial. */
  notificationSerial(notificationId: string): string {
    const bucket = createHash('sha256').update(notificationId).digest().readUInt32BE(0) / 2 ** 32;
    return bucket < this.publicKeyShare() ? this.keys.publicKeyId : this.certificates.current().serial;
  }

  /** Headers for an answer; timestamps are wall time, as both sides of the real wire share it. */
  answerHeaders(requestSerial: string | undefined, body: string): SignedHeaders {
    const serial = this.responseSerial(requestSerial);
    return signResponse(this.privateKeyFor(serial)!, serial, body, Math.floor(this.wallNow() / 1000));
  }

  notificationHeaders(notificationId: string, body: string): SignedHeaders {
    const serial = this.notificationSerial(notificationId);
    return signResponse(this.privateKeyFor(serial)!, serial, body, Math.floor(this.wallNow() / 1000));
  }
}
