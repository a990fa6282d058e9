/**
 * Verification of WeChat Pay response and notification signatures.
 *
 * The key is chosen by `Wechatpay-Serial` from a map that holds platform certificates (hex serials) and WeChat Pay
 * public keys (`PUB_KEY_ID_…`) at once, because a merchant migrating between the two receives both. The message is
 * built from the raw body bytes as received, never from a re-serialised object. The timestamp must be within
 * ±300 s of an injectable clock. `WECHATPAY/SIGNTEST/` probes are rejected before any base64 work.
 */
import { createPublicKey, createVerify, verify as rsaVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeBase64Strict, getHeader, type HeaderBag } from './encoding';
import { WechatPayVerificationError } from './errors';

export const MAX_CLOCK_SKEW_SECONDS = 300;
const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

export type Clock = () => number; // milliseconds since the epoch
export const systemClock: Clock = () => Date.now();

/** serial or public key id → public key. */
export type PlatformKeys = ReadonlyMap<string, KeyObject>;

export interface PlatformKeySource {
  /** a PEM public key (needs `id`, e.g. PUB_KEY_ID_…) or a PEM certificate (its serial, upper-case hex, is the id) */
  pem: string;
  id?: string;
}

/** Builds the serial → key map from public keys and certificates, in any mix. */
export function loadPlatformKeys(sources: readonly PlatformKeySource[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const source of sources) {
    if (source.pem.includes('-----BEGIN CERTIFICATE-----')) {
      for (const block of splitPemBlocks(source.pem, 'CERTIFICATE')) {
        const cert = new X509Certificate(block);
        keys.set(cert.serialNumber.toUpperCase(), cert.publicKey);
      }
    } else {
      if (!source.id) throw new TypeError('a WeChat Pay public key needs its id (PUB_KEY_ID_…)');
      keys.set(source.id, createPublicKey(source.pem));
    }
  }
  return keys;
}

export function splitPemBlocks(pem: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g');
  return pem.match(re) ?? [];
}

/** `TIMESTAMP\nNONCE\nBODY\n` */
export function buildResponseMessage(timestamp: string, nonce: string, body: string | Buffer): Buffer {
  const head = Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8');
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([head, raw, NEWLINE]);
}
const NEWLINE = Buffer.from('\n');

export interface VerifiedHeaders {
  serial: string;
  timestamp: number;
  nonce: string;
  requestId: string | undefined;
}

export interface Verifier {
  verify(headers: HeaderBag, rawBody: string | Buffer): VerifiedHeaders;
}

export interface VerifierOptions {
  keys: PlatformKeys;
  clock?: Clock;
  maxSkewSeconds?: number;
}

export class SignatureVerifier implements Verifier {
  private readonly keys: PlatformKeys;
  private readonly clock: Clock;
  private readonly maxSkew: number;

  constructor(options: VerifierOptions) {
    this.keys = options.keys;
    this.clock = options.clock ?? systemClock;
    this.maxSkew = options.maxSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  }

  /** Throws WechatPayVerificationError unless the headers sign exactly this raw body. */
  verify(headers: HeaderBag, rawBody: string | Buffer): VerifiedHeaders {
    const signature = required(headers, 'Wechatpay-Signature', 'wechatpay-signature');
    const serial = required(headers, 'Wechatpay-Serial', 'wechatpay-serial');
    const timestampText = required(headers, 'Wechatpay-Timestamp', 'wechatpay-timestamp');
    const nonce = required(headers, 'Wechatpay-Nonce', 'wechatpay-nonce');
    const type = getHeader(headers, 'Wechatpay-Signature-Type', 'wechatpay-signature-type');
    if (type !== undefined && type !== 'WECHATPAY2-SHA256-RSA2048') {
      throw new WechatPayVerificationError('MALFORMED_HEADER', `unsupported Wechatpay-Signature-Type ${type}`);
    }
    if (signature.startsWith(SIGNTEST_PREFIX)) {
      throw new WechatPayVerificationError('SIGNTEST_PROBE', 'signature probe (WECHATPAY/SIGNTEST/) rejected');
    }
    if (!/^\d{1,12}$/.test(timestampText)) {
      throw new WechatPayVerificationError('MALFORMED_HEADER', 'Wechatpay-Timestamp is not Unix seconds');
    }
    const timestamp = Number(timestampText);
    const now = Math.floor(this.clock() / 1000);
    if (Math.abs(now - timestamp) > this.maxSkew) {
      throw new WechatPayVerificationError(
        'STALE_TIMESTAMP',
        `timestamp ${timestamp} is more than ${this.maxSkew}s from now`,
      );
    }
    const key = this.keys.get(serial);
    if (!key) throw new WechatPayVerificationError('UNKNOWN_SERIAL', `no WeChat Pay key with serial ${serial}`);
    const signatureBytes = decodeBase64Strict(signature);
    if (!signatureBytes) throw new WechatPayVerificationError('MALFORMED_HEADER', 'Wechatpay-Signature is not base64');
    // The message `TIMESTAMP\nNONCE\nBODY\n` (buildResponseMessage) fed to the hash in three parts, the body as
    // received: no copy of the body, and a streaming Verify costs less than the one-shot verify() here.
    const verifier = createVerify('sha256');
    verifier.update(`${timestampText}\n${nonce}\n`, 'utf8');
    if (typeof rawBody === 'string') verifier.update(rawBody, 'utf8');
    else verifier.update(rawBody);
    verifier.update(NEWLINE);
    if (!verifier.verify(key, signatureBytes)) {
      throw new WechatPayVerificationError('BAD_SIGNATURE', 'signature does not match the body');
    }
    return { serial, timestamp, nonce, requestId: getHeader(headers, 'Request-ID', 'request-id') };
  }
}

function required(headers: HeaderBag, name: string, lowerName: string): string {
  const value = getHeader(headers, name, lowerName);
  if (value === undefined || value === '') throw new WechatPayVerificationError('MISSING_HEADER', `missing ${name}`);
  return value;
}

/** Verifies a bare SHA256withRSA signature (base64) of a message with one public key; false on any malformed input. */
export function verifySha256Rsa(message: string | Buffer, signatureBase64: string, key: KeyObject): boolean {
  const bytes = decodeBase64Strict(signatureBase64);
  if (!bytes) return false;
  return rsaVerify('sha256', typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key, bytes);
}
