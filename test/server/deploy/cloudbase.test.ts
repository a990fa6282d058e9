/**
 * `npm run deploy` through the real `@cloudbase/manager-node`, against a local fake of Tencent Cloud's management API
 * (test/support/cloudbase-fake.ts) that the SDK reaches through `http_proxy`, as it would reach any proxy. Each run is
 * the command itself in a child process (NODE_EXTRA_CA_CERTS trusts the fake's CA there). One environment through a
 * merchant's life: a dry run from nothing, a first deploy, a second that changes nothing, then each change and exactly
 * its difference, a missing permission, pruning, the check, and that no request or output line carries a key.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsOf } from '../../../cloudfunctions/common/runtime/profiles';
import { listFunctions, ROOT, SOURCE_DIR } from '../../../cloudfunctions/functions';
import {
  desiredState,
  planChanges,
  readFunctionConfig,
  RUNTIME,
  type Current,
  type Desired,
  type FunctionConfig,
} from '../../../scripts/release/cloudbase';
import { CLOUDBASERC_PATH, cloudbasercText } from '../../../scripts/release/cloudbaserc';
import { loadDatabaseSetup, type DatabaseSetup } from '../../../scripts/release/config-checks';
import { readTencentCloudKeys } from '../../../scripts/release/secrets';
import { writeLocalSecrets } from '../../../scripts/release/local-secrets';
import { CloudBaseFake } from '../../support/cloudbase-fake';
import { startTestCloud, type TestCloud } from '../../support/localcloud';
import { leaked, secretFragments } from '../../support/logs';

jest.setTimeout(120_000);

const ENV_ID = 'prod-1a2b3c';
const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLEKEY';
const NOTIFY_URL = `https://${ENV_ID}.service.tcloudbase.com/wxpay/notify`;

let tmp: string;
let fixture: string;
let appid: string;
let fake: CloudBaseFake;
let proxy: string;
let caFile: string;
let cloud: TestCloud;
const outputs: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'cloudbase-deploy-'));
  fixture = join(tmp, 'secrets');
  writeLocalSecrets(fixture, { dataDir: join(tmp, 'data'), notifyUrl: NOTIFY_URL });
  writeFileSync(
    join(fixture, 'tencentcloud.env'),
    `TENCENTCLOUD_SECRETID=${SECRET_ID}\nTENCENTCLOUD_SECRETKEY=${SECRET_KEY}\n`,
  );
  appid = /WX_APPID=(\S+)/.exec(readFileSync(join(fixture, 'cloud.env'), 'utf8'))![1]!;
  cloud = await startTestCloud();
  fake = new CloudBaseFake({
    envId: ENV_ID,
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    httpAccessBase: cloud.cloud.urls.http,
  });
  proxy = await fake.start();
  caFile = join(tmp, 'fake-ca.pem');
  writeFileSync(caFile, fake.caPem);
});
afterAll(async () => {
  await fake?.close();
  await cloud?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** `npm run deploy -- --env prod-1a2b3c …` as a merchant runs it; returns its exit code, output and the writes it made. */
async function deploy(...args: string[]) {
  const from = fake.recorded.length;
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        require.resolve('tsx/cli'),
        join(ROOT, 'scripts/release/deploy.ts'),
        '--env',
        ENV_ID,
        '--secrets',
        fixture,
        '--appid',
        appid,
        '--out',
        join(tmp, 'out'),
        ...args,
      ],
      {
        cwd: ROOT,
        timeout: 100_000,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          http_proxy: proxy,
          NODE_EXTRA_CA_CERTS: caFile,
          TENCENTCLOUD_SECRETID: '',
          TENCENTCLOUD_SECRETKEY: '',
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  outputs.push(run.stdout, run.stderr);
  const requests = fake.recorded.slice(from);
  const writes = requests.filter((r) => r.service !== 'http' && !/^(Describe|List|Get|Check)/.test(r.action));
  return { ...run, requests, writes, actions: writes.map((w) => `${w.service}:${w.action}`) };
}

/** The plan's lines: "+ create  function login", "~ update  collection orders", … */
const planOf = (stdout: string) =>
  stdout
    .slice(stdout.indexOf('\nPlan for '))
    .split('\n')
    .filter((l) => /^ {2}[+~=✗-] |^ {6}\S/.test(l));

