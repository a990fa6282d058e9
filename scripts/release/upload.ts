/**
 * `npm run upload -- --version x.y.z [--env <envId>] [--key <upload key>] [--desc <text>] [--appid <appid>] [--dry-run]`
 *
 * Uploads the mini-program with miniprogram-ci (`ci.upload`), from a copy of the project in which
 * miniprogram/config.ts is forced to cloud mode (`mode: 'cloud'`, `cloudEnv` the environment), so the working tree is
 * never changed and a local-mode build can never be uploaded. Refuses the tourist appid, a version that is not
 * x.y.z, an empty environment, and a package that holds key material (the copy is compiled offline first, as DevTools
 * would, and every compiled file is searched for PEM private keys and for the contents of secrets/ and the local
 * cloud's keys). `--dry-run` does all of that and stops before `ci.upload`.
 *
 * The upload itself follows miniprogram-ci 2.1.42's documented API and is untested here (no network to WeChat).
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMiniprogramCi } from './ci-cache';
import { compile, packNpm, ROOT } from './miniprogram-ci';

const out = (line: string) => writeSync(1, `${line}\n`);
const err = (line: string) => writeSync(2, `${line}\n`);

export interface UploadOptions {
  version: string;
  envId?: string;
  keyPath?: string;
  desc?: string;
  appid?: string;
  dryRun: boolean;
  /** the project to upload (default: this repository) */
  projectDir?: string;
  /** folders whose files' contents must not appear in the package (default: secrets/ and .localcloud/keys) */
  secretDirs?: string[];
}

const VERSION = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/;
const APPID = /^wx[0-9a-zA-Z]{16}$/;
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** The client's backend switch, forced to cloud mode. Throws when config.ts no longer has the expected shape. */
export function forceCloudMode(configTs: string, envId: string): string {
  const mode = /mode:\s*'(cloud|local)'/;
  const cloudEnv = /cloudEnv:\s*'[^']*'/;
  if (!mode.test(configTs) || !cloudEnv.test(configTs))
    throw new Error("miniprogram/config.ts: no `mode: '…'` and `cloudEnv: '…'` to set");
  return configTs.replace(mode, "mode: 'cloud'").replace(cloudEnv, `cloudEnv: '${envId}'`);
}

/** Distinctive lines (base64 bodies of PEM blocks, 40+ characters) of every file under the folders. */
export function secretFragments(dirs: readonly string[]): string[] {
  const fragments = new Set<string>();
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) return readdirSync(path).forEach((name) => walk(join(path, name)));
    if (statSync(path).size > 1024 * 1024) return;
    for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
      const trimmed = line.trim();
      if (/^[A-Za-z0-9+/=]{40,}$/.test(trimmed)) fragments.add(trimmed);
      else {
        const value = /^[A-Z][A-Z0-9_]*(?:SECRET|KEY)[A-Z0-9_]*=(.{16,})$/.exec(trimmed)?.[1]; // cloud.env: the AppSecret, the APIv3 key
        if (value) fragments.add(value);
      }
    }
  };
  dirs.forEach(walk);
  return [...fragments];
}

/** Files of a compiled package that hold a private key block or a secret's fragment (file names only). */
export function findKeyMaterial(files: Record<string, string | Uint8Array>, fragments: readonly string[]): string[] {
  const found: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    if (PRIVATE_KEY_BLOCK.test(text) || fragments.some((f) => text.includes(f))) found.push(path);
  }
  return found;
}

