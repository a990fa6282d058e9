/**
 * `npm run deploy -- --env <envId> [--dry-run] [--prune] [--check] [--region <region>] [--secrets <dir>] [--appid <appid>] [--out <dir>]`
 *
 * Builds every function with its key files (secrets/), checks the configuration the way the functions will load it,
 * then, with Tencent Cloud API keys (secrets/tencentcloud.env or TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY), drives
 * `@cloudbase/manager-node` (cloudbase.ts): reads what the environment holds, prints the difference (create / update /
 * unchanged / would delete; nothing is deleted without `--prune`) and applies it: functions with their runtime,
 * timeout, memory, bundle and key files, environment variables and timer triggers; the HTTP access routes; every
 * collection of database.json with its indexes and security rule. A second run with nothing changed does nothing.
 * `--dry-run` stops after the plan; `--check` reads the deployed environment back (cloudbase-check.ts).
 *
 * Without Tencent Cloud keys, the fallback: miniprogram-ci's cloud API with the code upload key (`--key`), which
 * uploads code and creates timers only, and the steps left by hand are printed.
 *
 * Any problem refuses before anything is changed. No secret is printed: settings by name, keys by serial and date;
 * the Tencent Cloud keys are handed to the SDK only and never become a function's setting.
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
import {
  applicable,
  desiredState,
  functionConfigProblems,
  inParallel,
  openManager,
  planChanges,
  planLines,
  readCurrent,
  readFunctionConfig,
  RUNTIME,
  sdkProblem,
  type CloudBaseManager,
  type FunctionConfig,
} from './cloudbase';
import { runCheck } from './cloudbase-check';
import { readSecrets, readTencentCloudKeys, TENCENT_CLOUD_ENV_FILE, type Secrets } from './secrets';

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
  /** miniprogram-ci, loaded only for a real deploy without Tencent Cloud keys */
  ci?: CiClient;
  /** delete what the environment holds and the repository does not (functions, routes, indexes, collections) */
  prune?: boolean;
  /** read the deployed environment back instead of deploying (cloudbase-check.ts) */
  check?: boolean;
  /** the environment's region (default: the SDK's, ap-shanghai) */
  region?: string;
  /** where the Tencent Cloud keys are looked for besides secrets/ (default process.env) */
  processEnv?: Record<string, string | undefined>;
}

export interface DeployResult {
  ok: boolean;
  problems: string[];
  uploaded: string[];
  /** the CloudBase path: the changes applied (or planned, in a dry run), by what they change */
  changes?: string[];
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
  const secrets: Secrets = readSecrets(secretsDir);
  const cloudKeys = readTencentCloudKeys(secretsDir, options.processEnv ?? process.env);
  problems.push(...cloudKeys.problems);
  // with Tencent Cloud keys the SDK deploys everything; without, miniprogram-ci uploads code and timers only
  const viaSdk = cloudKeys.keys !== undefined;

  // ---- the command line, the project
  if (!ENV_ID.test(options.envId)) problems.push(`--env: a cloud environment id like prod-1a2b3c is required`);
  if (options.keyPath) {
    if (!existsSync(options.keyPath)) problems.push(`--key: no file at ${options.keyPath}`);
    else if (!readFileSync(options.keyPath, 'utf8').includes('PRIVATE KEY-----'))
      problems.push(`--key: ${options.keyPath} is not a PEM private key (the code upload key from mp.weixin.qq.com)`);
  } else if (!options.dryRun && !viaSdk)
    problems.push(
      `no Tencent Cloud API keys (${show(join(secretsDir, TENCENT_CLOUD_ENV_FILE))} or TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY), and for the miniprogram-ci fallback --key: the mini-program code upload key (mp.weixin.qq.com → 开发 → 开发管理 → 开发设置 → 小程序代码上传)`,
    );
  if (options.check && !viaSdk)
    problems.push(
      `--check reads the environment through the CloudBase SDK: put the Tencent Cloud API keys in ${show(join(secretsDir, TENCENT_CLOUD_ENV_FILE))}`,
    );
  if (options.prune && !viaSdk) problems.push('--prune needs the CloudBase SDK path (Tencent Cloud API keys)');
  const projectConfig = JSON.parse(readFileSync(join(projectDir, 'project.config.json'), 'utf8')) as { appid?: string };
  const appid = options.appid ?? projectConfig.appid ?? '';
  if (appid === 'touristappid' || !APPID.test(appid))
    problems.push(`appid ${appid || '(none)'}: set your mini-program's AppID in project.config.json or pass --appid`);

