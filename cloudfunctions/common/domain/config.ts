/**
 * Application settings from environment variables (WeChat Pay's own are in wechatpay/config.ts), validated with
 * messages that name the variable and never print a secret.
 */
import type { Env } from '../wechatpay/config';
import { WECHATPAY_MODES, type WechatPayMode } from '../wechatpay/partner';

export interface AppConfig {
  /**
   * WECHATPAY_MODE as the domain reads it (wechatpay/config.ts reads it for the client): known to functions that never
   * reach WeChat Pay, so confirmation can hold an order to one sub-merchant without the merchant keys.
   */
  payMode: WechatPayMode;
  appid: string;
  appSecret: string;
  wxApiBaseUrl: string;
  orderExpiryMinutes: number;
  adminOpenids: ReadonlySet<string>;
  userRefundCutoffMinutes: number;
  subscribeTemplateId?: string;
  reconcileStuckMinutes: number;
  reconcileBatchSize: number;
  /** WeChat Pay calls one reconcile run may make */
  reconcileMaxCalls: number;
  wechatpayTimeoutMs: number;
  /** STAFF_OPENIDS: who may fulfil orders, with the name buyers see and the service products they may take */
  staff: ReadonlyMap<string, StaffMember>;
  /** a paid order nobody accepted within this raises an alert */
  fulfilAcceptAlertMinutes: number;
  /** the 「新订单提醒」 subscribe message staff accept on the staff page */
  staffSubscribeTemplateId?: string;
  /** the buyer's order-progress message (ready for pickup, shipped) */
  progressSubscribeTemplateId?: string;
}

export interface StaffMember {
  name: string;
  /** product ids of the `service` products this member may take (pickup and shipping orders any member may take) */
  services: readonly string[];
}

export const APP_ENV = {
  appid: 'WX_APPID',
  appSecret: 'WX_APP_SECRET',
  wxApiBaseUrl: 'WX_API_BASE_URL',
  orderExpiryMinutes: 'ORDER_EXPIRY_MINUTES',
  adminOpenids: 'ADMIN_OPENIDS',
  userRefundCutoffMinutes: 'USER_REFUND_CUTOFF_MINUTES',
  subscribeTemplateId: 'SUBSCRIBE_TEMPLATE_ID',
  reconcileStuckMinutes: 'RECONCILE_STUCK_MINUTES',
  reconcileBatchSize: 'RECONCILE_BATCH_SIZE',
  reconcileMaxCalls: 'RECONCILE_MAX_CALLS',
  wechatpayTimeoutMs: 'WECHATPAY_TIMEOUT_MS',
  staffOpenids: 'STAFF_OPENIDS',
  fulfilAcceptAlertMinutes: 'FULFIL_ACCEPT_ALERT_MINUTES',
  staffSubscribeTemplateId: 'STAFF_SUBSCRIBE_TEMPLATE_ID',
  progressSubscribeTemplateId: 'PROGRESS_SUBSCRIBE_TEMPLATE_ID',
} as const;

const OPENID = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * STAFF_OPENIDS: comma-separated `openid[:name[:productId|productId…]]`, e.g. `oAbc123:小王:class-latte-art,oDef456:小李`.
 * A member without a name is shown as 店员 and the last 4 characters of the openid.
 */
export function parseStaff(raw: string, problems: string[]): Map<string, StaffMember> {
  const staff = new Map<string, StaffMember>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [openid = '', name, services] = part.split(':').map((s) => s.trim());
    if (!OPENID.test(openid) || (name !== undefined && (name.length === 0 || name.length > 20))) {
      problems.push(`${APP_ENV.staffOpenids} must be a comma-separated list of openid[:name[:productId|productId]]`);
      continue;
    }
    const ids = (services ?? '')
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.some((id) => !/^[A-Za-z0-9_-]{1,64}$/.test(id))) {
      problems.push(`${APP_ENV.staffOpenids}: product ids are letters, digits, _ and -`);
      continue;
    }
    staff.set(openid, { name: name ?? `店员${openid.slice(-4)}`, services: ids });
  }
  return staff;
}

