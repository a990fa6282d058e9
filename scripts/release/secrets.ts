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
