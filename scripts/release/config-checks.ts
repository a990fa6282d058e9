/**
 * The checks the build and the deploy make on the deployment configuration (secrets.ts reads it): each function's
 * environment against the 4 KB limit and its required settings, the settings loaded as the runtime will, the key
 * material and its expiry, key files tracked by git, a notify URL WeChat Pay can reach; and the database setup the
 * deploy prints. Values are never printed: problems name settings and files; certificates are described by serial
 * and dates.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { APP_ENV, AppConfigError, loadAppConfig } from '../../cloudfunctions/common/domain/config';
import type { Alert } from '../../cloudfunctions/common/domain/deps';
import {
  bootstrapEnv,
  KEY_DIR,
  KEY_ENV,
  KEY_FILES,
  readPemSetting,
  resolveKeyMaterial,
} from '../../cloudfunctions/common/runtime/key-files';
import { expiryAlerts, type WatchedKey } from '../../cloudfunctions/common/runtime/key-watch';
import { profileOf, requiredSettingsOf, settingsOf } from '../../cloudfunctions/common/runtime/profiles';
import {
  loadWechatPayConfig,
  splitPemBlocks,
  WECHATPAY_ENV,
  WechatPayConfigError,
} from '../../cloudfunctions/common/wechatpay';
import type { Secrets } from './secrets';

/** Tencent SCF: "Maximum environment variable size per function: 4 KB". */
export const ENV_LIMIT_BYTES = 4096;

// ---- git ------------------------------------------------------------------------------------------------------

const KEY_NAME = /(^|\/)secrets\/|\.(pem|p12|pfx|key)$/i;
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?:\s|\\[rn])*[A-Za-z0-9+/=]{40,}/;

/**
 * Files tracked by git that are, or hold, key material: anything under secrets/, *.pem/*.p12/*.pfx/*.key, and any
 * text file with a PEM private key block. `git: false` outside a git work tree (nothing can be checked then).
 */
