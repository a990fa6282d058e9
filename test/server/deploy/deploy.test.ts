/**
 * `npm run deploy`: the dry-run plan for a fixture configuration (functions, files, sizes, environment variable names
 * per function, triggers, database, steps by hand), the checks that refuse a deploy, and the fallback upload path's
 * calls to miniprogram-ci (made against a recording double: miniprogram-ci itself cannot reach WeChat here). The
 * CloudBase SDK path is cloudbase.test.ts.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { profileOf } from '../../../cloudfunctions/common/runtime/profiles';
import { listFunctions, ROOT } from '../../../cloudfunctions/functions';
import { deploy, parseArgs, type CiClient, type DeployOptions } from '../../../scripts/release/deploy';
import { writeLocalSecrets } from '../../../scripts/release/local-secrets';
import { leaked, secretFragments } from '../../support/logs';

jest.setTimeout(60_000);

let tmp: string;
let fixture: string;
let appid: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'deploy-test-'));
  fixture = join(tmp, 'secrets');
  writeLocalSecrets(fixture, {
    dataDir: join(tmp, 'data'),
    notifyUrl: 'https://prod-1a2b3c.service.tcloudbase.com/wxpay/notify',
  });
  appid = /WX_APPID=(\S+)/.exec(readFileSync(join(fixture, 'cloud.env'), 'utf8'))![1]!;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A miniprogram-ci that must not be touched. */
const untouchable: CiClient = {
  Project: class {
    constructor() {
      throw new Error('miniprogram-ci was called');
    }
  },
  cloud: {
    uploadFunction: () => Promise.reject(new Error('miniprogram-ci was called')),
    createTimeTrigger: () => Promise.reject(new Error('miniprogram-ci was called')),
  },
};

async function plan(options: Partial<DeployOptions> = {}) {
  const lines: string[] = [];
  const result = await deploy({
    envId: 'prod-1a2b3c',
    dryRun: true,
    secretsDir: fixture,
    appid,
    outDir: join(tmp, 'out'),
    ci: untouchable,
    out: (l) => lines.push(l),
    processEnv: {}, // the miniprogram-ci path: no Tencent Cloud keys, whatever the machine's environment holds
    ...options,
  });
  return { ...result, lines, text: lines.join('\n') };
}

/** The indented block of one function in the plan. */
const block = (lines: string[], name: string) => {
  const at = lines.indexOf(`  ${name}`);
  return lines.slice(at + 1, at + 4).join('\n');
};

test('the dry-run plan for a fixture configuration: every function with its files, sizes, settings and trigger, the database, the steps by hand; nothing called, nothing secret printed', async () => {
  const { ok, problems, uploaded, lines, text } = await plan();
  expect(problems).toEqual([]);
  expect(ok).toBe(true);
  expect(uploaded).toEqual([]);
  expect(lines[0]).toBe(`Deploy plan: environment prod-1a2b3c, appid ${appid} (dry run: nothing is changed)`);
  expect(text).toContain('key mode: publicKey');
  for (const name of listFunctions()) expect(lines).toContain(`  ${name}`);

  expect(block(lines, 'login')).toMatch(/files {8}config\.json \d+ B, index\.js [\d.]+ KB, package\.json \d+ B\n/);
  expect(block(lines, 'login')).toMatch(/environment {2}\d+ \/ 4096 bytes: WX_APPID, WX_APP_SECRET\n/);
  expect(block(lines, 'catalog')).toContain('environment  0 / 4096 bytes: (none)');
  const payment = block(lines, 'payment');
  expect(payment).toMatch(/wechatpay\/apiclient_key\.pem 1\.7 KB, wechatpay\/pub_key\.pem 451 B/);
  expect(payment).toMatch(
    /environment {2}\d{3} \/ 4096 bytes: WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_MERCHANT_SERIAL_NO, WECHATPAY_APIV3_KEY, WECHATPAY_PUBLIC_KEY_ID, WECHATPAY_NOTIFY_URL, WECHATPAY_KEY_MODE/,
  );
  expect(payment).toContain('config.json  timeout 20 s, openapi subscribeMessage.send');
  expect(block(lines, 'wechatpayKeys')).toContain('wechatpay/apiclient_cert.pem');
  expect(block(lines, 'reconcile')).toContain('trigger reconcileEvery5Minutes "0 */5 * * * * *"');
  expect(lines.filter((l) => l.includes('WX_APP_SECRET'))).toHaveLength(2); // login's block and its step by hand

  expect(lines).toContain('Timer triggers (ci.cloud.createTimeTrigger)');
  expect(lines).toContain('  reconcile: reconcileEvery5Minutes timer "0 */5 * * * * *"');
  expect(lines).toContain('  wechatpayKeys: wechatpayKeysDaily timer "0 30 3 * * * *"');
  expect(text).toContain('security rule of every collection {"read":false,"write":false}');
  expect(text).toMatch(/ {2}refunds {16}orderId_createdAt\(orderId asc, createdAt asc\); status_nextAttemptAt/);
  expect(text).toContain('/checkout → checkout (OFF), /wxpay/notify → payNotify (OFF)');
  expect(block(lines, 'payNotify')).toContain('route /wxpay/notify (identity verification off)');
  expect(text).toContain('Checks passed');

  const fragments = secretFragments(fixture);
  expect(fragments.length).toBeGreaterThan(30);
  expect(leaked(text, fragments)).toEqual([]);
});