  // ---- build with the secrets, then check what was built
  if (!secrets.exists) problems.push(`no secrets folder at ${show(secretsDir)} (see docs/deploy.md)`);
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
    const config = readFunctionConfig(SOURCE_DIR, f.name);
    configs.set(f.name, config);
    problems.push(...functionConfigProblems(f.name, config));
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
  const notifyRoutes = [...configs].filter(([, c]) => c.http?.path).map(([name, c]) => ({ name, path: c.http!.path }));
  const notifyPath = notifyRoutes.find((r) => r.name === 'payNotify')?.path ?? NOTIFY_ROUTE;
  const notifyUrl = secrets.env.WECHATPAY_NOTIFY_URL;
  if (notifyUrl && URL.canParse(notifyUrl) && new URL(notifyUrl).pathname !== notifyPath)
    problems.push(
      `WECHATPAY_NOTIFY_URL's path is not ${notifyPath}, the route of payNotify (payNotify/config.json http.path)`,
    );

  // ---- what will be deployed
  const mode = options.check
    ? ' (check: reading the environment back, nothing is changed)'
    : options.dryRun
      ? ' (dry run: nothing is changed)'
      : '';
  out(`Deploy plan: environment ${options.envId}, appid ${appid || '(none)'}${mode}`);
  out(
    `secrets: ${show(secretsDir)}${secrets.envFileExists ? `, cloud.env with ${Object.keys(secrets.env).length} settings` : ''}`,
  );
  out(
    viaSdk
      ? `Tencent Cloud API keys: from ${cloudKeys.source} (used to sign the CloudBase SDK's calls only)`
      : 'Tencent Cloud API keys: none; the miniprogram-ci fallback (code and timers only, the rest by hand)',
  );
  for (const note of secrets.notes) out(`  note: ${note}`);
  if (keys) for (const line of keys.lines) out(`  ${line}`);
  out('');
  out(
    viaSdk
      ? `Functions (${show(outDir)}/<name>, runtime ${RUNTIME}, dependencies installed in the cloud)`
      : `Functions (${show(outDir)}/<name>, uploaded with ci.cloud.uploadFunction, remoteNpmInstall: dependencies installed in the cloud; runtime Node.js 18)`,
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
      `    config.json  timeout ${config.timeout ?? 3} s${openapi.length ? `, openapi ${openapi.join(', ')}` : ''}${config.triggers?.length ? `, trigger ${config.triggers.map((t) => `${t.name} "${t.config}"`).join(', ')}` : ''}${config.http ? `, route ${config.http.path} (identity verification ${config.http.auth === false ? 'off' : 'on'})` : ''}`,
    );
  }
  out('');
  out(viaSdk ? 'Timer triggers' : 'Timer triggers (ci.cloud.createTimeTrigger)');
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
  const refuse = () => {
    const verb = options.check ? 'check failed' : options.dryRun ? 'a deploy would refuse' : 'refused, nothing changed';
    out(`Problems (${problems.length}): ${verb}`);
    for (const p of problems) out(`  ✗ ${p}`);
  };
  if (problems.length) refuse();
  else
    out('Checks passed: settings load in every function, keys match, environments within 4 KB, no key tracked by git.');
  out('');

  const uploaded: string[] = [];
  if (viaSdk) {
    if (problems.length) return { ok: false, problems, uploaded, changes: [] };
    const manager = openManager({ envId: options.envId, ...cloudKeys.keys!, region: options.region });
    const desired = desiredState(built, configs, database);
    const sdk = { manager, envId: options.envId, desired, outDir, prune: options.prune ?? false };
    const result = options.check ? await runCheck(sdk, notifyUrl, out) : await runSdkDeploy(sdk, options.dryRun, out);
    problems.push(...result.problems);
    // the check prints its own findings
    if (result.problems.length && !options.check) refuse();
    printMerchantSteps(out, secrets);
    return { ok: problems.length === 0, problems, uploaded, changes: result.changes };
  }

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

interface SdkRun {
  manager: CloudBaseManager;
  envId: string;
  desired: ReturnType<typeof desiredState>;
  outDir: string;
  prune: boolean;
}

interface SdkResult {
  problems: string[];
  changes: string[];
}