const paying = () => listFunctions().filter((n) => settingsOf(n).includes('WECHATPAY_APIV3_KEY'));
const database = loadDatabaseSetup(ROOT);

test('a dry run from nothing: the whole plan as creations, nothing changed, no hand step but the merchant platform', async () => {
  const run = await deploy('--dry-run');
  expect(run.code).toBe(0);
  expect(run.writes).toEqual([]);
  const plan = planOf(run.stdout);
  for (const name of listFunctions()) expect(plan).toContain(`  + create  function ${name}`);
  expect(plan).toContain('  + create  route /wxpay/notify → payNotify');
  for (const c of database.collections) expect(plan).toContain(`  + create  collection ${c.name}`);
  expect(run.stdout).toContain(
    `Plan for ${ENV_ID} (read from the environment): ${listFunctions().length + 2 + database.collections.length} to change`,
  );
  expect(run.stdout).toContain('Dry run: nothing was changed.');
  expect(run.stdout).toContain('Left to do by hand, in the WeChat Pay merchant platform (pay.weixin.qq.com) only:');
  expect(run.stdout).not.toContain('cloud console: mp.weixin.qq.com');
  expect(run.stdout).not.toMatch(/create each function|索引管理|HTTP访问服务\), identity/);
});

test('a first deploy creates every function, route, collection, index and rule, then reads it back', async () => {
  const run = await deploy();
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(
    `Read back: the environment matches the repository (${listFunctions().length + 2 + database.collections.length} changes applied).`,
  );

  expect([...fake.functions.keys()].sort()).toEqual(listFunctions());
  for (const name of listFunctions()) {
    const f = fake.functions.get(name)!;
    const config = readFunctionConfig(SOURCE_DIR, name);
    expect([f.Runtime, f.Timeout, f.MemorySize, f.Handler, f.InstallDependency]).toEqual([
      RUNTIME,
      config.timeout ?? 3,
      256,
      'index.main',
      'TRUE',
    ]);
    // only the settings of its profile, none of the deploy's own keys
    for (const v of f.Environment.Variables) expect(settingsOf(name)).toContain(v.Key);
    expect(f.Environment.Variables.map((v) => v.Key).filter((k) => k.startsWith('TENCENTCLOUD'))).toEqual([]);
    expect(f.Triggers.map((t) => [t.TriggerName, JSON.parse(t.TriggerDesc).cron])).toEqual(
      (config.triggers ?? []).map((t) => [t.name, t.config]),
    );
    // the bundle is the built folder, key files with it for the functions that pay (zip entry names are plain text)
    const zip = f.zip.toString('latin1');
    expect(zip).toContain('index.js');
    expect(zip.includes('wechatpay/apiclient_key.pem')).toBe(paying().includes(name));
  }
  expect(fake.functions.get('login')!.Environment.Variables.map((v) => v.Key)).toEqual(['WX_APPID', 'WX_APP_SECRET']);
  expect(fake.functions.get('catalog')!.Environment.Variables).toEqual([]);
  expect(fake.routes.map((r) => [r.Path, r.Name, r.EnableAuth]).sort()).toEqual([
    ['/checkout', 'checkout', false],
    ['/wxpay/notify', 'payNotify', false],
  ]);
  expect([...fake.tables.keys()].sort()).toEqual(database.collections.map((c) => c.name).sort());
  for (const c of database.collections) {
    expect(fake.tables.get(c.name)!.filter((i) => i.Name !== '_id_')).toEqual(
      c.indexes.map((i) => ({
        Name: i.name,
        Keys: i.fields.map(([field, dir]) => ({ Name: field, Direction: dir === 'asc' ? '1' : '-1' })),
        Unique: false,
      })),
    );
    expect(fake.permissions.get(c.name)).toEqual({
      Permission: 'CUSTOM',
      SecurityRule: '{"read":false,"write":false}',
    });
  }
});

