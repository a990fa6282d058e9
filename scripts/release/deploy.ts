/**
 * `npm run deploy -- --env <envId> --key <upload private key> [--dry-run] [--secrets <dir>] [--appid <appid>] [--out <dir>]`
 *
 * Builds every function with its key files (secrets/), checks the configuration the way the functions will load it,
 * prints the plan (functions, files, sizes, environment variable names per function, timer triggers, the database
 * setup), then uploads each function with miniprogram-ci's cloud API (`ci.cloud.uploadFunction`, dependencies
 * installed in the cloud) and creates the timer triggers (`ci.cloud.createTimeTrigger`), and prints what is left to
 * do by hand. `--dry-run` stops before calling anything. Any problem refuses the upload. No secret is printed: settings
 * by name, keys by serial and date.
 *
 * The upload path follows miniprogram-ci 2.1.42's documented API; it cannot reach WeChat from the machine this
 * project is developed on and is untested there (README: Deploy to WeChat Cloud).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { KEY_DIR } from '../../cloudfunctions/common/runtime/key-files';
import { profileOf } from '../../cloudfunctions/common/runtime/profiles';
import { listFunctions, OUT_DIR, ROOT, SOURCE_DIR } from '../../cloudfunctions/functions';
import { BuildError, buildFunctions, kb, SECRETS_DIR, type BuiltFunction } from './build-functions';
import { loadMiniprogramCi } from './ci-cache';
import {
  checkFunctionSettings,
  checkKeyMaterial,
  cloudNotifyUrlProblems,
  ENV_LIMIT_BYTES,
  loadDatabaseSetup,
} from './config-checks';
import { readSecrets, type Secrets } from './secrets';

/** The part of miniprogram-ci the deploy uses (its README: 上传云开发云函数, 云函数添加定时触发器). */
export interface CiClient {
  Project: new (options: {
    appid: string;
    type: 'miniProgram';
    projectPath: string;
    privateKeyPath: string;
    ignores?: string[];
  }) => unknown;
  cloud: {
    uploadFunction(options: {
      project: unknown;
      env: string;
      name: string;
      path: string;
      remoteNpmInstall: boolean;
    }): Promise<{ filesCount: number; packSize: number }>;
    createTimeTrigger(options: {
      project: unknown;
      envId: string;
      functionName: string;
      triggersConfig: { name: string; type: string; config: string }[];
    }): Promise<string>;
  };
}

export interface DeployOptions {
  envId: string;
  keyPath?: string;
  dryRun: boolean;
  secretsDir?: string;
  /** overrides project.config.json's appid (which the repository keeps as touristappid) */
  appid?: string;
  outDir?: string;
  /** for expiry checks; default now */
  now?: number;
  out?: (line: string) => void;
  /** miniprogram-ci, loaded only for a real deploy */
  ci?: CiClient;
}

export interface DeployResult {
  ok: boolean;
  problems: string[];
  uploaded: string[];
}

interface FunctionConfig {
  timeout?: number;
  permissions?: { openapi?: string[] };
  triggers?: { name: string; type: string; config: string }[];
}

const ENV_ID = /^[a-z0-9][a-z0-9-]{2,39}$/i;
const APPID = /^wx[0-9a-zA-Z]{16}$/;
export const NOTIFY_ROUTE = '/wxpay/notify';