/** Reads, plans, applies, reads back. */
async function runSdkDeploy(run: SdkRun, dryRun: boolean, out: (line: string) => void): Promise<SdkResult> {
  const { manager, envId, desired, outDir, prune } = run;
  const problems: string[] = [];
  try {
    const plan = planChanges(desired, await readCurrent(manager, envId, desired), { prune, outDir });
    const todo = applicable(plan);
    out(
      `Plan for ${envId} (read from the environment): ${todo.length ? `${todo.length} to change` : 'nothing to change'}`,
    );
    for (const line of planLines(plan)) out(line);
    out('');
    for (const c of plan.changes.filter((c) => c.kind === 'refuse'))
      problems.push(`${c.what}: ${c.details.join('; ')}`);
    const changes = todo.map((c) => `${c.kind} ${c.what}`);
    if (problems.length) return { problems, changes };
    if (dryRun) {
      out(todo.length ? 'Dry run: nothing was changed.' : 'Nothing to do: the environment matches the repository.');
      return { problems, changes };
    }
    if (!todo.length) {
      out('Nothing to do: the environment matches the repository; nothing was changed.');
      return { problems, changes };
    }
    // functions first (a route needs its function), at most 4 at a time; then routes and the database in order
    const isFunction = (c: (typeof todo)[number]) => c.what.startsWith('function ');
    await inParallel(todo.filter(isFunction), 4, async (c) => {
      await c.apply!(manager);
      out(`  done: ${c.kind} ${c.what}`);
    });
    for (const c of todo.filter((c) => !isFunction(c))) {
      await c.apply!(manager);
      out(`  done: ${c.kind} ${c.what}`);
    }
    const after = applicable(planChanges(desired, await readCurrent(manager, envId, desired), { prune, outDir }));
    if (after.length)
      problems.push(`read back after the deploy, still different: ${after.map((c) => c.what).join(', ')}`);
    else out(`Read back: the environment matches the repository (${todo.length} changes applied).`);
    out('');
    return { problems, changes };
  } catch (error) {
    return { problems: [sdkProblem(error)], changes: [] };
  }
}

/** The steps the SDK cannot take: the merchant platform's. */
function printMerchantSteps(out: (line: string) => void, secrets: Secrets): void {
  out('Left to do by hand, in the WeChat Pay merchant platform (pay.weixin.qq.com) only:');
  out(
    '  1. Bind this AppID to the merchant (产品中心 → AppID账号管理 → 关联AppID) and confirm it in mp.weixin.qq.com.',
  );
  out('  2. Set the APIv3 key (账户中心 → API安全 → APIv3密钥): the value of WECHATPAY_APIV3_KEY.');
  out(
    secrets.material.mode === 'certificate'
      ? '  3. Certificate mode: platform certificates are downloaded by wechatpayKeys; nothing to fetch by hand.'
      : `  3. The WeChat Pay public key (API安全 → 微信支付公钥): ${KEY_DIR}/pub_key.pem, its PUB_KEY_ID_… in WECHATPAY_PUBLIC_KEY_ID.`,
  );
  out('  4. JSAPI payment opened for the merchant (产品中心 → 我的产品 → JSAPI支付), which mini-program payments use;');
  out(
    '     the notify URL needs no binding (WECHATPAY_NOTIFY_URL is sent with every order, and was checked above to be',
  );
  out("     the https address of payNotify's route).");
}

function printByHand(
  out: (line: string) => void,
  built: BuiltFunction[],
  configs: Map<string, FunctionConfig>,
  collections: string[],
  secrets: Secrets,
): void {
  out('Left to do by hand (cloud console: mp.weixin.qq.com → 云开发 → your environment; with Tencent Cloud API keys');
  out('`npm run deploy` does steps 1-4 itself, see docs/deploy.md)');
  out('  1. First deploy only: create each function (云函数 → 新建) with runtime Nodejs18.15 before uploading —');
  out('     miniprogram-ci 2.1.42 creates a missing function on Nodejs8.9 with a 3 s timeout, and the functions need');
  out('     Node.js 18 (global fetch). Set each timeout (版本与配置 → 超时时间):');
  out(`     ${[...configs].map(([name, c]) => `${name} ${c.timeout ?? 3} s`).join(', ')}.`);
  out('  2. Environment variables per function (版本与配置 → 环境变量), values from secrets/cloud.env:');
  for (const f of built) out(`     ${f.name}: ${f.env.names.join(', ') || '(none)'}`);
  const routes = [...configs].filter(([, c]) => c.http);
  out(
    `  3. HTTP access (环境 → HTTP访问服务), identity verification (身份认证) as listed: ${routes.map(([name, c]) => `${c.http!.path} → ${name} (${c.http!.auth === false ? 'OFF' : 'on'})`).join(', ')}`,
  );
  out(
    '     (with verification on, WeChat Pay gets 401 on every notification); WECHATPAY_NOTIFY_URL = https://<environment domain>' +
      (routes.find(([name]) => name === 'payNotify')?.[1].http?.path ?? NOTIFY_ROUTE) +
      '.',
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
    else if (arg === '--prune') options.prune = true;
    else if (arg === '--check') options.check = true;
    else if (arg === '--region') options.region = value();
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
      `${problems.join('\n')}\nusage: npm run deploy -- --env <envId> [--dry-run] [--prune] [--check] [--region <region>] [--key <upload key> (the miniprogram-ci fallback)] [--secrets <dir>] [--appid <appid>] [--out <dir>]`,
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