export async function upload(options: UploadOptions): Promise<number> {
  const projectDir = options.projectDir ?? ROOT;
  const problems: string[] = [];
  if (!VERSION.test(options.version)) problems.push('--version must be x.y.z');
  const projectConfig = JSON.parse(readFileSync(join(projectDir, 'project.config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const appid = options.appid ?? String(projectConfig.appid ?? '');
  if (appid === 'touristappid' || !APPID.test(appid))
    problems.push(
      `appid ${appid || '(none)'}: the tourist appid cannot upload; set your AppID in project.config.json or pass --appid`,
    );
  const configTs = readFileSync(join(projectDir, 'miniprogram', 'config.ts'), 'utf8');
  const envId = options.envId ?? /cloudEnv:\s*'([^']*)'/.exec(configTs)?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9-]{2,39}$/i.test(envId))
    problems.push('--env: the cloud environment id the mini-program calls (or cloudEnv in miniprogram/config.ts)');
  if (!options.dryRun && (!options.keyPath || !existsSync(options.keyPath)))
    problems.push('--key: the code upload key from mp.weixin.qq.com');
  if (problems.length) {
    for (const p of problems) err(`✗ ${p}`);
    return 1;
  }

  const copy = mkdtempSync(join(tmpdir(), 'mp-upload-'));
  try {
    writeFileSync(join(copy, 'project.config.json'), `${JSON.stringify({ ...projectConfig, appid }, null, 2)}\n`);
    cpSync(join(projectDir, 'miniprogram'), join(copy, 'miniprogram'), {
      recursive: true,
      filter: (src) => !src.includes('miniprogram_npm'),
    });
    writeFileSync(join(copy, 'miniprogram', 'config.ts'), forceCloudMode(configTs, envId));
    await packNpm(copy);
    const files = await compile(copy);
    rmSync(join(copy, '.compiled.zip'), { force: true });
    const compiledConfig = Object.entries(files).find(([path]) => /^config\.js$/.test(path))?.[1];
    const compiledText =
      compiledConfig === undefined
        ? ''
        : typeof compiledConfig === 'string'
          ? compiledConfig
          : Buffer.from(compiledConfig).toString('utf8');
    if (!/mode\s*:\s*["']cloud["']/.test(compiledText) || !compiledText.includes(envId)) {
      err('✗ the compiled config.js is not in cloud mode');
      return 1;
    }
    const fragments = secretFragments(options.secretDirs ?? [join(ROOT, 'secrets'), join(ROOT, '.localcloud', 'keys')]);
    const leaks = findKeyMaterial(files, fragments);
    if (leaks.length) {
      err(`✗ key material in the package, refusing: ${leaks.join(', ')}`);
      return 1;
    }
    const bytes = Object.values(files).reduce(
      (n, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength),
      0,
    );
    out(`mini-program ${options.version} for appid ${appid}, cloud mode, environment ${envId}`);
    out(
      `compiled offline: ${Object.keys(files).length} files, ${(bytes / 1024).toFixed(1)} KB; no key material (${fragments.length} secret fragments searched)`,
    );
    if (options.dryRun) {
      out('dry run: ci.upload not called');
      return 0;
    }
    // miniprogram-ci ships no types for these entry points
    const ci = loadMiniprogramCi<{
      Project: new (o: Record<string, unknown>) => unknown;
      upload(o: {
        project: unknown;
        version: string;
        desc?: string;
        setting?: Record<string, unknown>;
        robot?: number;
        onProgressUpdate?: (t: unknown) => void;
      }): Promise<unknown>;
    }>();
    const project = new ci.Project({
      appid,
      type: 'miniProgram',
      projectPath: copy,
      privateKeyPath: resolve(options.keyPath!),
      ignores: ['node_modules/**/*'],
    });
    const result = await ci.upload({
      project,
      version: options.version,
      desc: options.desc ?? `v${options.version}`,
      setting: { useProjectConfig: true },
      robot: 1,
      onProgressUpdate: () => {},
    });
    out(`uploaded: ${JSON.stringify(result)}`);
    out('next: mp.weixin.qq.com → 版本管理 → 开发版本 → 提交审核 (or 选为体验版)');
    return 0;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const options: UploadOptions = { version: opt('--version') ?? '', dryRun: args.includes('--dry-run') };
  for (const [flag, key] of [
    ['--env', 'envId'],
    ['--key', 'keyPath'],
    ['--desc', 'desc'],
    ['--appid', 'appid'],
    ['--project', 'projectDir'],
  ] as const) {
    const value = opt(flag);
    if (value !== undefined) options[key] = flag === '--key' || flag === '--project' ? resolve(value) : value;
  }
  const secrets = opt('--secrets');
  if (secrets) options.secretDirs = [resolve(secrets)];
  // miniprogram-ci's forked compiler keeps node alive: exit explicitly
  upload(options).then(
    (code) => process.exit(code),
    (error: unknown) => {
      err(String((error as Error)?.stack ?? error));
      process.exit(1);
    },
  );
}