export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const out = options.out ?? ((line: string) => console.log(line));
  const projectDir = ROOT;
  const outDir = options.outDir ?? OUT_DIR;
  const secretsDir = options.secretsDir ?? SECRETS_DIR;
  const now = options.now ?? Date.now();
  const problems: string[] = [];
  const show = (path: string) => relative(projectDir, path) || path;

  // ---- the command line, the project
  if (!ENV_ID.test(options.envId)) problems.push(`--env: a cloud environment id like prod-1a2b3c is required`);
  if (options.keyPath) {
    if (!existsSync(options.keyPath)) problems.push(`--key: no file at ${options.keyPath}`);
    else if (!readFileSync(options.keyPath, 'utf8').includes('PRIVATE KEY-----'))
      problems.push(`--key: ${options.keyPath} is not a PEM private key (the code upload key from mp.weixin.qq.com)`);
  } else if (!options.dryRun)
    problems.push(
      '--key: the mini-program code upload key (mp.weixin.qq.com → 开发 → 开发管理 → 开发设置 → 小程序代码上传) is required',
    );
  const projectConfig = JSON.parse(readFileSync(join(projectDir, 'project.config.json'), 'utf8')) as { appid?: string };
  const appid = options.appid ?? projectConfig.appid ?? '';
  if (appid === 'touristappid' || !APPID.test(appid))
    problems.push(`appid ${appid || '(none)'}: set your mini-program's AppID in project.config.json or pass --appid`);

  // ---- build with the secrets, then check what was built
  const secrets: Secrets = readSecrets(secretsDir);
  if (!secrets.exists) problems.push(`no secrets folder at ${show(secretsDir)} (see README: Deploy to WeChat Cloud)`);
  else if (!secrets.envFileExists) problems.push(`no ${show(join(secretsDir, 'cloud.env'))}: the functions' settings`);
  problems.push(...secrets.problems);
  let built: BuiltFunction[] = [];
  try {
    built = await buildFunctions(outDir, listFunctions(), { secretsDir });
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    problems.push(...error.problems);
    built = error.built;
  }

  const byProblem = new Map<string, string[]>();
  const configs = new Map<string, FunctionConfig>();
  for (const f of built) {
    for (const p of checkFunctionSettings(f.name, f.env.values, f.dir))
      byProblem.set(p, [...(byProblem.get(p) ?? []), f.name]);
    const config = JSON.parse(readFileSync(join(SOURCE_DIR, f.name, 'config.json'), 'utf8')) as FunctionConfig;
    configs.set(f.name, config);
    if (config.timeout !== undefined && (config.timeout < 1 || config.timeout > 60))
      problems.push(`${f.name}/config.json: timeout must be 1-60 s`);
    const triggers = config.triggers ?? [];
    if (triggers.length > 1) problems.push(`${f.name}/config.json: createTimeTrigger takes one trigger per function`);
    for (const t of triggers)
      if (t.type !== 'timer' || t.config.trim().split(/\s+/).length !== 7)
        problems.push(`${f.name}/config.json: trigger ${t.name} must be a timer with a 7-field cron`);
  }
  for (const [problem, names] of byProblem)
    problems.push(`${problem} (${names.length === built.length ? 'every function' : names.join(', ')})`);
  const paying = built.some((f) => profileOf(f.name).pay);
  const keys = paying && secrets.exists ? checkKeyMaterial(secrets, now) : undefined;
  if (keys) problems.push(...keys.problems);
  problems.push(...cloudNotifyUrlProblems(secrets.env));
  for (const name of ['WX_APPID', 'WECHATPAY_APPID']) {
    if (secrets.env[name] && APPID.test(appid) && secrets.env[name] !== appid)
      problems.push(`${name} is not the project's appid`);
  }

  // ---- the plan
  out(
    `Deploy plan: environment ${options.envId}, appid ${appid || '(none)'}${options.dryRun ? ' (dry run: nothing is uploaded)' : ''}`,
  );
  out(
    `secrets: ${show(secretsDir)}${secrets.envFileExists ? `, cloud.env with ${Object.keys(secrets.env).length} settings` : ''}`,
  );
  for (const note of secrets.notes) out(`  note: ${note}`);
  if (keys) for (const line of keys.lines) out(`  ${line}`);
  out('');
  out(
    `Functions (${show(outDir)}/<name>, uploaded with ci.cloud.uploadFunction, remoteNpmInstall: dependencies installed in the cloud; runtime Node.js 18)`,
  );
  for (const f of built) {
    const config = configs.get(f.name) ?? {};
    out(`  ${f.name}`);
    out(`    files        ${f.files.map((x) => `${x.path} ${kb(x.bytes)}`).join(', ')}`);
    out(
      `    environment  ${f.env.bytes} / ${ENV_LIMIT_BYTES} bytes${f.env.bytes > ENV_LIMIT_BYTES ? ' OVER THE LIMIT' : ''}: ${f.env.names.join(', ') || '(none)'}`,
    );
    if (f.env.missing.length) out(`    missing      ${f.env.missing.join(', ')}`);
    const openapi = config.permissions?.openapi ?? [];
    out(
      `    config.json  timeout ${config.timeout ?? 3} s${openapi.length ? `, openapi ${openapi.join(', ')}` : ''}${config.triggers?.length ? `, trigger ${config.triggers.map((t) => `${t.name} "${t.config}"`).join(', ')}` : ''}`,
    );
  }
  out('');
  out('Timer triggers (ci.cloud.createTimeTrigger)');
  for (const [name, config] of configs)
    for (const t of config.triggers ?? []) out(`  ${name}: ${t.name} ${t.type} "${t.config}"`);
  out('');
  const database = loadDatabaseSetup(projectDir);
  out(
    `Database (cloudfunctions/database.json): security rule of every collection ${JSON.stringify(database.rules)} (clients read nothing directly)`,
  );
  for (const c of database.collections) {
    out(
      `  ${c.name.padEnd(22)} ${c.indexes.length ? c.indexes.map((i) => `${i.name}(${i.fields.map(([field, dir]) => `${field} ${dir}`).join(', ')})`).join('; ') : 'no index beyond _id'}`,
    );
  }
  out('');
  if (problems.length) {
    out(`Problems (${problems.length}): ${options.dryRun ? 'a deploy would refuse' : 'refused, nothing uploaded'}`);
    for (const p of problems) out(`  ✗ ${p}`);
  } else
    out('Checks passed: settings load in every function, keys match, environments within 4 KB, no key tracked by git.');
  out('');

  const uploaded: string[] = [];
  if (!options.dryRun && problems.length === 0) {
    const ci = options.ci ?? loadCi();
    const project = new ci.Project({
      appid,
      type: 'miniProgram',
      projectPath: projectDir,
      privateKeyPath: resolve(options.keyPath!),
      ignores: ['node_modules/**/*'],
    });
    for (const f of built) {
      out(`uploading ${f.name} …`);
      const result = await ci.cloud.uploadFunction({
        project,
        env: options.envId,
        name: f.name,
        path: f.dir,
        remoteNpmInstall: true,
      });
      out(`  ${f.name}: ${result.filesCount} files, ${kb(result.packSize)} zipped`);
      uploaded.push(f.name);
    }
    for (const [name, config] of configs) {
      for (const trigger of config.triggers ?? []) {
        const answer = await ci.cloud.createTimeTrigger({
          project,
          envId: options.envId,
          functionName: name,
          triggersConfig: [trigger],
        });
        // miniprogram-ci answers in words and swallows the error; an existing trigger also answers the second phrase
        out(
          answer === '创建定时触发器成功'
            ? `  trigger ${name}/${trigger.name} created`
            : `  trigger ${name}/${trigger.name}: "${answer}" (it may exist already: check the console)`,
        );
      }
    }
    out('');
  }

  printByHand(
    out,
    built,
    configs,
    database.collections.map((c) => c.name),
    secrets,
  );
  return { ok: problems.length === 0, problems, uploaded };
}

