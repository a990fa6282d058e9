/**
 * WeChat Pay configuration from environment variables, validated at start. Problems are reported by variable name;
 * values are never printed. PEM values may be given inline (with real or `\n`-escaped newlines, as cloud consoles
 * store them) or as a file path in the matching `_PATH` variable.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WechatPayConfigError } from './errors';
import { WECHATPAY_BASE_URL } from './client';
import { WECHATPAY_MODES, type WechatPayMode } from './partner';
import { loadPlatformKeys, splitPemBlocks, type PlatformKeySource } from './verifier';

export interface WechatPayConfig {
  /** direct: a merchant paid in its own name; partner: a service provider paid for its sub-merchants (partner.ts) */
  mode: WechatPayMode;
  /** direct: the merchant's mchid; partner: the service provider's, sp_mchid */
  mchid: string;
  /** direct: the mini-program bound to mchid; partner: sp_appid, the appid bound to the service provider */
  appid: string;
  merchantSerialNo: string;
  merchantPrivateKey: KeyObject;
  apiV3Key: Buffer;
  platformKeys: Map<string, KeyObject>;
  notifyUrl: string;
  refundNotifyUrl: string;
  baseUrl: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const WECHATPAY_ENV = {
  mode: 'WECHATPAY_MODE',
  mchid: 'WECHATPAY_MCHID',
  appid: 'WECHATPAY_APPID',
  merchantSerialNo: 'WECHATPAY_MERCHANT_SERIAL_NO',
  merchantPrivateKey: 'WECHATPAY_MERCHANT_PRIVATE_KEY',
  apiV3Key: 'WECHATPAY_APIV3_KEY',
  publicKeyId: 'WECHATPAY_PUBLIC_KEY_ID',
  publicKey: 'WECHATPAY_PUBLIC_KEY',
  platformCertificates: 'WECHATPAY_PLATFORM_CERTIFICATES',
  notifyUrl: 'WECHATPAY_NOTIFY_URL',
  refundNotifyUrl: 'WECHATPAY_REFUND_NOTIFY_URL',
  baseUrl: 'WECHATPAY_BASE_URL',
} as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** WeChat Pay requires https; plain http is accepted for loopback hosts only (the local cloud). */
export function checkNotifyUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (value.length > 255) return 'is longer than 255 characters';
  if (url.search) return 'must not carry a query string';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must be https (http only for 127.0.0.1/localhost)';
}