test('a second run with nothing changed changes nothing and says so', async () => {
  const run = await deploy();
  expect(run.code).toBe(0);
  expect(run.writes).toEqual([]);
  expect(run.stdout).toContain(`Plan for ${ENV_ID} (read from the environment): nothing to change`);
  expect(run.stdout).toContain('Nothing to do: the environment matches the repository; nothing was changed.');
  expect(planOf(run.stdout)).toEqual([expect.stringMatching(/^ {2}= unchanged {2}function admin, /)]);
});

test('a timeout that differs from config.json: one configuration update of that function, nothing else', async () => {
  fake.functions.get('payment')!.Timeout = 3;
  const dry = await deploy('--dry-run');
  expect(dry.writes).toEqual([]);
  expect(planOf(dry.stdout).slice(0, 2)).toEqual(['  ~ update  function payment', '      timeout 3 → 20 s']);
  const run = await deploy();
  expect(run.code).toBe(0);
  expect(run.actions).toEqual(['scf:UpdateFunctionConfiguration']);
  expect(run.writes[0]!.params).toMatchObject({ FunctionName: 'payment', Timeout: 20 });
  expect(fake.functions.get('payment')!.Timeout).toBe(20);
});

test('a bundle that differs (another upload, or one made before this script): the code, then its mark, nothing else', async () => {
  const login = fake.functions.get('login')!;
  login.Description = '';
  const run = await deploy();
  expect(run.code).toBe(0);
  expect(planOf(run.stdout).slice(0, 2)).toEqual([
    '  ~ update  function login',
    expect.stringMatching(/^ {6}code: bundle \(not deployed by this script\) → [0-9a-f]{16}$/),
  ]);
  expect(run.actions).toEqual(['scf:UpdateFunctionCode', 'scf:UpdateFunctionConfiguration']);
  expect(run.writes[0]!.params).toMatchObject({
    FunctionName: 'login',
    Handler: 'index.main',
    InstallDependency: 'TRUE',
  });
  expect(login.Description).toMatch(/^deployed by npm run deploy, bundle [0-9a-f]{16}$/);
});

test('a function made on another runtime (miniprogram-ci makes Nodejs8.9): refused before any change, naming the fix', async () => {
  const catalog = fake.functions.get('catalog')!;
  catalog.Runtime = 'Nodejs8.9';
  fake.functions.get('orders')!.Timeout = 3;
  const run = await deploy();
  expect(run.code).toBe(1);
  expect(run.writes).toEqual([]);
  expect(run.stdout).toContain(
    '✗ function catalog: runs on Nodejs8.9; a runtime is chosen when a function is created: delete catalog in the cloud console (云函数 → 删除) and deploy again',
  );
  catalog.Runtime = RUNTIME;
  expect((await deploy()).actions).toEqual(['scf:UpdateFunctionConfiguration']);
});

test('a new index in database.json (missing from the environment): created in its collection, alone', async () => {
  const orders = fake.tables.get('orders')!;
  orders.splice(
    orders.findIndex((i) => i.Name === 'status_createdAt'),
    1,
  );
  const run = await deploy();
  expect(run.code).toBe(0);
  expect(planOf(run.stdout).slice(0, 2)).toEqual([
    '  ~ update  collection orders',
    '      index status_createdAt(status asc, createdAt asc): create',
  ]);
  expect(run.actions).toEqual(['tcb:UpdateTable']);
  expect(run.writes[0]!.params).toMatchObject({
    TableName: 'orders',
    CreateIndexes: [
      {
        IndexName: 'status_createdAt',
        MgoKeySchema: {
          MgoIsUnique: false,
          MgoIndexKeys: [
            { Name: 'status', Direction: '1' },
            { Name: 'createdAt', Direction: '1' },
          ],
        },
      },
    ],
  });
});