function printByHand(
  out: (line: string) => void,
  built: BuiltFunction[],
  configs: Map<string, FunctionConfig>,
  collections: string[],
  secrets: Secrets,
): void {
  out('Left to do by hand (cloud console: mp.weixin.qq.com → 云开发 → your environment)');
  out('  1. First deploy only: create each function (云函数 → 新建) with runtime Nodejs18.15 before uploading —');
  out('     miniprogram-ci 2.1.42 creates a missing function on Nodejs8.9 with a 3 s timeout, and the functions need');
  out('     Node.js 18 (global fetch). Set each timeout (版本与配置 → 超时时间):');
  out(`     ${[...configs].map(([name, c]) => `${name} ${c.timeout ?? 3} s`).join(', ')}.`);
  out('  2. Environment variables per function (版本与配置 → 环境变量), values from secrets/cloud.env:');
  for (const f of built) out(`     ${f.name}: ${f.env.names.join(', ') || '(none)'}`);
  out(
    `  3. HTTP access (环境 → HTTP访问服务): route ${NOTIFY_ROUTE} → function payNotify, identity verification (身份认证) OFF`,
  );
  out(
    '     (otherwise WeChat Pay gets 401 on every notification); WECHATPAY_NOTIFY_URL = https://<environment domain>' +
      NOTIFY_ROUTE +
      '.',
  );
  if (configs.has('checkout'))
    out(
      '     The Native checkout page, if you offer it: a route (for example /checkout) → function checkout, identity verification OFF.',
    );
  out(`  4. Database: create the collections ${collections.join(', ')};`);
  out('     permission 自定义安全规则 {"read": false, "write": false} on each; the indexes listed above (索引管理).');
  out('  5. Merchant platform (pay.weixin.qq.com): bind this AppID to the merchant, set the APIv3 key, and for');
  out(
    `     public-key mode download the WeChat Pay public key (${KEY_DIR}/pub_key.pem, its PUB_KEY_ID_… in WECHATPAY_PUBLIC_KEY_ID).`,
  );
  out(
    '  6. Run wechatpayKeys once (云函数 → wechatpayKeys → 云端测试): its log line "key watch done" lists the keys it',
  );
  out(
    `     watches${secrets.material.mode === 'certificate' || secrets.material.mode === 'both' ? ' and the certificates it downloaded' : ''}. Then a 1-fen order, a refund, and reconcile run once.`,
  );
  out('  7. If subscribe messages answer -604101: the openapi permission of config.json was not applied by this');
  out('     upload; upload that function once from DevTools (right-click → 上传并部署：云端安装依赖).');
}

const loadCi = (): CiClient => loadMiniprogramCi<CiClient>();

export function parseArgs(argv: readonly string[]): { options: Omit<DeployOptions, 'out' | 'ci'>; problems: string[] } {
  const problems: string[] = [];
  const options: Omit<DeployOptions, 'out' | 'ci'> = { envId: '', dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) problems.push(`${arg} needs a value`);
      return v ?? '';
    };
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--env') options.envId = value();
    else if (arg === '--key') options.keyPath = resolve(value());
    else if (arg === '--secrets') options.secretsDir = resolve(value());
    else if (arg === '--appid') options.appid = value();
    else if (arg === '--out') options.outDir = resolve(value());
    else problems.push(`unknown argument ${arg}`);
  }
  return { options, problems };
}

if (require.main === module) {
  const { options, problems } = parseArgs(process.argv.slice(2));
  if (problems.length) {
    console.error(
      `${problems.join('\n')}\nusage: npm run deploy -- --env <envId> --key <upload key> [--dry-run] [--secrets <dir>] [--appid <appid>] [--out <dir>]`,
    );
    process.exit(2);
  }
  deploy(options).then(
    (result) => process.exit(result.ok ? 0 : 1),
    (error: unknown) => {
      console.error(String((error as Error)?.stack ?? error));
      process.exit(1);
    },
  );
}
