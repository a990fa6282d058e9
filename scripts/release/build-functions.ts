/**
 * Bundles each cloud function into a self-contained deployable folder under dist/cloudfunctions/<name>/:
 * index.js (shared code inlined, wx-server-sdk left external), package.json depending on wx-server-sdk only,
 * the function's config.json, and, for the functions that pay, the WeChat Pay key files they use, copied from the
 * git-ignored secrets folder into `wechatpay/` beside index.js (runtime/key-files.ts reads them there).
 *
 * Refuses to run when a key file is tracked by git. Prints each function's environment size (its settings from
 * secrets/cloud.env) against the 4 KB limit and fails over it. WeChat DevTools' cloudfunctionRoot points at
 * dist/cloudfunctions/.
 *
 *   npm run build [-- --secrets <dir>] [--out <dir>]
 */
import { build, type BuildOptions as EsbuildOptions } from 'esbuild';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { listFunctions, OUT_DIR, ROOT, SOURCE_DIR } from '../../cloudfunctions/functions';
import { KEY_DIR } from '../../cloudfunctions/common/runtime/key-files';
import { keyFilesOf, profileOf } from '../../cloudfunctions/common/runtime/profiles';
import { ENV_LIMIT_BYTES, environmentOf, trackedKeyFiles, type FunctionEnvironment } from './config-checks';
import { noSecrets, readSecrets, type Secrets } from './secrets';

export const SECRETS_DIR = join(ROOT, 'secrets');
/** The Node.js runtime to choose for each function in the cloud console (global fetch needs 18). */
export const NODE_TARGET = 'node18';

/** How one function is bundled: shared code inlined, wx-server-sdk left to the platform, minified. */
export function bundleOptions(name: string): EsbuildOptions {
  return {
    entryPoints: [join(SOURCE_DIR, name, 'index.ts')],
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'cjs',
    external: ['wx-server-sdk'],
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

export interface BuiltFile {
  path: string;
  bytes: number;
}

export interface BuiltFunction {
  name: string;
  dir: string;
  bytes: number;
  files: BuiltFile[];
  env: FunctionEnvironment;
}

export interface BuildOptions {
  /** the secrets folder (cloud.env and wechatpay/); `npm run build` passes secrets/. Unset: bundles only, no key files. */
  secretsDir?: string;
  /** the work tree whose tracked files must hold no key (default: this repository) */
  gitRoot?: string;
}

/** The build refused to run, or its result is unusable (an environment over the limit). Messages carry no value. */
export class BuildError extends Error {
  constructor(
    readonly problems: string[],
    /** what was built before the refusal (an environment over the limit is found after building) */
    readonly built: BuiltFunction[] = [],
  ) {
    super(problems.join('\n'));
    this.name = 'BuildError';
  }
}

export function refuseTrackedKeys(root: string): { git: boolean } {
  const { git, tracked } = trackedKeyFiles(root);
  if (tracked.length) {
    throw new BuildError([
      `key material is tracked by git; remove it from the repository (git rm --cached <file>) and keep it in secrets/ (git-ignored):`,
      ...tracked.map((p) => `  ${p}`),
    ]);
  }
  return { git };
}

export async function buildFunctions(
  outDir = OUT_DIR,
  names = listFunctions(),
  options: BuildOptions = {},
): Promise<BuiltFunction[]> {
  refuseTrackedKeys(options.gitRoot ?? ROOT);
  const secrets: Secrets = options.secretsDir ? readSecrets(options.secretsDir) : noSecrets();
  const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const sdkVersion = rootPackage.devDependencies['wx-server-sdk'];
  const built: BuiltFunction[] = [];
  for (const name of names) {
    profileOf(name); // every function declares what it uses
    const dir = join(outDir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build({ ...bundleOptions(name), outfile: join(dir, 'index.js') });
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name, version: '1.0.0', private: true, main: 'index.js', dependencies: { 'wx-server-sdk': sdkVersion } }, null, 2)}\n`,
    );
    copyFileSync(join(SOURCE_DIR, name, 'config.json'), join(dir, 'config.json'));
    for (const file of keyFilesOf(name, secrets.material.mode)) {
      const from = secrets.keyFiles[file];
      if (!from) continue;
      mkdirSync(join(dir, KEY_DIR), { recursive: true, mode: 0o700 });
      copyFileSync(from, join(dir, KEY_DIR, file));
      chmodSync(join(dir, KEY_DIR, file), 0o600);
    }
    built.push({
      name,
      dir,
      bytes: statSync(join(dir, 'index.js')).size,
      files: listFiles(dir),
      env: environmentOf(name, secrets),
    });
  }
  const over = built.filter((f) => f.env.bytes > ENV_LIMIT_BYTES);
  if (over.length) {
    throw new BuildError(
      over.map(
        (f) =>
          `${f.name}: environment ${f.env.bytes} bytes, over the ${ENV_LIMIT_BYTES}-byte limit of a cloud function: move key material into ${KEY_DIR}/ files`,
      ),
      built,
    );
  }
  return built;
}

function listFiles(dir: string, prefix = ''): BuiltFile[] {
  const out: BuiltFile[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const stat = statSync(join(dir, rel));
    if (stat.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push({ path: rel, bytes: stat.size });
  }
  return out;
}

export const kb = (bytes: number): string => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`);

/** One line per function: bundle, shipped key files, environment size against the limit. */
export function describeBuild(built: readonly BuiltFunction[], secrets: { envFileExists: boolean }): string[] {
  const lines = [`${'function'.padEnd(14)} ${'index.js'.padStart(9)}  ${'environment'.padEnd(22)} key files`];
  for (const f of built) {
    const keys = f.files.filter((x) => x.path.startsWith(`${KEY_DIR}/`)).map((x) => x.path.slice(KEY_DIR.length + 1));
    const env = secrets.envFileExists
      ? `${f.env.bytes} / ${ENV_LIMIT_BYTES} B${f.env.bytes > ENV_LIMIT_BYTES ? ' OVER' : ''}`
      : 'not configured';
    lines.push(
      `${f.name.padEnd(14)} ${kb(f.bytes).padStart(9)}  ${env.padEnd(22)} ${keys.length ? keys.join(', ') : '-'}`,
    );
  }
  return lines;
}

if (require.main === module) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]!) : undefined;
  };
  const secretsDir = arg('--secrets') ?? SECRETS_DIR;
  const outDir = arg('--out') ?? OUT_DIR;
  buildFunctions(outDir, listFunctions(), { secretsDir })
    .then((built) => {
      if (built.length === 0) console.log('no cloud functions found under cloudfunctions/');
      const secrets = readSecrets(secretsDir);
      for (const line of describeBuild(built, secrets)) console.log(line);
      if (!secrets.exists) console.log(`no ${secretsDir}: bundles without key files (the local cloud needs none)`);
      else if (!secrets.envFileExists) console.log(`no cloud.env in ${secretsDir}: environment sizes not checked`);
      console.log(`built into ${outDir}`);
    })
    .catch((error: unknown) => {
      if (error instanceof BuildError) {
        if (error.built.length)
          for (const line of describeBuild(error.built, readSecrets(secretsDir))) console.error(line);
        console.error(`build refused:\n${error.message}`);
      } else console.error(error);
      process.exit(1);
    });
}
