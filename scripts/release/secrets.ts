/**
 * The deployment configuration, read from a git-ignored secrets folder (default `secrets/`). Layout:
 *
 *   secrets/cloud.env                     the functions' settings, KEY=VALUE per line (small values only)
 *   secrets/wechatpay/apiclient_key.pem   merchant API private key
 *   secrets/wechatpay/apiclient_cert.pem  merchant API certificate (optional: its serial and expiry are checked)
 *   secrets/wechatpay/pub_key.pem         WeChat Pay public key (public-key and migration modes)
 *   secrets/wechatpay/platform_cert.pem   platform certificate(s) (certificate mode; optional, downloaded when absent)
 *
 * The checks the build and the deploy make on it are config-checks.ts. Values are never printed: problems name
 * settings and files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  KEY_DIR,
  KEY_ENV,
  KEY_FILES,
  resolveKeyMaterial,
  type KeyFile,
  type KeyMaterial,
} from '../../cloudfunctions/common/runtime/key-files';
import { FUNCTION_PROFILES, SECRET_SETTINGS, settingsOf } from '../../cloudfunctions/common/runtime/profiles';
import { WECHATPAY_ENV } from '../../cloudfunctions/common/wechatpay';

export const ENV_FILE = 'cloud.env';
/** The Tencent Cloud API keys of the deploy (a CAM sub-account's), apart from the functions' settings. */
export const TENCENT_CLOUD_ENV_FILE = 'tencentcloud.env';
export const TENCENT_CLOUD_KEY_NAMES = {
  secretId: 'TENCENTCLOUD_SECRETID',
  secretKey: 'TENCENTCLOUD_SECRETKEY',
} as const;

export interface Secrets {
  dir: string;
  exists: boolean;
  /** secrets/cloud.env, parsed (empty when absent) */
  env: Record<string, string>;
  envFileExists: boolean;
  problems: string[];
  notes: string[];
  /** key files present in secrets/wechatpay/ */
  keyFiles: Partial<Record<KeyFile, string>>;
  /** the key material as the functions will resolve it (files in secrets/wechatpay/ standing in for shipped ones) */
  material: KeyMaterial;
}

const NAME = /^[A-Z][A-Z0-9_]*$/;
const KNOWN = new Set(Object.keys(FUNCTION_PROFILES).flatMap((name) => settingsOf(name)));

/** KEY=VALUE lines; `#` comments; values may be quoted. Problems name the line, never its value. */
export function parseEnvFile(text: string): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    const name = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    if (!NAME.test(name)) {
      problems.push(`${ENV_FILE} line ${i + 1}: expected NAME=value`);
      return;
    }
    let value = trimmed.slice(eq + 1).trim();
    if (
      value.length >= 2 &&
      ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))
    )
      value = value.slice(1, -1);
    if (Object.hasOwn(values, name)) problems.push(`${ENV_FILE} line ${i + 1}: ${name} set twice`);
    values[name] = value;
  });
  return { values, problems };
}

export function readSecrets(dir: string): Secrets {
  const exists = existsSync(dir) && statSync(dir).isDirectory();
  const problems: string[] = [];
  const notes: string[] = [];
  let env: Record<string, string> = {};
  const envPath = join(dir, ENV_FILE);
  const envFileExists = exists && existsSync(envPath);
  if (envFileExists) {
    const parsed = parseEnvFile(readFileSync(envPath, 'utf8'));
    env = parsed.values;
    problems.push(...parsed.problems);
    for (const name of Object.values(TENCENT_CLOUD_KEY_NAMES))
      if (env[name] !== undefined)
        problems.push(`${ENV_FILE}: ${name} belongs in ${TENCENT_CLOUD_ENV_FILE}, not among the functions' settings`);
    for (const name of Object.keys(env))
      if (!KNOWN.has(name)) notes.push(`${ENV_FILE}: ${name} is read by no function (a typo?)`);
    for (const name of [
      WECHATPAY_ENV.merchantPrivateKey,
      WECHATPAY_ENV.publicKey,
      WECHATPAY_ENV.platformCertificates,
      KEY_ENV.merchantCertificate,
    ]) {
      if (env[name])
        notes.push(
          `${ENV_FILE}: ${name} holds key material inline; it belongs in ${KEY_DIR}/ as a file (4 KB environment limit)`,
        );
    }
  }
  const keyFiles: Partial<Record<KeyFile, string>> = {};
  for (const file of Object.values(KEY_FILES)) {
    const path = join(dir, KEY_DIR, file);
    if (exists && existsSync(path)) keyFiles[file] = path;
  }
  return {
    dir,
    exists,
    env,
    envFileExists,
    problems,
    notes,
    keyFiles,
    material: resolveKeyMaterial(env, exists ? dir : undefined),
  };
}

/**
 * The Tencent Cloud API keys: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY from the environment, else from
 * secrets/tencentcloud.env. Problems name the variable, never its value; `keys` undefined when neither has them.
 */
export function readTencentCloudKeys(
  dir: string,
  env: Record<string, string | undefined>,
): { keys?: { secretId: string; secretKey: string }; source?: string; problems: string[] } {
  const { secretId, secretKey } = TENCENT_CLOUD_KEY_NAMES;
  const problems: string[] = [];
  const pick = (values: Record<string, string | undefined>, source: string) => {
    const id = values[secretId]?.trim();
    const key = values[secretKey]?.trim();
    if (!id && !key) return undefined;
    if (!id || !key) {
      problems.push(`${source}: ${id ? secretKey : secretId} is missing (both keys of the sub-account are needed)`);
      return undefined;
    }
    return { keys: { secretId: id, secretKey: key }, source, problems };
  };
  const fromEnv = pick(env, 'the environment');
  if (fromEnv) return fromEnv;
  const file = join(dir, TENCENT_CLOUD_ENV_FILE);
  if (existsSync(file)) {
    const parsed = parseEnvFile(readFileSync(file, 'utf8'));
    problems.push(...parsed.problems.map((p) => p.replace(ENV_FILE, TENCENT_CLOUD_ENV_FILE)));
    const fromFile = pick(parsed.values, `secrets/${TENCENT_CLOUD_ENV_FILE}`);
    if (fromFile) return fromFile;
  }
  return { problems };
}

/** No secrets folder: bundles without key files or settings (the local cloud, tests). */
export function noSecrets(): Secrets {
  return {
    dir: '',
    exists: false,
    env: {},
    envFileExists: false,
    problems: [],
    notes: [],
    keyFiles: {},
    material: resolveKeyMaterial({}, undefined),
  };
}

export { SECRET_SETTINGS };