export function loadWechatPayConfig(
  env: Env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): WechatPayConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const pem = (name: string): string | undefined => {
    const inline = text(name);
    if (inline) return inline.replace(/\\n/g, '\n');
    const path = text(`${name}_PATH`);
    if (!path) return undefined;
    try {
      return readFile(path);
    } catch {
      problems.push(`${name}_PATH: cannot read the file it names`);
      return undefined;
    }
  };
  const need = (name: string, value: string | undefined, pattern?: RegExp, what?: string): string => {
    if (value === undefined) problems.push(`${name} is missing`);
    else if (pattern && !pattern.test(value)) problems.push(`${name} is malformed (${what})`);
    return value ?? '';
  };

  const modeText = text(WECHATPAY_ENV.mode) ?? 'direct';
  const mode = WECHATPAY_MODES.find((m) => m === modeText) ?? 'direct';
  if (mode !== modeText) problems.push(`${WECHATPAY_ENV.mode} must be ${WECHATPAY_MODES.join(' or ')}`);
  const mchid = need(WECHATPAY_ENV.mchid, text(WECHATPAY_ENV.mchid), /^\d{6,32}$/, 'digits');
  const appid = need(
    WECHATPAY_ENV.appid,
    text(WECHATPAY_ENV.appid),
    /^wx[0-9a-zA-Z]{8,30}$/,
    'wx followed by letters and digits',
  );
  const merchantSerialNo = need(
    WECHATPAY_ENV.merchantSerialNo,
    text(WECHATPAY_ENV.merchantSerialNo),
    /^[0-9A-Fa-f]{8,40}$/,
    'hex certificate serial',
  ).toUpperCase();

  let merchantPrivateKey: KeyObject | undefined;
  const keyPem = pem(WECHATPAY_ENV.merchantPrivateKey);
  if (keyPem === undefined) {
    if (!problems.some((p) => p.startsWith(WECHATPAY_ENV.merchantPrivateKey)))
      problems.push(`${WECHATPAY_ENV.merchantPrivateKey} (or _PATH) is missing`);
  } else {
    try {
      merchantPrivateKey = createPrivateKey(keyPem);
      if (merchantPrivateKey.asymmetricKeyType !== 'rsa')
        problems.push(`${WECHATPAY_ENV.merchantPrivateKey} is not an RSA private key`);
    } catch {
      problems.push(`${WECHATPAY_ENV.merchantPrivateKey} is not a PEM private key`);
    }
  }

  const apiV3Text = text(WECHATPAY_ENV.apiV3Key);
  const apiV3Key = Buffer.from(apiV3Text ?? '', 'utf8');
  if (apiV3Text === undefined) problems.push(`${WECHATPAY_ENV.apiV3Key} is missing`);
  else if (apiV3Key.length !== 32) problems.push(`${WECHATPAY_ENV.apiV3Key} must be 32 bytes, got ${apiV3Key.length}`);

  const sources: PlatformKeySource[] = [];
  const publicKeyId = text(WECHATPAY_ENV.publicKeyId);
  const publicKey = pem(WECHATPAY_ENV.publicKey);
  if ((publicKeyId === undefined) !== (publicKey === undefined)) {
    problems.push(`${WECHATPAY_ENV.publicKeyId} and ${WECHATPAY_ENV.publicKey} must be set together`);
  } else if (publicKeyId && publicKey) {
    if (!/^PUB_KEY_ID_\w+$/.test(publicKeyId))
      problems.push(`${WECHATPAY_ENV.publicKeyId} is malformed (PUB_KEY_ID_…)`);
    sources.push({ id: publicKeyId, pem: publicKey });
  }
  const certificates = pem(WECHATPAY_ENV.platformCertificates);
  if (certificates !== undefined) {
    if (splitPemBlocks(certificates, 'CERTIFICATE').length === 0)
      problems.push(`${WECHATPAY_ENV.platformCertificates} holds no PEM certificate`);
    else sources.push({ pem: certificates });
  }
  if (sources.length === 0 && publicKeyId === undefined && publicKey === undefined) {
    problems.push(
      `no WeChat Pay key: set ${WECHATPAY_ENV.publicKeyId}+${WECHATPAY_ENV.publicKey} and/or ${WECHATPAY_ENV.platformCertificates}`,
    );
  }
  let platformKeys = new Map<string, KeyObject>();
  try {
    platformKeys = loadPlatformKeys(sources);
  } catch {
    problems.push(`${WECHATPAY_ENV.publicKey} / ${WECHATPAY_ENV.platformCertificates} cannot be parsed`);
  }

  const notifyUrl = need(WECHATPAY_ENV.notifyUrl, text(WECHATPAY_ENV.notifyUrl));
  const refundNotifyUrl = text(WECHATPAY_ENV.refundNotifyUrl) ?? notifyUrl;
  for (const [name, value] of [
    [WECHATPAY_ENV.notifyUrl, notifyUrl],
    [WECHATPAY_ENV.refundNotifyUrl, refundNotifyUrl],
  ] as const) {
    const problem = value ? checkNotifyUrl(value) : undefined;
    if (problem && !problems.some((p) => p.startsWith(name))) problems.push(`${name} ${problem}`);
  }
  const baseUrl = text(WECHATPAY_ENV.baseUrl) ?? WECHATPAY_BASE_URL;
  if (!/^https?:\/\/[^/?#]+\/?$/.test(baseUrl))
    problems.push(`${WECHATPAY_ENV.baseUrl} must be an origin like https://api.mch.weixin.qq.com`);

  if (problems.length > 0 || !merchantPrivateKey) throw new WechatPayConfigError(problems);
  return {
    mode,
    mchid,
    appid,
    merchantSerialNo,
    merchantPrivateKey,
    apiV3Key,
    platformKeys,
    notifyUrl,
    refundNotifyUrl,
    baseUrl,
  };
}
