/**
 * miniprogram-ci's compiler cache folder (md5 of the project path, 32 hex characters) goes under the OS temp folder,
 * not into the working directory: loaded through scripts/release/ci-cache.ts, the folder miniprogram-ci's compiler
 * factory makes is absolute, under CI_CACHE_ROOT, with miniprogram-ci's own name. (jest's globalTeardown checks that
 * a whole run leaves no such folder at the repository root: test/support/root-folders.js.)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { CI_CACHE_ROOT, loadMiniprogramCi } from '../../../scripts/release/ci-cache';

jest.setTimeout(60_000);

test('the compiler cache folder is made under the temp folder, with the name miniprogram-ci gives it, and not in the working directory', () => {
  loadMiniprogramCi();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the factory miniprogram-ci's compile goes through
  const { SummerCompilerFactory } = require('miniprogram-ci/dist/modules/createSummer') as {
    SummerCompilerFactory: new () => { project: unknown; ensureCacheDir(): string };
  };
  const projectPath = mkdtempSync(join(tmpdir(), 'ci-cache-project-'));
  const cwd = process.cwd();
  const hex = () => readdirSync(cwd).filter((n) => /^[0-9a-f]{32}$/.test(n));
  const before = hex();
  try {
    const factory = new SummerCompilerFactory();
    factory.project = { projectPath };
    const dir = factory.ensureCacheDir();
    const name = createHash('md5').update(`${projectPath}|summer`).digest('hex');
    expect(isAbsolute(dir)).toBe(true);
    expect(dir).toBe(join(CI_CACHE_ROOT, name));
    expect(existsSync(dir)).toBe(true);
    expect(hex()).toEqual(before);
    rmSync(dir, { recursive: true, force: true });
  } finally {
    rmSync(projectPath, { recursive: true, force: true });
  }
});