test('a new environment variable in cloud.env: each function that reads it gets it, by name in the plan', async () => {
  const before = new Map([...fake.functions].map(([name, f]) => [name, f.Environment.Variables.length]));
  appendFileSync(join(fixture, 'cloud.env'), 'ORDER_EXPIRY_MINUTES=45\n');
  const run = await deploy();
  expect(run.code).toBe(0);
  const updated = run.writes.map((w) => w.params.FunctionName).sort();
  expect(updated).toEqual(listFunctions().filter((n) => settingsOf(n).includes('ORDER_EXPIRY_MINUTES')));
  expect(new Set(run.actions)).toEqual(new Set(['scf:UpdateFunctionConfiguration']));
  expect(run.stdout).toContain('      environment: add ORDER_EXPIRY_MINUTES');
  expect(run.stdout).not.toMatch(/ORDER_EXPIRY_MINUTES\W+45/);
  for (const name of updated as string[]) {
    const vars = fake.functions.get(name)!.Environment.Variables;
    expect(vars).toContainEqual({ Key: 'ORDER_EXPIRY_MINUTES', Value: '45' });
    expect(vars).toHaveLength(before.get(name)! + 1); // the variables are replaced as a whole: the others stay
  }
  expect((await deploy()).writes).toEqual([]);
});

test('a missing permission is answered as CAM answers it, and the deploy names the fix; granted, the next run completes', async () => {
  fake.tables.delete('metrics');
  fake.permissions.delete('metrics');
  fake.denied.add('tcb:CreateTable');
  const refused = await deploy();
  expect(refused.code).toBe(1);
  expect(refused.actions).toEqual(['tcb:CreateTable']);
  expect(refused.stdout).toMatch(
    /✗ the Tencent Cloud sub-account may not do this \(AuthFailure.UnauthorizedOperation: .*you are not authorized to perform operation \(tcb:CreateTable\).*\): grant it QcloudTCBFullAccess and QcloudSCFFullAccess in CAM/,
  );
  fake.denied.clear();
  const run = await deploy();
  expect(run.code).toBe(0);
  expect(run.actions).toEqual(['tcb:CreateTable', 'tcb:ModifyResourcePermission']); // metrics has no index of its own
});

test('what the repository does not have is listed as "would delete" and kept; --prune deletes it', async () => {
  fake.functions.set('oldFunction', { ...fake.functions.get('catalog')!, FunctionName: 'oldFunction' });
  fake.tables.get('orders')!.push({ Name: 'legacy_idx', Keys: [{ Name: 'legacy', Direction: '1' }], Unique: false });
  const kept = await deploy();
  expect(kept.code).toBe(0);
  expect(kept.writes).toEqual([]);
  expect(planOf(kept.stdout)).toEqual(
    expect.arrayContaining([
      '  - would delete (run with --prune to delete)  function oldFunction',
      '  - would delete (run with --prune to delete)  index orders.legacy_idx',
    ]),
  );
  const pruned = await deploy('--prune');
  expect(pruned.code).toBe(0);
  expect(pruned.actions.sort()).toEqual(['scf:DeleteFunction', 'tcb:UpdateTable']);
  expect(fake.functions.has('oldFunction')).toBe(false);
  expect(fake.tables.get('orders')!.some((i) => i.Name === 'legacy_idx')).toBe(false);
});

test('--check: each function read back, the notify route answers 405 to a GET and 401/400 to an unsigned POST', async () => {
  const run = await deploy('--check');
  expect(run.code).toBe(0);
  expect(run.writes).toEqual([]);
  for (const name of listFunctions())
    expect(run.stdout).toMatch(
      new RegExp(`✓ ${name}: version \\$LATEST, Active, modified [\\d-]+ [\\d:]+, ${RUNTIME}, timeout \\d+ s`),
    );
  expect(run.stdout).toContain(`✓ GET ${NOTIFY_URL} → 405 (only POST is a notification)`);
  expect(run.stdout).toMatch(new RegExp(`✓ POST ${NOTIFY_URL} → 40[01] \\(an unsigned notification is refused\\)`));
  expect(run.stdout).toContain('Check passed');
  expect(run.stdout).toContain('in the WeChat Pay merchant platform (pay.weixin.qq.com) only');
  expect(run.requests.filter((r) => r.service === 'http').map((r) => r.action)).toEqual([
    'GET /wxpay/notify',
    'POST /wxpay/notify',
  ]);

  // identity verification switched on in the console: WeChat Pay would get 401; the check says so, a deploy fixes it
  fake.routes.find((r) => r.Name === 'payNotify')!.EnableAuth = true;
  const failed = await deploy('--check');
  expect(failed.code).toBe(1);
  expect(failed.stdout).toContain(`GET ${NOTIFY_URL} answered 401, not 405: identity verification is on for the route`);
  expect(failed.stdout).toContain(
    'route /wxpay/notify → payNotify is not as the repository says (identity verification on → off)',
  );
  const fixed = await deploy();
  expect(fixed.actions).toEqual(['tcb:ModifyCloudBaseGWAPIPrivilegeBatch']);
  expect((await deploy('--check')).code).toBe(0);
});