export function trackedKeyFiles(root: string): { git: boolean; tracked: string[] } {
  let listing: string;
  try {
    listing = execFileSync('git', ['ls-files', '-z'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return { git: false, tracked: [] };
  }
  const tracked: string[] = [];
  for (const path of listing.split('\0').filter(Boolean)) {
    if (KEY_NAME.test(path)) {
      tracked.push(path);
      continue;
    }
    const full = join(root, path);
    let size: number;
    try {
      size = statSync(full).size;
    } catch {
      continue; // deleted in the work tree
    }
    if (size > 2 * 1024 * 1024) continue;
    const text = readFileSync(full).toString('latin1');
    if (text.includes('PRIVATE KEY-----') && PRIVATE_KEY_BLOCK.test(text)) tracked.push(path);
  }
  return { git: true, tracked };
}

// ---- per function -----------------------------------------------------------------------------------------------

export interface FunctionEnvironment {
  /** the settings this function gets (values stay in memory, never printed) */
  values: Record<string, string>;
  names: string[];
  bytes: number;
  missing: string[];
}

/** Size as names plus values in UTF-8 bytes (each variable `NAME=value`). */
export function envBytes(values: Record<string, string>): number {
  return Object.entries(values).reduce((n, [k, v]) => n + Buffer.byteLength(k) + 1 + Buffer.byteLength(v), 0);
}

export function environmentOf(name: string, secrets: Secrets): FunctionEnvironment {
  const values: Record<string, string> = {};
  for (const setting of settingsOf(name))
    if (secrets.env[setting] !== undefined && secrets.env[setting] !== '') values[setting] = secrets.env[setting]!;
  const missing = requiredSettingsOf(name, secrets.material.mode).filter((n) => values[n] === undefined);
  return { values, names: Object.keys(values), bytes: envBytes(values), missing };
}

/**
 * Loads the function's settings exactly as the runtime will: its environment, and the key files in its built folder
 * `dir`. Returns the problems by setting name.
 */
export function checkFunctionSettings(name: string, env: Record<string, string>, dir: string | undefined): string[] {
  const profile = profileOf(name);
  const problems: string[] = [];
  try {
    loadAppConfig(env, { wxLogin: profile.wxLogin });
  } catch (error) {
    if (error instanceof AppConfigError) problems.push(...error.problems);
    else throw error;
  }
  if (!profile.pay) return problems;
  const material = resolveKeyMaterial(env, dir);
  problems.push(...material.problems);
  try {
    // certificate mode without a certificate: downloaded at first use; everything else is checked the same way
    const loadEnv =
      material.mode === 'certificate' && !material.hasCertificates ? bootstrapEnv(material.env) : material.env;
    loadWechatPayConfig(loadEnv);
  } catch (error) {
    if (error instanceof WechatPayConfigError) problems.push(...error.problems);
    else throw error;
  }
  return problems;
}

// ---- the key material itself -------------------------------------------------------------------------------------

export interface KeyReport {
  lines: string[];
  problems: string[];
  alerts: Alert[];
}

/** The merchant key against its certificate and serial, and every expiry, at `now`. Serials and dates only. */
export function checkKeyMaterial(secrets: Secrets, now: number, warnDays = 30): KeyReport {
  const lines: string[] = [];
  const problems: string[] = [];
  const { env, material } = secrets;
  const watched: WatchedKey[] = [];
  let privateKey: ReturnType<typeof createPrivateKey> | undefined;
  const read = (name: string) => {
    try {
      return readPemSetting(material.env, name);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const keyPem = read(WECHATPAY_ENV.merchantPrivateKey);
  if (keyPem) {
    try {
      privateKey = createPrivateKey(keyPem);
      lines.push(
        `merchant private key: ${privateKey.asymmetricKeyType?.toUpperCase()} ${privateKey.asymmetricKeyDetails?.modulusLength ?? '?'} bits`,
      );
    } catch {
      problems.push(`${KEY_DIR}/${KEY_FILES.merchantPrivateKey} is not a PEM private key`);
    }
  } else
    problems.push(
      `no merchant private key: put apiclient_key.pem in ${relative(process.cwd(), join(secrets.dir, KEY_DIR)) || KEY_DIR}/`,
    );

  const certPem = read(KEY_ENV.merchantCertificate);
  if (certPem) {
    try {
      const cert = new X509Certificate(certPem);
      const serial = cert.serialNumber.toUpperCase();
      watched.push({ kind: 'merchant_certificate', id: serial, expiresAt: Date.parse(cert.validTo) });
      lines.push(`merchant certificate: serial ${serial}, valid until ${new Date(cert.validTo).toISOString()}`);
      const configured = env[WECHATPAY_ENV.merchantSerialNo]?.trim().toUpperCase();
      if (configured && configured !== serial)
        problems.push(`${WECHATPAY_ENV.merchantSerialNo} is not the serial of ${KEY_FILES.merchantCertificate}`);
      if (privateKey) {
        const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
        if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey))
          problems.push(`${KEY_FILES.merchantPrivateKey} does not belong to ${KEY_FILES.merchantCertificate}`);
      }
    } catch {
      problems.push(`${KEY_FILES.merchantCertificate} is not a PEM certificate`);
    }
  } else
    lines.push(
      `merchant certificate: not given (${KEY_DIR}/${KEY_FILES.merchantCertificate}): serial and expiry unchecked`,
    );

  lines.push(
    `key mode: ${material.mode ?? 'none configured'}${env[KEY_ENV.mode] ? '' : material.mode ? ' (from what is configured)' : ''}`,
  );
  if (material.hasPublicKey) {
    const id = env[WECHATPAY_ENV.publicKeyId] ?? '(WECHATPAY_PUBLIC_KEY_ID unset)';
    const at = env[KEY_ENV.publicKeyExpiresAt];
    if (at && Number.isFinite(Date.parse(at))) watched.push({ kind: 'public_key', id, expiresAt: Date.parse(at) });
    lines.push(
      `WeChat Pay public key: ${id}${at ? `, expires ${at}` : ` (set ${KEY_ENV.publicKeyExpiresAt} to be warned before it expires)`}`,
    );
  }
  if (material.mode === 'certificate' || material.mode === 'both') {
    const pem = read(WECHATPAY_ENV.platformCertificates);
    const blocks = pem ? splitPemBlocks(pem, 'CERTIFICATE') : [];
    for (const block of blocks) {
      try {
        const cert = new X509Certificate(block);
        watched.push({
          kind: 'platform_certificate',
          id: cert.serialNumber.toUpperCase(),
          expiresAt: Date.parse(cert.validTo),
        });
        lines.push(
          `platform certificate: serial ${cert.serialNumber.toUpperCase()}, valid until ${new Date(cert.validTo).toISOString()}`,
        );
      } catch {
        problems.push(`${KEY_FILES.platformCertificates} holds a block that is not a certificate`);
      }
    }
    lines.push(
      blocks.length
        ? 'platform certificates: downloaded daily and on an unknown serial, stored in wechatpay_certificates'
        : 'platform certificates: none given; downloaded at first use (verified by the APIv3 key), then daily',
    );
  }
  const alerts = expiryAlerts(watched, now, warnDays);
  for (const alert of alerts) (alert.severity === 'critical' ? problems : lines).push(alert.message);
  return { lines, problems, alerts };
}

// ---- the database ----------------------------------------------------------------------------------------------

export interface DatabaseSetup {
  rules: Record<string, unknown>;
  collections: {
    name: string;
    purpose: string;
    indexes: { name: string; fields: [string, 'asc' | 'desc'][]; for: string }[];
  }[];
}

export function loadDatabaseSetup(root: string): DatabaseSetup {
  return JSON.parse(readFileSync(join(root, 'cloudfunctions', 'database.json'), 'utf8')) as DatabaseSetup;
}

/** A WeChat Pay notify URL WeChat Pay can reach: https, not a loopback address. */
export function cloudNotifyUrlProblems(env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const name of [WECHATPAY_ENV.notifyUrl, WECHATPAY_ENV.refundNotifyUrl]) {
    const value = env[name];
    if (!value) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      continue; // the loader reports it
    }
    if (url.protocol !== 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      problems.push(`${name} must be an https address WeChat Pay can reach (the HTTP access route of payNotify)`);
  }
  if (env[WECHATPAY_ENV.baseUrl] && !env[WECHATPAY_ENV.baseUrl]!.startsWith('https://api.mch.weixin.qq.com')) {
    problems.push(
      `${WECHATPAY_ENV.baseUrl} points away from api.mch.weixin.qq.com (the simulator?): remove it for the cloud`,
    );
  }
  if (env[APP_ENV.wxApiBaseUrl] && !env[APP_ENV.wxApiBaseUrl]!.startsWith('https://api.weixin.qq.com')) {
    problems.push(
      `${APP_ENV.wxApiBaseUrl} points away from api.weixin.qq.com (the simulator?): remove it for the cloud`,
    );
  }
  return problems;
}
