/**
 * The WeChat Pay APIv3 protocol module: node built-ins only (node:crypto, node:fs, global fetch); no database,
 * no wx-server-sdk. Small units in the manner of wechatpay-go: signer, verifier, AES-GCM, notification parser,
 * paySign, client, config.
 */
export * from './errors';
export * from './encoding';
export * from './signer';
export * from './verifier';
export * from './aesgcm';
export * from './notification';
export * from './paysign';
export * from './sensitive';
export * from './client';
export * from './config';
export * from './types';
export * from './time';
export * from './bill';
export * from './tradebill';
export * from './partner';

import { WechatPayClient, type WechatPayClientOptions } from './client';
import type { WechatPayConfig } from './config';
import { NotificationParser } from './notification';
import { selectSensitiveKey } from './sensitive';
import { RsaSha256Signer, type MerchantCredential } from './signer';
import { SignatureVerifier, type Clock } from './verifier';

export interface WechatPay {
  config: WechatPayConfig;
  credential: MerchantCredential;
  verifier: SignatureVerifier;
  client: WechatPayClient;
  notifications: NotificationParser;
}

/**
 * Wires the units from one validated configuration. The sensitive-field key is chosen from the configured WeChat Pay
 * keys when first needed (a configuration it cannot choose from fails that call only); `sensitiveKey` overrides it.
 */
export function createWechatPay(
  config: WechatPayConfig,
  options: { clock?: Clock } & Pick<
    WechatPayClientOptions,
    'fetch' | 'timeoutMs' | 'maxAttempts' | 'backoffMs' | 'sleep' | 'sensitiveKey'
  > = {},
): WechatPay {
  const credential: MerchantCredential = {
    mchid: config.mchid,
    serialNo: config.merchantSerialNo,
    signer: new RsaSha256Signer(config.merchantPrivateKey),
  };
  const verifier = new SignatureVerifier({ keys: config.platformKeys, clock: options.clock });
  const sensitiveKey = options.sensitiveKey ?? (() => selectSensitiveKey(config.platformKeys));
  const client = new WechatPayClient({
    ...options,
    mode: config.mode,
    baseUrl: config.baseUrl,
    credential,
    verifier,
    apiV3Key: config.apiV3Key,
    sensitiveKey,
  });
  return {
    config,
    credential,
    verifier,
    client,
    notifications: new NotificationParser({ verifier, apiV3Key: config.apiV3Key }),
  };
}
