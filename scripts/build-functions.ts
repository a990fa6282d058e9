/**
 * Bundles each cloud function into a self-contained deployable folder under dist/cloudfunctions/<name>/:
 * index.js (shared code inlined, wx-server-sdk left external), package.json depending on wx-server-sdk only,
 * and the function's config.json. WeChat DevTools' cloudfunctionRoot points at dist/cloudfunctions/.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const SOURCE_DIR = join(ROOT, 'cloudfunctions');
export const OUT_DIR = join(ROOT, 'dist', 'cloudfunctions');
/** The Node.js runtime to choose for each function in the cloud console (global fetch needs 18). */
export const NODE_TARGET = 'node18';

/** A function is a folder of cloudfunctions/ with index.ts and config.json; everything else there is shared code. */
export function listFunctions(sourceDir = SOURCE_DIR): string[] {
  return readdirSync(sourceDir)
    .filter((name) => existsSync(join(sourceDir, name, 'index.ts')) && existsSync(join(sourceDir, name, 'config.json')))
    .sort();
}

export interface BuiltFunction {
  name: string;
  dir: string;
  bytes: number;
}

export async function buildFunctions(outDir = OUT_DIR, names = listFunctions()): Promise<BuiltFunction[]> {
  const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const sdkVersion = rootPackage.devDependencies['wx-server-sdk'];
  const built: BuiltFunction[] = [];
  for (const name of names) {
    const dir = join(outDir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: [join(SOURCE_DIR, name, 'index.ts')],
      outfile: join(dir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: NODE_TARGET,
      format: 'cjs',
      external: ['wx-server-sdk'],
      minify: true,
      keepNames: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name, version: '1.0.0', private: true, main: 'index.js', dependencies: { 'wx-server-sdk': sdkVersion } }, null, 2)}\n`,
    );
    copyFileSync(join(SOURCE_DIR, name, 'config.json'), join(dir, 'config.json'));
    built.push({ name, dir, bytes: statSync(join(dir, 'index.js')).size });
  }
  return built;
}

if (require.main === module) {
  buildFunctions()
    .then((built) => {
      if (built.length === 0) console.log('no cloud functions found under cloudfunctions/');
      for (const f of built) console.log(`${f.name.padEnd(12)} ${String(f.bytes).padStart(8)} bytes  ${f.dir}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
