/**
 * Writes a secrets folder in the layout `npm run build` and `npm run deploy` read, from the local cloud's generated
 * keys (.localcloud/keys, or LOCALCLOUD_DATA/keys): to try the build and the deploy plan without a merchant account.
 * The local keys are the simulator's, worthless outside this machine; the folder is still written 0700/0600.
 *
 *   npx tsx scripts/release/local-secrets.ts <dir> [--mode publicKey|certificate|both] [--notify-url <url>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KEY_DIR, KEY_FILES, KEY_MODES, type KeyMode } from '../../cloudfunctions/common/runtime/key-files';
import { loadOrCreateKeys } from '../../localcloud/keys';
import { ROOT } from '../../cloudfunctions/functions';

export function writeLocalSecrets(
  dir: string,
  options: { dataDir?: string; mode?: KeyMode; notifyUrl?: string } = {},
): string[] {
  const { keys } = loadOrCreateKeys(
    join(options.dataDir ?? process.env.LOCALCLOUD_DATA ?? join(ROOT, '.localcloud'), 'keys'),
  );
  const mode = options.mode ?? 'publicKey';
  mkdirSync(join(dir, KEY_DIR), { recursive: true, mode: 0o700 });
  const secret = { mode: 0o600 };
  const written: string[] = [];
  const write = (file: string, text: string) => {
    writeFileSync(join(dir, file), text, secret);
    written.push(file);
  };
  write(join(KEY_DIR, KEY_FILES.merchantPrivateKey), keys.merchantPrivateKeyPem);
  write(join(KEY_DIR, KEY_FILES.merchantCertificate), keys.merchantCertificatePem);
  if (mode !== 'certificate') write(join(KEY_DIR, KEY_FILES.publicKey), keys.platformPublicKeyPem);
  if (mode !== 'publicKey') write(join(KEY_DIR, KEY_FILES.platformCertificates), keys.platformCertificatePem);
  const settings: [string, string][] = [
    ['WX_APPID', keys.appid],
    ['WX_APP_SECRET', keys.appSecret],
    ['WECHATPAY_MCHID', keys.mchid],
    ['WECHATPAY_APPID', keys.appid],
    ['WECHATPAY_MERCHANT_SERIAL_NO', keys.merchantSerialNo],
    ['WECHATPAY_APIV3_KEY', keys.apiV3Key],
    ['WECHATPAY_KEY_MODE', mode],
    ...(mode !== 'certificate' ? ([['WECHATPAY_PUBLIC_KEY_ID', keys.publicKeyId]] as [string, string][]) : []),
    ['WECHATPAY_NOTIFY_URL', options.notifyUrl ?? 'http://127.0.0.1:8787/http/payNotify'],
  ];
  write(
    'cloud.env',
    `# written by scripts/release/local-secrets.ts from the local cloud's keys\n${settings.map(([k, v]) => `${k}=${v}`).join('\n')}\n`,
  );
  return written;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const dir = args[0];
  const opt = (name: string) => {
    const at = args.indexOf(name);
    return at > 0 ? args[at + 1] : undefined;
  };
  const mode = opt('--mode') as KeyMode | undefined;
  if (!dir || dir.startsWith('--') || (mode && !KEY_MODES.includes(mode))) {
    console.error(
      'usage: npx tsx scripts/release/local-secrets.ts <dir> [--mode publicKey|certificate|both] [--notify-url <url>]',
    );
    process.exit(2);
  }
  const notifyUrl = opt('--notify-url');
  const written = writeLocalSecrets(resolve(dir), { ...(mode ? { mode } : {}), ...(notifyUrl ? { notifyUrl } : {}) });
  console.log(`wrote ${written.join(', ')} into ${resolve(dir)}`);
}
