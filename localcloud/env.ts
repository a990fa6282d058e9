/**
 * The environment variables the cloud functions read, as the local cloud sets them from its generated keys. `mode`
 * gives the merchant the WeChat Pay keys a merchant in that mode holds: the public key only (merchants created
 * today), platform certificates only, or both (mid-migration).
 */
import type { LocalKeys } from './keys';

export interface LocalEndpoints {
  wechatpayBaseUrl: string;
  wxApiBaseUrl: string;
  notifyUrl: string;
  refundNotifyUrl: string;
}

export function wechatpayEnvironment(keys: LocalKeys, endpoints: LocalEndpoints, mode: 'publicKey' | 'certificate' | 'both' = 'publicKey'): Record<string, string> {
  return {
    WECHATPAY_MCHID: keys.mchid,
    WECHATPAY_APPID: keys.appid,
    WECHATPAY_MERCHANT_SERIAL_NO: keys.merchantSerialNo,
    WECHATPAY_MERCHANT_PRIVATE_KEY: keys.merchantPrivateKeyPem,
    WECHATPAY_APIV3_KEY: keys.apiV3Key,
    ...(mode !== 'certificate' ? { WECHATPAY_PUBLIC_KEY_ID: keys.publicKeyId, WECHATPAY_PUBLIC_KEY: keys.platformPublicKeyPem } : {}),
    ...(mode !== 'publicKey' ? { WECHATPAY_PLATFORM_CERTIFICATES: keys.platformCertificatePem } : {}),
    WECHATPAY_NOTIFY_URL: endpoints.notifyUrl,
    WECHATPAY_REFUND_NOTIFY_URL: endpoints.refundNotifyUrl,
    WECHATPAY_BASE_URL: endpoints.wechatpayBaseUrl,
    WX_APPID: keys.appid,
    WX_APP_SECRET: keys.appSecret,
    WX_API_BASE_URL: endpoints.wxApiBaseUrl,
  };
}
