/**
 * The WeChat Pay side of the signature: headers for a response or notification, and an encrypted notification
 * envelope. Used by the local WeChat Pay simulator and by tests; the merchant side only verifies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { encryptAesGcm } from './aesgcm';
import type { Signer } from './signer';
import type { NotificationEnvelope } from './types';
import { buildResponseMessage } from './verifier';

export type SignedHeaders = {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048';
};

export function signResponse(signer: Signer, serial: string, body: string | Buffer, timestamp: number, nonce = randomBytes(16).toString('hex')): SignedHeaders {
  const ts = String(timestamp);
  return {
    'Wechatpay-Timestamp': ts,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signer.sign(buildResponseMessage(ts, nonce, body).toString('utf8')),
    'Wechatpay-Serial': serial,
    'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
  };
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
      ciphertext: encryptAesGcm({ key: input.apiV3Key, nonce, associatedData, plaintext: JSON.stringify(input.resource) }),
      associated_data: associatedData,
      nonce,
    },
  };
}
