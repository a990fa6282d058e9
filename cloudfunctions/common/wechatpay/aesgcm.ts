/**
 * AEAD_AES_256_GCM as WeChat Pay uses it for notification resources and `encrypt_certificate`:
 * key = the APIv3 key's bytes, nonce and associated_data as UTF-8, ciphertext = base64(ct ‖ 16-byte tag).
 *
 * The tag is always authenticated (`decipher.final()`); a decrypt that skips it accepts forged ciphertexts.
 * The cipher is picked by key length (16/24/32 bytes) so the SDKs' 16-byte test vectors can run; configuration
 * (config.ts) still requires a 32-byte APIv3 key, as WeChat Pay issues.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { decodeBase64Strict } from './encoding';
import { WechatPayDecryptError } from './errors';

const TAG_BYTES = 16;

export interface AesGcmInput {
  key: string | Buffer;
  nonce: string | Buffer;
  associatedData?: string | Buffer;
}

function keyBytes(key: string | Buffer): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    throw new WechatPayDecryptError('BAD_KEY', `AES key must be 16, 24 or 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

const ALGORITHMS: Record<number, CipherGCMTypes> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

function algorithmFor(key: Buffer): CipherGCMTypes {
  return ALGORITHMS[key.length]!;
}

const utf8 = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** The plaintext as UTF-8 text. */
export function decryptAesGcm(input: AesGcmInput & { ciphertext: string }): string {
  return decryptAesGcmBytes(input).toString('utf8');
}

/** The plaintext's bytes, for a caller that decodes them itself. */
export function decryptAesGcmBytes(input: AesGcmInput & { ciphertext: string }): Buffer {
  const key = keyBytes(input.key);
  const nonce = utf8(input.nonce);
  if (nonce.length === 0) throw new WechatPayDecryptError('BAD_INPUT', 'nonce is empty');
  const data = decodeBase64Strict(input.ciphertext);
  if (!data || data.length < TAG_BYTES)
    throw new WechatPayDecryptError('BAD_INPUT', 'ciphertext is not base64 of ct‖tag');
  const decipher = createDecipheriv(algorithmFor(key), key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  decipher.setAAD(utf8(input.associatedData ?? ''));
  const head = decipher.update(data.subarray(0, data.length - TAG_BYTES));
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    throw new WechatPayDecryptError(
      'AUTHENTICATION_FAILED',
      'AES-GCM tag does not authenticate (wrong key or tampered data)',
    );
  }
  // GCM's final() yields no bytes: the update's output, without copying it
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

export function encryptAesGcm(input: AesGcmInput & { plaintext: string | Buffer }): string {
  const key = keyBytes(input.key);
  const cipher = createCipheriv(algorithmFor(key), key, utf8(input.nonce), { authTagLength: TAG_BYTES });
  cipher.setAAD(utf8(input.associatedData ?? ''));
  const ct = Buffer.concat([cipher.update(utf8(input.plaintext)), cipher.final()]);
  return Buffer.concat([ct, cipher.getAuthTag()]).toString('base64');
}