test('no request and no output line carries a key: the SecretKey never leaves the machine, the SecretId only signs', () => {
  expect(fake.recorded.length).toBeGreaterThan(100);
  const apiRequests = fake.recorded.filter((r) => r.service !== 'http');
  for (const r of apiRequests) {
    expect(r.raw).not.toContain(SECRET_KEY);
    const withId = r.raw.split('\n').filter((line) => line.includes(SECRET_ID));
    expect(withId).toEqual([
      expect.stringMatching(new RegExp(`^authorization: TC3-HMAC-SHA256 Credential=${SECRET_ID}/`)),
    ]);
  }
  // key files travel inside the zipped bundle only, never as text
  const pemLines = secretFragments(join(fixture, 'wechatpay'));
  expect(pemLines.length).toBeGreaterThan(20);
  expect(apiRequests.filter((r) => leaked(r.raw, pemLines).length)).toEqual([]);
  const output = outputs.join('\n');
  expect(output).not.toContain(SECRET_KEY);
  expect(output).not.toContain(SECRET_ID);
  expect(leaked(output, secretFragments(fixture))).toEqual([]);
});

test('cloudbaserc.json is generated from the same source, and it and database.json agree with what was deployed', () => {
  expect(readFileSync(CLOUDBASERC_PATH, 'utf8')).toBe(cloudbasercText());
  const rc = JSON.parse(readFileSync(CLOUDBASERC_PATH, 'utf8')) as {
    functions: {
      name: string;
      runtime: string;
      timeout: number;
      memorySize: number;
      envVariables: Record<string, string>;
      triggers?: { name: string; config: string }[];
    }[];
  };
  expect(rc.functions.map((f) => f.name)).toEqual([...fake.functions.keys()].sort());
  for (const f of rc.functions) {
    const deployed = fake.functions.get(f.name)!;
    expect([f.runtime, f.timeout, f.memorySize]).toEqual([deployed.Runtime, deployed.Timeout, deployed.MemorySize]);
    expect((f.triggers ?? []).map((t) => [t.name, t.config])).toEqual(
      deployed.Triggers.map((t) => [t.TriggerName, JSON.parse(t.TriggerDesc).cron]),
    );
    for (const v of deployed.Environment.Variables) expect(f.envVariables[v.Key]).toBe(`{{env.${v.Key}}}`);
  }
  expect([...fake.tables.keys()].sort()).toEqual(database.collections.map((c) => c.name).sort());
});

test('the Tencent Cloud keys: the environment first, then secrets/tencentcloud.env; half a pair is named, never shown', () => {
  expect(readTencentCloudKeys(fixture, {})).toEqual({
    keys: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    source: 'secrets/tencentcloud.env',
    problems: [],
  });
  expect(
    readTencentCloudKeys(fixture, { TENCENTCLOUD_SECRETID: 'AKIDother', TENCENTCLOUD_SECRETKEY: 'other' }).source,
  ).toBe('the environment');
  const half = readTencentCloudKeys(join(tmp, 'nowhere'), { TENCENTCLOUD_SECRETID: SECRET_ID });
  expect(half.keys).toBeUndefined();
  expect(half.problems).toEqual([
    'the environment: TENCENTCLOUD_SECRETKEY is missing (both keys of the sub-account are needed)',
  ]);
  expect(JSON.stringify(half)).not.toContain(SECRET_ID);
});