test('certificate mode: the plan ships the platform certificate and says how it is kept current', async () => {
  const secrets = join(tmp, 'secrets-cert');
  writeLocalSecrets(secrets, {
    dataDir: join(tmp, 'data'),
    mode: 'certificate',
    notifyUrl: 'https://prod-1a2b3c.service.tcloudbase.com/wxpay/notify',
  });
  const { ok, lines, text } = await plan({ secretsDir: secrets });
  expect(ok).toBe(true);
  expect(block(lines, 'payNotify')).toMatch(/wechatpay\/apiclient_key\.pem [\d.]+ KB, wechatpay\/platform_cert\.pem/);
  expect(block(lines, 'payNotify')).not.toContain('WECHATPAY_PUBLIC_KEY_ID');
  expect(text).toMatch(/platform certificate: serial [0-9A-F]+, valid until/);
  expect(text).toContain('downloaded daily and on an unknown serial, stored in wechatpay_certificates');
});

test('what refuses a deploy: the tourist appid, no upload key, a loopback notify URL, the simulator, a serial or key that does not match, a certificate about to expire', async () => {
  const secrets = join(tmp, 'secrets-bad');
  cpSync(fixture, secrets, { recursive: true });
  appendFileSync(
    join(secrets, 'cloud.env'),
    'WECHATPAY_BASE_URL=http://127.0.0.1:8788\nWECHATPAY_REFUND_NOTIFY_URL=http://127.0.0.1:8787/http/payNotify\n',
  );
  writeFileSync(
    join(secrets, 'cloud.env'),
    readFileSync(join(secrets, 'cloud.env'), 'utf8').replace(
      /WECHATPAY_MERCHANT_SERIAL_NO=\S+/,
      'WECHATPAY_MERCHANT_SERIAL_NO=ABCDEF0123456789',
    ),
  );
  const other = join(tmp, 'secrets-other');
  writeLocalSecrets(other, { dataDir: join(tmp, 'data-other') });
  cpSync(join(other, 'wechatpay', 'apiclient_key.pem'), join(secrets, 'wechatpay', 'apiclient_key.pem'));
  const certEnd = Date.parse(
    new X509Certificate(readFileSync(join(secrets, 'wechatpay', 'apiclient_cert.pem'))).validTo,
  );

  const { ok, problems, text } = await plan({
    secretsDir: secrets,
    appid: 'touristappid',
    dryRun: false,
    now: certEnd - 3 * 24 * 3600 * 1000,
  });
  expect(ok).toBe(false);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringContaining('--key: the mini-program code upload key'),
      expect.stringContaining('appid touristappid'),
      'WECHATPAY_REFUND_NOTIFY_URL must be an https address WeChat Pay can reach (the HTTP access route of payNotify)',
      expect.stringContaining('WECHATPAY_BASE_URL points away from api.mch.weixin.qq.com'),
      'WECHATPAY_MERCHANT_SERIAL_NO is not the serial of apiclient_cert.pem',
      'apiclient_key.pem does not belong to apiclient_cert.pem',
      expect.stringMatching(/^merchant API certificate [0-9A-F]+ expires in 3 days/),
    ]),
  );
  expect(text).toContain('refused, nothing changed');
  expect(leaked(text, secretFragments(secrets))).toEqual([]);
});

test("the Tencent Cloud API keys are refused among the functions' settings: they would become a function's variable", async () => {
  const secrets = join(tmp, 'secrets-tencent-in-cloud-env');
  cpSync(fixture, secrets, { recursive: true });
  appendFileSync(join(secrets, 'cloud.env'), 'TENCENTCLOUD_SECRETKEY=abcdefgh0123456789\n');
  const { ok, problems, text } = await plan({ secretsDir: secrets });
  expect(ok).toBe(false);
  expect(problems).toContain(
    "cloud.env: TENCENTCLOUD_SECRETKEY belongs in tencentcloud.env, not among the functions' settings",
  );
  expect(text).not.toContain('abcdefgh0123456789');
});

