/**
 * Where a function's WeChat Pay key material comes from. A cloud function's environment is capped at 4 KB, and a
 * private key, a certificate and a public key are about 3.6 KB together: so `npm run build` copies them from the
 * git-ignored `secrets/wechatpay/` into the function's own folder (`wechatpay/` beside index.js), and the environment
 * keeps the small values. For each PEM setting, the first of these wins:
 *   1. the variable itself (PEM text, newlines may be written `\n`)          WECHATPAY_MERCHANT_PRIVATE_KEY
 *   2. its `_PATH` variable (a relative path is taken from the function's folder)  WECHATPAY_MERCHANT_PRIVATE_KEY_PATH
 *   3. the file shipped in the function's folder                             wechatpay/apiclient_key.pem
 *
 * WECHATPAY_KEY_MODE says which WeChat Pay keys verify signatures: `publicKey` (merchants created today),
 * `certificate` (platform certificates, downloaded and kept current at run time) or `both` (mid-migration). Unset,
 * it follows what is configured. Nothing here reads a value into a message: problems name variables and files.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { WECHATPAY_ENV, type Env } from '../wechatpay/config';

export const KEY_DIR = 'wechatpay';

/** File names as WeChat Pay hands them to a merchant. */
export const KEY_FILES = {
  merchantPrivateKey: 'apiclient_key.pem',
  merchantCertificate: 'apiclient_cert.pem',
  publicKey: 'pub_key.pem',
  platformCertificates: 'platform_cert.pem',
} as const;
export type KeyFile = (typeof KEY_FILES)[keyof typeof KEY_FILES];

/** Settings of this module (WeChat Pay's own are WECHATPAY_ENV). */
export const KEY_ENV = {
  mode: 'WECHATPAY_KEY_MODE',
  /** the merchant API certificate (apiclient_cert.pem): only its expiry is read, by the key watch */
  merchantCertificate: 'WECHATPAY_MERCHANT_CERTIFICATE',
  /** the WeChat Pay public key's expiry as the merchant platform shows it (the PEM carries none), ISO 8601 */
  publicKeyExpiresAt: 'WECHATPAY_PUBLIC_KEY_EXPIRES_AT',
  /** warn this many days before a key or certificate expires (default 30) */
  warnDays: 'KEY_EXPIRY_WARN_DAYS',
} as const;

export const KEY_MODES = ['publicKey', 'certificate', 'both'] as const;
export type KeyMode = (typeof KEY_MODES)[number];

/** Each PEM setting and the shipped file that stands in for it. */
export const PEM_SETTINGS: readonly { name: string; file: KeyFile }[] = [
  { name: WECHATPAY_ENV.merchantPrivateKey, file: KEY_FILES.merchantPrivateKey },
  { name: KEY_ENV.merchantCertificate, file: KEY_FILES.merchantCertificate },
  { name: WECHATPAY_ENV.publicKey, file: KEY_FILES.publicKey },
  { name: WECHATPAY_ENV.platformCertificates, file: KEY_FILES.platformCertificates },
];

export interface KeyMaterial {
  /** the environment with every PEM setting resolved to inline text or an absolute `_PATH`, trimmed to the mode */
  env: Record<string, string | undefined>;
  mode: KeyMode | undefined;
  /** platform certificates were configured (not only to be downloaded) */
  hasCertificates: boolean;
  hasPublicKey: boolean;
  problems: string[];
}

const text = (env: Env, name: string): string | undefined => env[name]?.trim() || undefined;

/**
 * Resolves the PEM settings against the function's folder and the files shipped there, and the key mode. `dir` is
 * the folder holding index.js (undefined: no shipped files, relative paths from the working directory).
 */
export function resolveKeyMaterial(
  env: Env,
  dir: string | undefined,
  exists: (path: string) => boolean = existsSync,
): KeyMaterial {
  const out: Record<string, string | undefined> = { ...env };
  const problems: string[] = [];
  for (const { name, file } of PEM_SETTINGS) {
    if (text(env, name)) {
      delete out[`${name}_PATH`];
      continue;
    }
    const path = text(env, `${name}_PATH`);
    if (path) {
      out[`${name}_PATH`] = isAbsolute(path) ? path : resolve(dir ?? process.cwd(), path);
      continue;
    }
    const shipped = dir ? join(dir, KEY_DIR, file) : undefined;
    if (shipped && exists(shipped)) out[`${name}_PATH`] = shipped;
  }
  const present = (name: string) => Boolean(text(out, name) || text(out, `${name}_PATH`));
  const hasPublicKey = present(WECHATPAY_ENV.publicKey) || Boolean(text(out, WECHATPAY_ENV.publicKeyId));
  const hasCertificates = present(WECHATPAY_ENV.platformCertificates);

  let mode: KeyMode | undefined;
  const declared = text(env, KEY_ENV.mode);
  if (declared !== undefined) {
    if ((KEY_MODES as readonly string[]).includes(declared)) mode = declared as KeyMode;
    else problems.push(`${KEY_ENV.mode} must be one of ${KEY_MODES.join(', ')}`);
  } else if (hasPublicKey && hasCertificates) mode = 'both';
  else if (hasPublicKey) mode = 'publicKey';
  else if (hasCertificates) mode = 'certificate';

  if (mode === 'publicKey' || mode === 'both') {
    if (!hasPublicKey)
      problems.push(
        `${KEY_ENV.mode}=${mode} needs ${WECHATPAY_ENV.publicKeyId} and the WeChat Pay public key (secrets/${KEY_DIR}/${KEY_FILES.publicKey})`,
      );
  }
  if (mode === 'publicKey') {
    // certificates a merchant no longer uses must not verify anything
    for (const name of [WECHATPAY_ENV.platformCertificates, `${WECHATPAY_ENV.platformCertificates}_PATH`])
      delete out[name];
  }
  if (mode === 'certificate') {
    for (const name of [WECHATPAY_ENV.publicKeyId, WECHATPAY_ENV.publicKey, `${WECHATPAY_ENV.publicKey}_PATH`])
      delete out[name];
  }
  return {
    env: out,
    mode,
    hasCertificates: mode !== 'publicKey' && hasCertificates,
    hasPublicKey: mode !== 'certificate' && hasPublicKey,
    problems,
  };
}

/** A PEM setting's text from a resolved environment (inline or the file its `_PATH` names); undefined when unset. */
export function readPemSetting(
  env: Env,
  name: string,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | undefined {
  const inline = text(env, name);
  if (inline) return inline.replace(/\\n/g, '\n');
  const path = text(env, `${name}_PATH`);
  if (!path) return undefined;
  try {
    return readFile(path);
  } catch {
    throw new Error(`${name}_PATH: cannot read the file it names`);
  }
}

/**
 * Certificate mode with no certificate yet: the environment the WeChat Pay loader gets for the first download, with
 * a public key nobody holds (a fresh P-256 key), so that the loader has a verifying key and nothing can verify with
 * it. The download is trusted for what it is: certificates that decrypt under the APIv3 key.
 */
export function bootstrapEnv(env: Env): Env {
  const nobody = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    ...env,
    [WECHATPAY_ENV.publicKeyId]: 'PUB_KEY_ID_0000BOOTSTRAP',
    [WECHATPAY_ENV.publicKey]: nobody,
    [`${WECHATPAY_ENV.publicKey}_PATH`]: undefined,
  };
}