export class AppConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`configuration invalid: ${problems.join('; ')}`);
    this.name = 'AppConfigError';
  }
}

/** What a function uses beyond the common settings: only `login` calls jscode2session (WX_APPID, WX_APP_SECRET). */
export interface AppConfigNeeds {
  wxLogin?: boolean;
}

export function loadAppConfig(env: Env, needs: AppConfigNeeds = { wxLogin: true }): AppConfig {
  const problems: string[] = [];
  const text = (name: string) => env[name]?.trim() || undefined;
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return value;
  };
  const payModeText = text('WECHATPAY_MODE') ?? 'direct';
  const payMode = WECHATPAY_MODES.find((m) => m === payModeText) ?? 'direct';
  if (payMode !== payModeText) problems.push(`WECHATPAY_MODE must be ${WECHATPAY_MODES.join(' or ')}`);
  // a function that does not log users in neither needs nor checks the AppID and AppSecret
  const appid = needs.wxLogin ? text(APP_ENV.appid) : undefined;
  const appSecret = needs.wxLogin ? text(APP_ENV.appSecret) : undefined;
  if (needs.wxLogin) {
    if (!appid) problems.push(`${APP_ENV.appid} is missing`);
    else if (!/^wx[0-9a-zA-Z]{8,30}$/.test(appid))
      problems.push(`${APP_ENV.appid} is malformed (wx followed by letters and digits)`);
    // a service provider's deployment may be a sub-merchant's own mini-program (its sub_appid), not sp_appid
    if (payMode !== 'partner' && appid && text('WECHATPAY_APPID') && text('WECHATPAY_APPID') !== appid)
      problems.push(`${APP_ENV.appid} and WECHATPAY_APPID must be the same mini-program`);
    if (!appSecret) problems.push(`${APP_ENV.appSecret} is missing`);
    else if (!/^[0-9a-zA-Z]{16,64}$/.test(appSecret)) problems.push(`${APP_ENV.appSecret} is malformed`);
  }
  const wxApiBaseUrl = (text(APP_ENV.wxApiBaseUrl) ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(wxApiBaseUrl)) problems.push(`${APP_ENV.wxApiBaseUrl} must be an http(s) URL`);
  const admins = (text(APP_ENV.adminOpenids) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (admins.some((id) => !OPENID.test(id)))
    problems.push(`${APP_ENV.adminOpenids} must be a comma-separated list of openids`);
  const subscribeTemplateId = text(APP_ENV.subscribeTemplateId);
  const staffSubscribeTemplateId = text(APP_ENV.staffSubscribeTemplateId);
  const progressSubscribeTemplateId = text(APP_ENV.progressSubscribeTemplateId);
  const staff = parseStaff(text(APP_ENV.staffOpenids) ?? '', problems);
  const config: AppConfig = {
    payMode,
    appid: appid ?? '',
    appSecret: appSecret ?? '',
    wxApiBaseUrl,
    orderExpiryMinutes: int(APP_ENV.orderExpiryMinutes, 30, 1, 1440),
    adminOpenids: new Set(admins),
    userRefundCutoffMinutes: int(APP_ENV.userRefundCutoffMinutes, 60, 0, 43200),
    ...(subscribeTemplateId ? { subscribeTemplateId } : {}),
    reconcileStuckMinutes: int(APP_ENV.reconcileStuckMinutes, 5, 1, 1440),
    reconcileBatchSize: int(APP_ENV.reconcileBatchSize, 50, 1, 500),
    reconcileMaxCalls: int(APP_ENV.reconcileMaxCalls, 200, 1, 5000),
    wechatpayTimeoutMs: int(APP_ENV.wechatpayTimeoutMs, 3000, 100, 20000),
    staff,
    fulfilAcceptAlertMinutes: int(APP_ENV.fulfilAcceptAlertMinutes, 15, 1, 1440),
    ...(staffSubscribeTemplateId ? { staffSubscribeTemplateId } : {}),
    ...(progressSubscribeTemplateId ? { progressSubscribeTemplateId } : {}),
  };
  if (problems.length) throw new AppConfigError(problems);
  return config;
}