test('settings a function needs are missing: named once, with the functions that need them', async () => {
  const secrets = join(tmp, 'secrets-missing');
  cpSync(fixture, secrets, { recursive: true });
  writeFileSync(
    join(secrets, 'cloud.env'),
    readFileSync(join(secrets, 'cloud.env'), 'utf8')
      .replace(/^WX_APP_SECRET=.*\n/m, '')
      .replace(/^WECHATPAY_MCHID=.*\n/m, ''),
  );
  const { problems, lines } = await plan({ secretsDir: secrets });
  const paying = listFunctions().filter((name) => profileOf(name).pay);
  expect(paying).toEqual(expect.arrayContaining(['orders', 'payment', 'payNotify', 'reconcile', 'wechatpayKeys']));
  expect(problems).toEqual(
    expect.arrayContaining(['WX_APP_SECRET is missing (login)', `WECHATPAY_MCHID is missing (${paying.join(', ')})`]),
  );
  expect(block(lines, 'login')).toContain('missing      WX_APP_SECRET');
});

test('the upload path: each function uploaded with its dependencies installed in the cloud, one trigger per call (a recording double, not WeChat)', async () => {
  const key = join(tmp, 'private.upload.key');
  cpSync(join(fixture, 'wechatpay', 'apiclient_key.pem'), key);
  const calls: { what: string; options: Record<string, unknown> }[] = [];
  const ci: CiClient = {
    Project: class {
      constructor(options: Record<string, unknown>) {
        calls.push({ what: 'Project', options });
      }
    },
    cloud: {
      uploadFunction: async (options) => (
        calls.push({ what: 'uploadFunction', options }),
        { filesCount: 3, packSize: 20_000 }
      ),
      createTimeTrigger: async (options) => (calls.push({ what: 'createTimeTrigger', options }), '创建定时触发器成功'),
    },
  };
  const result = await plan({ dryRun: false, keyPath: key, ci });
  expect(result.problems).toEqual([]);
  expect(result.uploaded).toEqual(listFunctions());
  expect(calls[0]).toEqual({
    what: 'Project',
    options: { appid, type: 'miniProgram', projectPath: ROOT, privateKeyPath: key, ignores: ['node_modules/**/*'] },
  });
  const uploads = calls.filter((c) => c.what === 'uploadFunction').map((c) => c.options);
  expect(uploads.map((u) => [u.name, u.env, u.remoteNpmInstall, u.path])).toEqual(
    listFunctions().map((name) => [name, 'prod-1a2b3c', true, join(tmp, 'out', name)]),
  );
  const triggers = calls
    .filter((c) => c.what === 'createTimeTrigger')
    .map((c) => [c.options.functionName, c.options.envId, c.options.triggersConfig]);
  const withTriggers = listFunctions().filter(
    (name) =>
      (JSON.parse(readFileSync(join(ROOT, 'cloudfunctions', name, 'config.json'), 'utf8')) as { triggers?: unknown[] })
        .triggers?.length,
  );
  expect(triggers.map(([name]) => name)).toEqual(withTriggers);
  expect(triggers).toEqual(
    expect.arrayContaining([
      ['reconcile', 'prod-1a2b3c', [{ name: 'reconcileEvery5Minutes', type: 'timer', config: '0 */5 * * * * *' }]],
      ['wechatpayKeys', 'prod-1a2b3c', [{ name: 'wechatpayKeysDaily', type: 'timer', config: '0 30 3 * * * *' }]],
    ]),
  );
  expect(result.text).toContain('trigger reconcile/reconcileEvery5Minutes created');
});

test('the command line', async () => {
  expect(parseArgs(['--env', 'prod-1a2b3c', '--key', 'k.key', '--dry-run'])).toEqual({
    options: { envId: 'prod-1a2b3c', keyPath: join(process.cwd(), 'k.key'), dryRun: true },
    problems: [],
  });
  expect(parseArgs(['--env', '--dry-run', '--bogus']).problems).toEqual([
    '--env needs a value',
    'unknown argument --bogus',
  ]);
  const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        join(ROOT, 'scripts/release/deploy.ts'),
        '--env',
        'prod-1a2b3c',
        '--dry-run',
        '--secrets',
        fixture,
        '--appid',
        appid,
        '--out',
        join(tmp, 'cli-out'),
      ],
      { cwd: ROOT, timeout: 50_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Checks passed');
});
