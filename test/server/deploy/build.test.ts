/**
 * `npm run build` with a secrets folder: each paying function's key files shipped beside its index.js (and no other
 * function's), every function's environment sized against the 4 KB limit (failing over it), and a refusal to build
 * while key material is tracked by git.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileOf } from '../../../cloudfunctions/common/runtime/profiles';
import { listFunctions, ROOT } from '../../../cloudfunctions/functions';
import {
  BuildError,
  buildFunctions,
  refuseTrackedKeys,
  type BuiltFunction,
} from '../../../scripts/release/build-functions';
import { ENV_LIMIT_BYTES, envBytes } from '../../../scripts/release/config-checks';
import { readSecrets } from '../../../scripts/release/secrets';
import { writeLocalSecrets } from '../../../scripts/release/local-secrets';
import { leaked, secretFragments } from '../../support/logs';

jest.setTimeout(60_000);

let tmp: string;
let secrets: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'build-test-'));
  secrets = join(tmp, 'secrets');
  writeLocalSecrets(secrets, { dataDir: join(tmp, 'data') });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const keyFiles = (f: BuiltFunction) =>
  f.files.filter((x) => x.path.startsWith('wechatpay/')).map((x) => x.path.slice('wechatpay/'.length));
const byName = (built: BuiltFunction[]) => Object.fromEntries(built.map((f) => [f.name, f]));

test('key files go to the functions that pay, the merchant certificate only to wechatpayKeys, readable by the owner only', async () => {
  const built = byName(await buildFunctions(join(tmp, 'out-public'), listFunctions(), { secretsDir: secrets }));
  expect(keyFiles(built.login!)).toEqual([]);
  expect(keyFiles(built.catalog!)).toEqual([]);
  for (const name of listFunctions().filter((n) => !profileOf(n).pay)) expect(keyFiles(built[name]!)).toEqual([]);
  for (const name of ['admin', 'orders', 'payNotify', 'payment', 'reconcile'])
    expect(keyFiles(built[name]!)).toEqual(['apiclient_key.pem', 'pub_key.pem']);
  expect(keyFiles(built.wechatpayKeys!)).toEqual(['apiclient_cert.pem', 'apiclient_key.pem', 'pub_key.pem']);
  const shipped = join(built.payment!.dir, 'wechatpay', 'apiclient_key.pem');
  expect(readFileSync(shipped, 'utf8')).toBe(readFileSync(join(secrets, 'wechatpay', 'apiclient_key.pem'), 'utf8'));
  expect(statSync(shipped).mode & 0o777).toBe(0o600);

  // certificate mode ships the platform certificate instead of the public key
  const certSecrets = join(tmp, 'secrets-cert');
  writeLocalSecrets(certSecrets, { dataDir: join(tmp, 'data'), mode: 'certificate' });
  const cert = byName(await buildFunctions(join(tmp, 'out-cert'), ['payment', 'login'], { secretsDir: certSecrets }));
  expect(keyFiles(cert.payment!)).toEqual(['apiclient_key.pem', 'platform_cert.pem']);
  expect(keyFiles(cert.login!)).toEqual([]);
});

test("each function's environment is its own settings, sized against 4 KB", async () => {
  const built = byName(await buildFunctions(join(tmp, 'out-env'), listFunctions(), { secretsDir: secrets }));
  const env = readSecrets(secrets).env;
  expect(built.login!.env.names).toEqual(['WX_APPID', 'WX_APP_SECRET']);
  expect(built.login!.env.bytes).toBe(`WX_APPID=${env.WX_APPID}`.length + `WX_APP_SECRET=${env.WX_APP_SECRET}`.length);
  expect(built.catalog!.env.names).toEqual([]);
  expect(built.payment!.env.names).not.toContain('WX_APP_SECRET');
  expect(built.payment!.env.names).toEqual(
    expect.arrayContaining([
      'WECHATPAY_MCHID',
      'WECHATPAY_APIV3_KEY',
      'WECHATPAY_PUBLIC_KEY_ID',
      'WECHATPAY_NOTIFY_URL',
    ]),
  );
  expect(built.payment!.env.bytes).toBe(envBytes(built.payment!.env.values));
  for (const f of Object.values(built)) expect(f.env.bytes).toBeLessThan(ENV_LIMIT_BYTES);
});

/**
 * A cloud.env with the key material inline, as the old README told merchants to set it, mid-migration with two
 * platform certificates (a rotation): the local certificate stands in for both (WeChat Pay's are larger still).
 */
