/**
 * cloudbaserc.json for the `tcb` CLI (`tcb fn deploy`), generated from what `npm run deploy` deploys: every function
 * of cloudfunctions/ with its config.json (runtime, timeout, memory, timer triggers) and the names of the settings its
 * profile gives it (key material ships as files, not variables), each `{{env.NAME}}` (the CLI fills them from a .env file beside it: values never live in the
 * repository). test/server/deploy/cloudbase.test.ts fails when the committed file is stale.
 *
 *   npx tsx scripts/release/cloudbaserc.ts      (rewrites cloudbaserc.json)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_ENV } from '../../cloudfunctions/common/runtime/key-files';
import { settingsOf } from '../../cloudfunctions/common/runtime/profiles';
import { WECHATPAY_ENV } from '../../cloudfunctions/common/wechatpay';
import { listFunctions, ROOT, SOURCE_DIR } from '../../cloudfunctions/functions';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, readFunctionConfig, RUNTIME } from './cloudbase';

/** Key material ships as files in the function's folder (4 KB environment): no variable for it, inline or path. */
const PEM_SETTINGS = [
  WECHATPAY_ENV.merchantPrivateKey,
  WECHATPAY_ENV.publicKey,
  WECHATPAY_ENV.platformCertificates,
  KEY_ENV.merchantCertificate,
].flatMap((n) => [n, `${n}_PATH`]);

export const variablesOf = (name: string): string[] => settingsOf(name).filter((n) => !PEM_SETTINGS.includes(n));

export const CLOUDBASERC_PATH = join(ROOT, 'cloudbaserc.json');

export function cloudbaserc(names = listFunctions(), sourceDir = SOURCE_DIR): object {
  return {
    version: '2.0',
    envId: '{{env.ENV_ID}}',
    functionRoot: './dist/cloudfunctions',
    functions: names.map((name) => {
      const config = readFunctionConfig(sourceDir, name);
      return {
        name,
        runtime: RUNTIME,
        handler: 'index.main',
        timeout: config.timeout ?? DEFAULT_TIMEOUT_S,
        memorySize: config.memorySize ?? DEFAULT_MEMORY_MB,
        installDependency: true,
        envVariables: Object.fromEntries(variablesOf(name).map((n) => [n, `{{env.${n}}}`])),
        ...(config.triggers?.length ? { triggers: config.triggers } : {}),
      };
    }),
  };
}

export const cloudbasercText = (): string => `${JSON.stringify(cloudbaserc(), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(CLOUDBASERC_PATH, cloudbasercText());
  console.log(`wrote ${CLOUDBASERC_PATH}`);
}
