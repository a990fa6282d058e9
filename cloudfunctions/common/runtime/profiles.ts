/**
 * What each deployable function uses, in one table read by the runtime (which dependencies to build) and by the build
 * and deploy scripts (which settings each function's environment gets, which key files its folder ships). A function
 * without `pay` never reads a WeChat Pay setting, so a WeChat Pay problem cannot take login or the catalogue down;
 * only `login` gets the AppSecret.
 */
import { ALERT_ENV } from '../domain/attention/alerts';
import { APP_ENV } from '../domain/config';
import { WECHATPAY_ENV } from '../wechatpay/config';
import { KEY_ENV, KEY_FILES, type KeyFile, type KeyMode } from './key-files';

export interface FunctionProfile {
  /** calls jscode2session: WX_APPID, WX_APP_SECRET */
  wxLogin: boolean;
  /** talks to WeChat Pay: the WECHATPAY_* settings and the key files */
  pay: boolean;
  /** watches key and certificate expiry (reads the merchant certificate too) */
  keyWatch: boolean;
  /** serves the Native checkout page and API: CHECKOUT_ALLOWED_ORIGINS (a page on static hosting) */
  checkout?: boolean;
  /** uploads shipping information to WeChat (wxa.sec.order.*): the merchant id and AppID the uploads name */
  shipping?: boolean;
}

const none: FunctionProfile = { wxLogin: false, pay: false, keyWatch: false };
const pays: FunctionProfile = { wxLogin: false, pay: true, keyWatch: false };

export const FUNCTION_PROFILES = {
  login: { ...none, wxLogin: true },
  catalog: none,
  clientLog: none,
  orders: { ...pays, shipping: true },
  payment: pays,
  admin: { ...pays, shipping: true },
  // reads WECHATPAY_MODE (a WeChat Pay setting); never calls WeChat Pay
  merchants: pays,
  payNotify: pays,
  reconcile: { ...pays, shipping: true },
  wechatpayKeys: { ...pays, keyWatch: true },
  checkout: { ...pays, checkout: true },
  books: pays,
  // staff move orders and upload shipping information; an after-sale approval is an admin's refund, not theirs
  staff: { ...none, shipping: true },
  msgPush: { ...none, shipping: true },
} as const satisfies Record<string, FunctionProfile>;

export type FunctionName = keyof typeof FUNCTION_PROFILES;

export function profileOf(name: string): FunctionProfile {
  if (!Object.hasOwn(FUNCTION_PROFILES, name))
    throw new Error(`no profile for function ${name}: add it to runtime/profiles.ts`);
  return FUNCTION_PROFILES[name as FunctionName];
}

/** Small, non-secret settings every function reads. */
export const SHARED_SETTINGS: readonly string[] = [
  'LOG_LEVEL',
  APP_ENV.adminOpenids,
  APP_ENV.orderExpiryMinutes,
  APP_ENV.userRefundCutoffMinutes,
  APP_ENV.subscribeTemplateId,
  APP_ENV.reconcileStuckMinutes,
  APP_ENV.reconcileBatchSize,
  APP_ENV.reconcileMaxCalls,
  APP_ENV.staffOpenids,
  APP_ENV.fulfilAcceptAlertMinutes,
  APP_ENV.staffSubscribeTemplateId,
  APP_ENV.progressSubscribeTemplateId,
];
/** The alert channels (the webhook URL is a secret): only functions that can raise an alert (they all pay) get them. */
export const ALERT_SETTINGS: readonly string[] = Object.values(ALERT_ENV);
export const WX_LOGIN_SETTINGS: readonly string[] = [APP_ENV.appid, APP_ENV.appSecret, APP_ENV.wxApiBaseUrl];
const PEM_NAMES = [WECHATPAY_ENV.merchantPrivateKey, WECHATPAY_ENV.publicKey, WECHATPAY_ENV.platformCertificates];
export const PAY_SETTINGS: readonly string[] = [
  ...Object.values(WECHATPAY_ENV),
  ...PEM_NAMES.map((n) => `${n}_PATH`),
  APP_ENV.wechatpayTimeoutMs,
  KEY_ENV.mode,
];
export const KEY_WATCH_SETTINGS: readonly string[] = [
  KEY_ENV.merchantCertificate,
  `${KEY_ENV.merchantCertificate}_PATH`,
  KEY_ENV.publicKeyExpiresAt,
  KEY_ENV.warnDays,
];

/** Settings that are secrets: never printed, whatever asks. (PEM private keys belong in files, not here.) */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  APP_ENV.appSecret,
  WECHATPAY_ENV.apiV3Key,
  WECHATPAY_ENV.merchantPrivateKey,
  ALERT_ENV.webhookUrl,
]);

/** Settings that must be set for the function to work (the key material may come from files instead). */
export function requiredSettingsOf(name: string, mode: KeyMode | undefined): string[] {
  const p = profileOf(name);
  const required: string[] = [];
  if (p.wxLogin) required.push(APP_ENV.appid, APP_ENV.appSecret);
  if (p.pay) {
    required.push(
      WECHATPAY_ENV.mchid,
      WECHATPAY_ENV.appid,
      WECHATPAY_ENV.merchantSerialNo,
      WECHATPAY_ENV.apiV3Key,
      WECHATPAY_ENV.notifyUrl,
    );
    if (mode === 'publicKey' || mode === 'both') required.push(WECHATPAY_ENV.publicKeyId);
  }
  return required;
}

export const CHECKOUT_SETTINGS: readonly string[] = ['CHECKOUT_ALLOWED_ORIGINS'];
/** not secrets: the merchant id and the AppID the shipping uploads name */
export const SHIPPING_SETTINGS: readonly string[] = [WECHATPAY_ENV.mchid, WECHATPAY_ENV.appid];

/** Every setting the function reads. */
export function settingsOf(name: string): string[] {
  const p = profileOf(name);
  return [
    ...SHARED_SETTINGS,
    ...(p.wxLogin ? WX_LOGIN_SETTINGS : []),
    ...(p.pay ? [...PAY_SETTINGS, ...ALERT_SETTINGS] : []),
    ...(p.keyWatch ? KEY_WATCH_SETTINGS : []),
    ...(p.checkout ? CHECKOUT_SETTINGS : []),
    // shipping alerts (uploads failing for a day, WeChat's reminders) go out through the same channels
    ...(p.shipping && !p.pay ? [...SHIPPING_SETTINGS, ...ALERT_SETTINGS] : []),
  ];
}

/** The key files a function's folder ships in this mode (those that exist are copied). */
export function keyFilesOf(name: string, mode: KeyMode | undefined): KeyFile[] {
  const p = profileOf(name);
  if (!p.pay) return [];
  const files: KeyFile[] = [KEY_FILES.merchantPrivateKey];
  if (mode !== 'certificate') files.push(KEY_FILES.publicKey);
  if (mode !== 'publicKey') files.push(KEY_FILES.platformCertificates);
  if (p.keyWatch) files.push(KEY_FILES.merchantCertificate);
  return files;
}
