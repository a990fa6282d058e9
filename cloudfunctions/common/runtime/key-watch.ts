/**
 * Key and certificate expiry, checked daily by the wechatpayKeys timer (and by `npm run deploy`): the merchant API
 * certificate (apiclient_cert.pem), the WeChat Pay platform certificates, and the WeChat Pay public key (whose PEM
 * carries no date: its expiry is read from WECHATPAY_PUBLIC_KEY_EXPIRES_AT when the merchant sets it).
 *
 * A platform certificate near its end is expected while WeChat Pay rotates: it is reported only when no certificate
 * valid for longer is known (then the rotation has not happened, or has not been downloaded).
 */
import { X509Certificate } from 'node:crypto';
import type { Alert, AlertSink, Logger } from '../domain/deps';
import { WECHATPAY_ENV, type Env } from '../wechatpay/config';
import type { CertificateKeeper } from './certificates';
import { KEY_ENV, readPemSetting, type KeyMaterial } from './key-files';

export const DAY_MS = 24 * 3600 * 1000;
export const DEFAULT_WARN_DAYS = 30;
export const CRITICAL_DAYS = 7;

export type WatchedKind = 'merchant_certificate' | 'platform_certificate' | 'public_key';

export interface WatchedKey {
  kind: WatchedKind;
  /** serial or public key id: public, safe to log */
  id: string;
  expiresAt: number;
}

const WHAT: Record<WatchedKind, { name: string; action: string }> = {
  merchant_certificate: {
    name: 'merchant API certificate',
    action:
      'renew it in the merchant platform (API安全 → 商户API证书), then replace secrets/wechatpay/apiclient_key.pem and apiclient_cert.pem, set WECHATPAY_MERCHANT_SERIAL_NO and deploy',
  },
  platform_certificate: {
    name: 'WeChat Pay platform certificate',
    action:
      'no newer certificate is known: check the wechatpayKeys log for download errors, or move to the WeChat Pay public key (README: Deploy to WeChat Cloud)',
  },
  public_key: {
    name: 'WeChat Pay public key',
    action:
      'apply for the new public key in the merchant platform (API安全 → 微信支付公钥), replace secrets/wechatpay/pub_key.pem, set WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY_EXPIRES_AT, and deploy',
  },
};

/** The alerts due at `now`: within `warnDays` a warning, within CRITICAL_DAYS (or past the date) critical. */
export function expiryAlerts(keys: readonly WatchedKey[], now: number, warnDays = DEFAULT_WARN_DAYS): Alert[] {
  const alerts: Alert[] = [];
  for (const key of keys) {
    const left = key.expiresAt - now;
    if (left > warnDays * DAY_MS) continue;
    if (
      key.kind === 'platform_certificate' &&
      keys.some((k) => k.kind === 'platform_certificate' && k.expiresAt - now > warnDays * DAY_MS)
    )
      continue;
    const days = Math.floor(left / DAY_MS);
    const { name, action } = WHAT[key.kind];
    const when = left <= 0 ? 'has expired' : `expires in ${days} day${days === 1 ? '' : 's'}`;
    alerts.push({
      cause: `key_expiry:${key.kind}:${key.id}`,
      severity: left <= CRITICAL_DAYS * DAY_MS ? 'critical' : 'warning',
      message: `${name} ${key.id} ${when} (${new Date(key.expiresAt).toISOString()}): ${action}`,
      detail: { kind: key.kind, id: key.id, expiresAt: new Date(key.expiresAt).toISOString(), daysLeft: days },
    });
  }
  return alerts;
}

export interface KeyWatchInput {
  env: Env;
  material: KeyMaterial;
  keeper?: CertificateKeeper;
  /** problems of the WeChat Pay configuration, when it did not load */
  payProblems?: string[];
  clock: () => number;
  alerts: AlertSink;
  log: Logger;
}

export interface KeyWatchSummary {
  mode: string;
  checked: WatchedKey[];
  alerts: string[];
  refreshed?: { serials: string[]; added: string[] };
  refreshError?: string;
  notes: string[];
}

/** What the watch looks at, from the configuration (never a secret: serials, ids and dates). */
export function watchedKeys(
  input: Pick<KeyWatchInput, 'env' | 'material' | 'keeper'>,
  notes: string[] = [],
): WatchedKey[] {
  const keys: WatchedKey[] = [];
  const { env, material } = input;
  let merchantPem: string | undefined;
  try {
    merchantPem = readPemSetting(material.env, KEY_ENV.merchantCertificate);
  } catch (error) {
    notes.push((error as Error).message);
  }
  if (merchantPem) {
    try {
      const cert = new X509Certificate(merchantPem);
      keys.push({
        kind: 'merchant_certificate',
        id: cert.serialNumber.toUpperCase(),
        expiresAt: Date.parse(cert.validTo),
      });
    } catch {
      notes.push(`${KEY_ENV.merchantCertificate} is not a PEM certificate`);
    }
  } else
    notes.push(`merchant certificate not shipped (secrets/wechatpay/apiclient_cert.pem): its expiry is not watched`);
  for (const c of input.keeper?.list() ?? [])
    keys.push({ kind: 'platform_certificate', id: c.serial, expiresAt: c.validTo });
  if (material.hasPublicKey) {
    const id = env[WECHATPAY_ENV.publicKeyId]?.trim() ?? '';
    const at = env[KEY_ENV.publicKeyExpiresAt]?.trim();
    if (at && Number.isFinite(Date.parse(at))) keys.push({ kind: 'public_key', id, expiresAt: Date.parse(at) });
    else if (at) notes.push(`${KEY_ENV.publicKeyExpiresAt} is not a date`);
    else notes.push(`${KEY_ENV.publicKeyExpiresAt} unset: the public key's expiry is not watched`);
  }
  return keys;
}

/** The daily job: refresh the platform certificates (certificate modes), then raise the expiry alerts. */
export async function runKeyWatch(input: KeyWatchInput): Promise<KeyWatchSummary> {
  const { log, alerts, keeper } = input;
  const notes: string[] = [];
  const summary: KeyWatchSummary = { mode: input.material.mode ?? 'unconfigured', checked: [], alerts: [], notes };
  if (input.payProblems?.length) {
    const alert: Alert = {
      cause: 'wechatpay_config',
      severity: 'critical',
      message: 'WeChat Pay configuration invalid: paying functions cannot reach WeChat Pay until it is fixed',
      detail: { problems: input.payProblems },
    };
    await alerts.raise(alert);
    summary.alerts.push(alert.cause);
  }
  if (keeper) {
    try {
      summary.refreshed = await keeper.refresh('daily');
    } catch (error) {
      summary.refreshError = (error as Error).message;
      log.error('daily platform certificate download failed', { error: summary.refreshError });
    }
  }
  const warnDaysText = input.env[KEY_ENV.warnDays]?.trim();
  const warnDays = warnDaysText && /^\d{1,3}$/.test(warnDaysText) ? Number(warnDaysText) : DEFAULT_WARN_DAYS;
  summary.checked = watchedKeys(input, notes);
  for (const alert of expiryAlerts(summary.checked, input.clock(), warnDays)) {
    await alerts.raise(alert);
    summary.alerts.push(alert.cause);
  }
  log.info('key watch done', {
    mode: summary.mode,
    checked: summary.checked.map((k) => ({ ...k, expiresAt: new Date(k.expiresAt).toISOString() })),
    alerts: summary.alerts,
    notes,
  });
  return summary;
}