describe('the plan from the source of truth (no SDK): each change in the repository is exactly its difference', () => {
  const desiredFrom = (configs: Map<string, FunctionConfig>, setup: DatabaseSetup): Desired => {
    const built = [...configs.keys()].map((name) => ({
      name,
      dir: join(tmp, 'no-such-dir'),
      bytes: 0,
      files: [],
      env: { values: { LOG_LEVEL: 'info' }, names: ['LOG_LEVEL'], bytes: 14, missing: [] },
    }));
    return desiredState(built, configs, setup);
  };
  /** What a deploy of `desired` leaves in the environment, as readCurrent reads it. */
  const deployed = (desired: Desired): Current => ({
    functions: new Map(
      desired.functions.map((f) => [
        f.name,
        {
          runtime: RUNTIME,
          timeout: f.timeout,
          memorySize: f.memorySize,
          env: { ...f.env },
          triggers: f.triggers,
          bundle: f.bundle,
          version: '$LATEST',
          modTime: '',
          status: 'Active',
        },
      ]),
    ),
    routes: desired.functions
      .filter((f) => f.http)
      .map((f) => ({ apiId: `api-${f.name}`, path: f.http!.path, name: f.name, auth: f.http!.auth })),
    collections: new Map(desired.collections.map((c) => [c.name, { indexes: c.indexes, rule: c.rule }])),
  });
  const configs = () => new Map(listFunctions().map((name) => [name, readFunctionConfig(SOURCE_DIR, name)]));
  const setup = () => JSON.parse(JSON.stringify(database)) as DatabaseSetup;
  const diff = (before: Desired, after: Desired) => {
    const plan = planChanges(after, deployed(before), { prune: false, outDir: tmp });
    return plan.changes.map((c) => [c.kind, c.what, c.details]);
  };

  test('unchanged: nothing', () => {
    expect(diff(desiredFrom(configs(), setup()), desiredFrom(configs(), setup()))).toEqual([]);
  });

  test('a timeout in config.json', () => {
    const after = configs();
    after.set('payment', { ...after.get('payment')!, timeout: 30 });
    expect(diff(desiredFrom(configs(), setup()), desiredFrom(after, setup()))).toEqual([
      ['update', 'function payment', ['timeout 20 → 30 s']],
    ]);
  });

  test('an index and a collection in database.json', () => {
    const after = setup();
    after.collections
      .find((c) => c.name === 'orders')!
      .indexes.push({
        name: 'status_paidAt',
        fields: [
          ['status', 'asc'],
          ['paidAt', 'desc'],
        ],
        for: 'a test',
      });
    after.collections.push({ name: 'staff', purpose: 'a test', indexes: [] });
    expect(diff(desiredFrom(configs(), setup()), desiredFrom(configs(), after))).toEqual([
      ['update', 'collection orders', ['index status_paidAt(status asc, paidAt desc): create']],
      ['create', 'collection staff', ['security rule {"read":false,"write":false}']],
    ]);
  });

  test("another branch's new function with an HTTP route (a message-push function): the function and its route", () => {
    // the tree without msgPush, then with it (given an HTTP route here, to see the route made beside it)
    const before = configs();
    before.delete('msgPush');
    const after = configs();
    after.set('msgPush', { ...after.get('msgPush')!, timeout: 10, http: { path: '/msgPush', auth: false } });
    expect(diff(desiredFrom(before, setup()), desiredFrom(after, setup()))).toEqual([
      [
        'create',
        'function msgPush',
        expect.arrayContaining([
          expect.stringMatching(/^runtime Nodejs18\.15, timeout 10 s, memory 256 MB, bundle [0-9a-f]{16}$/),
          expect.stringMatching(/^environment LOG_LEVEL/),
        ]),
      ],
      ['create', 'route /msgPush → msgPush', ['identity verification off']],
    ]);
  });

  test('a new timer: created on the function, the old one deleted when it changes', () => {
    const after = configs();
    after.set('reconcile', {
      ...after.get('reconcile')!,
      triggers: [{ name: 'reconcileEvery2Minutes', type: 'timer', config: '0 */2 * * * * *' }],
    });
    expect(diff(desiredFrom(configs(), setup()), desiredFrom(after, setup()))).toEqual([
      [
        'update',
        'function reconcile',
        [
          'trigger reconcileEvery2Minutes "0 */2 * * * * *": create',
          'trigger reconcileEvery5Minutes "0 */5 * * * * *": delete',
        ],
      ],
    ]);
  });
});
