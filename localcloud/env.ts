/**
 * The environment variables the cloud functions read, as the local cloud sets them from its generated keys. `mode`
 * gives the merchant the WeChat Pay keys a merchant in that mode holds: the public key only (merchants created
 * today), platform certificates only, or both (mid-migration). And the local cloud's own settings that say where it
 * listens, shared by `npm start` (main.ts) and the CLI that finds it.
 */
import type { LocalKeys } from './keys';

export interface LocalEndpoints {
  wechatpayBaseUrl: string;
  wxApiBaseUrl: string;
  notifyUrl: string;
  refundNotifyUrl: string;
}

export function wechatpayEnvironment(
  keys: LocalKeys,
  endpoints: LocalEndpoints,
  mode: 'publicKey' | 'certificate' | 'both' = 'publicKey',
): Record<string, string> {
  return {
    WECHATPAY_MCHID: keys.mchid,
    WECHATPAY_APPID: keys.appid,
    WECHATPAY_MERCHANT_SERIAL_NO: keys.merchantSerialNo,
    WECHATPAY_MERCHANT_PRIVATE_KEY: keys.merchantPrivateKeyPem,
    WECHATPAY_APIV3_KEY: keys.apiV3Key,
    ...(mode !== 'certificate'
      ? { WECHATPAY_PUBLIC_KEY_ID: keys.publicKeyId, WECHATPAY_PUBLIC_KEY: keys.platformPublicKeyPem }
      : {}),
    ...(mode !== 'publicKey' ? { WECHATPAY_PLATFORM_CERTIFICATES: keys.platformCertificatePem } : {}),
    WECHATPAY_NOTIFY_URL: endpoints.notifyUrl,
    WECHATPAY_REFUND_NOTIFY_URL: endpoints.refundNotifyUrl,
    WECHATPAY_BASE_URL: endpoints.wechatpayBaseUrl,
    WX_APPID: keys.appid,
    WX_APP_SECRET: keys.appSecret,
    WX_API_BASE_URL: endpoints.wxApiBaseUrl,
  };
}

// ---- where `npm start` puts the local cloud (read by main.ts, and by the CLI to find it) --------------------------

/** A local cloud setting with a value it cannot take; the message names the setting, never its value. */
export class SettingError extends Error {}

/** A setting as the local cloud reads it: trimmed, empty as unset; `allowed` lists the values it may take. */
export function readSetting(env: NodeJS.ProcessEnv, name: string, fallback: string, allowed?: string[]): string {
  const value = env[name]?.trim() || fallback;
  if (allowed && !allowed.includes(value)) throw new SettingError(`${name} must be one of ${allowed.join(', ')}`);
  return value;
}

/** A port setting: 0..65535, 0 letting the OS choose. */
export function readPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(readSetting(env, name, String(fallback)));
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new SettingError(`${name} must be a port number (0 lets the OS choose)`);
  return value;
}

/** The cloud server's host: the local cloud listens on loopback only. */
export const CLOUD_HOST = '127.0.0.1';
export const DEFAULT_CLOUD_PORT = 8787;

/** Where `npm start` puts the cloud server: CLOUD_HOST, port LOCALCLOUD_PORT (default 8787; 0 lets the OS choose). */
export function cloudAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number } {
  return { host: CLOUD_HOST, port: readPort(env, 'LOCALCLOUD_PORT', DEFAULT_CLOUD_PORT) };
}

/**
 * The cloud server's URL for a client such as the CLI: LOCALCLOUD_URL when set, else where `npm start` puts it with
 * the same settings. With LOCALCLOUD_PORT=0 only the address `npm start` printed can say where it is.
 */
export function cloudUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.LOCALCLOUD_URL?.trim();
  if (url) return url;
  const { host, port } = cloudAddress(env);
  if (port === 0)
    throw new SettingError(
      'LOCALCLOUD_PORT is 0 (the OS chose the port): set LOCALCLOUD_URL to the cloud address npm start printed',
    );
  return `http://${host}:${port}`;
}
