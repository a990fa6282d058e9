/**
 * `npm run upload`: the mini-program goes up in cloud mode only, never with the tourist appid, and never with key
 * material in it: the package is compiled offline (as DevTools would) and searched before ci.upload. Shown on a clean
 * copy of the project and on one where a private key was pasted into the client's code.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../../cloudfunctions/functions';
import { writeLocalSecrets } from '../../../scripts/release/local-secrets';
import { findKeyMaterial, forceCloudMode, secretFragments } from '../../../scripts/release/upload';
import { leaked } from '../../support/logs';

jest.setTimeout(120_000);

let tmp: string;
let secrets: string;
let project: string;
const APPID = 'wx0123456789abcdef';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'upload-test-'));
  secrets = join(tmp, 'secrets');
  writeLocalSecrets(secrets, { dataDir: join(tmp, 'data') });
  project = join(tmp, 'project');
  cpSync(join(ROOT, 'project.config.json'), join(project, 'project.config.json'));
  cpSync(join(ROOT, 'miniprogram'), join(project, 'miniprogram'), {
    recursive: true,
    filter: (src) => !src.includes('miniprogram_npm'),
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function upload(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // through tsx's CLI: miniprogram-ci's forked compiler inherits node's options
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(ROOT, 'scripts/release/upload.ts'), ...args],
      { cwd: ROOT, timeout: 100_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('forced cloud mode, and the checks before anything is compiled', async () => {
  const config = readFileSync(join(ROOT, 'miniprogram', 'config.ts'), 'utf8');
  expect(config).toContain("mode: 'local'");
  const forced = forceCloudMode(config, 'prod-1a2b3c');
  expect(forced).toContain("mode: 'cloud'");
  expect(forced).toContain("cloudEnv: 'prod-1a2b3c'");
  expect(() => forceCloudMode('export const appConfig = {};', 'prod-1a2b3c')).toThrow(/config\.ts/);

  const refused = await upload(['--version', '1.0', '--dry-run', '--project', project]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('✗ --version must be x.y.z');
  expect(refused.stderr).toContain('✗ appid touristappid: the tourist appid cannot upload');
  expect(refused.stderr).toContain('✗ --env');
});

test('the package is compiled in cloud mode and holds no key material; a private key pasted into the client is refused', async () => {
  const clean = await upload([
    '--version',
    '1.2.3',
    '--env',
    'prod-1a2b3c',
    '--appid',
    APPID,
    '--dry-run',
    '--project',
    project,
    '--secrets',
    secrets,
  ]);
  expect(clean.stderr.split('\n').filter((l) => l.startsWith('✗'))).toEqual([]);
  expect(clean.code).toBe(0);
  expect(clean.stdout).toMatch(
    /mini-program 1\.2\.3 for appid wx0123456789abcdef, cloud mode, environment prod-1a2b3c/,
  );
  expect(clean.stdout).toMatch(
    /compiled offline: \d+ files, [\d.]+ KB; no key material \(\d+ secret fragments searched\)/,
  );
  expect(clean.stdout).toContain('dry run: ci.upload not called');
  expect(readFileSync(join(project, 'miniprogram', 'config.ts'), 'utf8')).toContain("mode: 'local'"); // the project itself untouched

  const key = readFileSync(join(secrets, 'wechatpay', 'apiclient_key.pem'), 'utf8');
  writeFileSync(
    join(project, 'miniprogram', 'config.ts'),
    `${readFileSync(join(project, 'miniprogram', 'config.ts'), 'utf8')}\nexport const merchantKey = ${JSON.stringify(key)};\n`,
  );
  const planted = await upload([
    '--version',
    '1.2.3',
    '--env',
    'prod-1a2b3c',
    '--appid',
    APPID,
    '--dry-run',
    '--project',
    project,
    '--secrets',
    secrets,
  ]);
  expect(planted.code).toBe(1);
  expect(planted.stderr).toContain('✗ key material in the package, refusing: config.js');
  expect(leaked(planted.stdout + planted.stderr, secretFragments([secrets]))).toEqual([]);
});

test('findKeyMaterial: a PEM private key block, or any line of a secrets file, in any compiled file', () => {
  const fragments = secretFragments([secrets]);
  const line = fragments.find((f) => f.length === 64)!;
  expect(findKeyMaterial({ 'app.js': 'console.log(1)', 'pages/a.js': `var k="${line}"` }, fragments)).toEqual([
    'pages/a.js',
  ]);
  expect(findKeyMaterial({ 'b.js': 'var k="-----BEGIN RSA PRIVATE KEY-----"' }, [])).toEqual(['b.js']);
  const apiV3Key = /WECHATPAY_APIV3_KEY=(\S+)/.exec(readFileSync(join(secrets, 'cloud.env'), 'utf8'))![1]!;
  expect(fragments).toContain(apiV3Key);
});
