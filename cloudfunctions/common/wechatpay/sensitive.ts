/**
 * Sensitive request fields (bank account, real name): RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label, base64.
 *
 * That is WeChat Pay's scheme in every official SDK: wechatpay-go `utils.EncryptOAEPWithPublicKey`
 * (`rsa.EncryptOAEP(sha1.New(), …, nil)`), wechatpay-java `RSAPrivacyEncryptor`
 * ("RSA/ECB/OAEPWithSHA-1AndMGF1Padding"), wechatpay-axios-plugin `Rsa.encrypt` (`oaepHash: 'sha1'`). PKCS#1 v1.5 is
 * refused: WeChat Pay asks for OAEP, and Node no longer decrypts v1.5 safely (CVE-2023-46809).
 *
 * The key is the WeChat Pay public key (`PUB_KEY_ID_…`, recommended by the endpoint docs) or else the newest
 * platform certificate, "newest" meaning the latest start of validity (wechatpay-go `CertificateMap`, NotBefore).
 * The request must then carry `Wechatpay-Serial:` that key's id, so `SensitiveKey` keeps the two together.
 */
import { X509Certificate, constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { decodeBase64Strict } from './encoding';
import type { PlatformKeys } from './verifier';

export type SensitiveFailure =
  'NO_KEY' | 'AMBIGUOUS_KEY' | 'BAD_KEY' | 'BAD_INPUT' | 'PLAINTEXT_TOO_LONG' | 'DECRYPT_FAILED';

/** Sensitive-field encryption or decryption refused. Never carries the plaintext. */
export class WechatPaySensitiveError extends Error {
  readonly kind = 'sensitive' as const;
  constructor(
    readonly reason: SensitiveFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WechatPaySensitiveError';
  }
}

/** The key sensitive fields are encrypted with, and the `Wechatpay-Serial` the request must carry. */
export interface SensitiveKey {
  serial: string;
  key: KeyObject;
}

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;
const SHA1_BYTES = 20;
const PUBLIC_KEY_ID = /^PUB_KEY_ID_/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function modulusBytes(key: KeyObject, type: 'public' | 'private'): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.type !== type || key.asymmetricKeyType !== 'rsa' || !bits) {
    throw new WechatPaySensitiveError('BAD_KEY', `an RSA ${type} key is needed`);
  }
  return Math.ceil(bits / 8);
}

/** The longest UTF-8 plaintext, in bytes, one OAEP-SHA-1 block of this key holds (214 for RSA-2048). */
export function maxSensitiveBytes(key: KeyObject): number {
  return modulusBytes(key, 'public') - 2 * SHA1_BYTES - 2;
}

/** Encrypts one field with the WeChat Pay public key (or a platform certificate's key); base64 out. */
export function encryptSensitive(plaintext: string, key: KeyObject): string {
  const max = maxSensitiveBytes(key);
  // Buffer.from would silently turn a lone surrogate into U+FFFD: a different name or account than the one given
  if (LONE_SURROGATE.test(plaintext))
    throw new WechatPaySensitiveError('BAD_INPUT', 'plaintext is not well-formed Unicode');
  const bytes = Buffer.from(plaintext, 'utf8');
  if (bytes.length > max) {
    throw new WechatPaySensitiveError(
      'PLAINTEXT_TOO_LONG',
      `plaintext is ${bytes.length} bytes; this key encrypts at most ${max}`,
    );
  }
  return publicEncrypt({ key, ...OAEP }, bytes).toString('base64');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decrypts one field with the matching private key (the simulator's side, and tests). */
export function decryptSensitive(ciphertext: string, privateKey: KeyObject): string {
  const size = modulusBytes(privateKey, 'private');
  const bytes = decodeBase64Strict(ciphertext);
  if (!bytes || bytes.length !== size) {
    throw new WechatPaySensitiveError('BAD_INPUT', `ciphertext must be base64 of exactly ${size} bytes`);
  }
  let plain: Buffer;
  try {
    plain = privateDecrypt({ key: privateKey, ...OAEP }, bytes);
  } catch {
    throw new WechatPaySensitiveError('DECRYPT_FAILED', 'not an RSA-OAEP (SHA-1) ciphertext for this key');
  }
  try {
    return utf8.decode(plain);
  } catch {
    throw new WechatPaySensitiveError('BAD_INPUT', 'plaintext is not UTF-8');
  }
}

/**
 * Chooses the encryption key from the configured WeChat Pay keys: the `PUB_KEY_ID_…` key when there is one, else the
 * platform certificate that became valid last. `keys` alone cannot date certificates, so with several certificates
 * configured pass them as `certificates` (e.g. parsed from `downloadCertificates()`); they are then the candidates.
 */
export function selectSensitiveKey(keys: PlatformKeys, certificates: readonly X509Certificate[] = []): SensitiveKey {
  const publicKeyIds = [...keys.keys()].filter((id) => PUBLIC_KEY_ID.test(id));
  if (publicKeyIds.length > 1) {
    throw new WechatPaySensitiveError(
      'AMBIGUOUS_KEY',
      `several WeChat Pay public keys (${publicKeyIds.join(', ')}): configure one`,
    );
  }
  const publicKeyId = publicKeyIds[0];
  if (publicKeyId !== undefined) return { serial: publicKeyId, key: keys.get(publicKeyId)! };

  if (certificates.length > 0) {
    let newest: X509Certificate | undefined;
    for (const cert of certificates) {
      if (!newest || Date.parse(cert.validFrom) > Date.parse(newest.validFrom)) newest = cert;
    }
    return { serial: newest!.serialNumber.toUpperCase(), key: newest!.publicKey };
  }
  const serials = [...keys.keys()];
  if (serials.length === 1) return { serial: serials[0]!, key: keys.get(serials[0]!)! };
  if (serials.length === 0)
    throw new WechatPaySensitiveError('NO_KEY', 'no WeChat Pay public key or platform certificate configured');
  throw new WechatPaySensitiveError(
    'AMBIGUOUS_KEY',
    `several platform certificates (${serials.join(', ')}) and no public key: pass the certificates so the newest is chosen`,
  );
}