function inlineSecrets(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const pem = (file: string) =>
    readFileSync(join(secrets, 'wechatpay', file), 'utf8')
      .trim()
      .replace(/\n/g, '\\n');
  const base = readFileSync(join(secrets, 'cloud.env'), 'utf8');
  const certs = join(tmp, 'data', 'keys', 'wechatpay', 'platform_cert.pem');
  writeFileSync(
    join(dir, 'cloud.env'),
    `${base}WECHATPAY_MERCHANT_PRIVATE_KEY=${pem('apiclient_key.pem')}\nWECHATPAY_PUBLIC_KEY=${pem('pub_key.pem')}\nWECHATPAY_PLATFORM_CERTIFICATES=${readFileSync(certs, 'utf8').trim().replace(/\n/g, '\\n').repeat(2)}\nWECHATPAY_KEY_MODE=both\n`.replace(
      'WECHATPAY_KEY_MODE=publicKey\n',
      '',
    ),
  );
}

test('key material inline in the environment: the build names every function over 4 KB and fails', async () => {
  const dir = join(tmp, 'secrets-inline');
  inlineSecrets(dir);
  expect(readSecrets(dir).notes).toEqual(
    expect.arrayContaining([expect.stringContaining('WECHATPAY_MERCHANT_PRIVATE_KEY holds key material inline')]),
  );
  const error = await buildFunctions(join(tmp, 'out-inline'), listFunctions(), { secretsDir: dir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BuildError);
  const { problems, built } = error as BuildError;
  expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(listFunctions().filter((name) => profileOf(name).pay));
  expect(problems[0]).toMatch(/environment \d+ bytes, over the 4096-byte limit/);
  expect(built.map((f) => f.name)).toEqual(listFunctions());
  expect(byName(built).login!.env.bytes).toBeLessThan(ENV_LIMIT_BYTES);
});

function runBuild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(ROOT, 'scripts/release/build-functions.ts'), ...args],
      { cwd: ROOT, timeout: 50_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('npm run build prints each environment against the limit, exits 1 over it, and prints no secret', async () => {
  const ok = await runBuild(['--secrets', secrets, '--out', join(tmp, 'cli-ok')]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^login\s+\S+ KB\s+\d+ \/ 4096 B\s+-$/m);
  expect(ok.stdout).toMatch(/^payment\s+\S+ KB\s+\d+ \/ 4096 B\s+apiclient_key\.pem, pub_key\.pem$/m);

  const dir = join(tmp, 'secrets-inline-cli');
  inlineSecrets(dir);
  const over = await runBuild(['--secrets', dir, '--out', join(tmp, 'cli-over')]);
  expect(over.code).toBe(1);
  expect(over.stderr).toMatch(/^payment\s+\S+ KB\s+\d{4,} \/ 4096 B OVER/m);
  expect(over.stderr).toContain('build refused');
  const fragments = secretFragments(dir).concat(secretFragments(secrets));
  expect(fragments.length).toBeGreaterThan(20);
  expect(leaked(ok.stdout + ok.stderr + over.stdout + over.stderr, fragments)).toEqual([]);
});

describe('key material tracked by git', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'tracked-'));
    git('init', '-q');
    writeFileSync(join(repo, '.gitignore'), 'secrets/\n');
    writeFileSync(join(repo, 'README.md'), 'a project\n');
    git('add', '.gitignore', 'README.md');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const refusal = async () =>
    buildFunctions(join(tmp, 'out-git'), ['login'], { gitRoot: repo }).then(
      () => undefined,
      (e: unknown) => e as BuildError,
    );

  test('untracked (ignored) secrets are fine; this repository tracks none', async () => {
    mkdirSync(join(repo, 'secrets', 'wechatpay'), { recursive: true });
    writeFileSync(
      join(repo, 'secrets', 'wechatpay', 'apiclient_key.pem'),
      readFileSync(join(secrets, 'wechatpay', 'apiclient_key.pem')),
    );
    expect(await refusal()).toBeUndefined();
    expect(refuseTrackedKeys(ROOT)).toEqual({ git: true });
  });

  test('a tracked file under secrets/, a tracked .pem, a private key pasted into code: refused, by path only', async () => {
    const key = readFileSync(join(secrets, 'wechatpay', 'apiclient_key.pem'), 'utf8');
    mkdirSync(join(repo, 'secrets'), { recursive: true });
    writeFileSync(join(repo, 'secrets', 'cloud.env'), 'WECHATPAY_MCHID=1900000001\n');
    writeFileSync(join(repo, 'pub_key.pem'), readFileSync(join(secrets, 'wechatpay', 'pub_key.pem')));
    writeFileSync(join(repo, 'config.js'), `module.exports = { key: ${JSON.stringify(key)} };\n`);
    git('add', '-f', 'secrets/cloud.env', 'pub_key.pem', 'config.js');
    const error = await refusal();
    expect(error).toBeInstanceOf(BuildError);
    expect(
      error!.problems
        .slice(1)
        .map((p) => p.trim())
        .sort(),
    ).toEqual(['config.js', 'pub_key.pem', 'secrets/cloud.env']);
    expect(leaked(error!.message, secretFragments(join(secrets, 'wechatpay')))).toEqual([]);
  });
});
