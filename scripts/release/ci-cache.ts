/**
 * miniprogram-ci (2.1.42) makes its compiler's cache folder at `path.join('', md5(projectPath + '|summer'))`
 * (createSummer.js, ensureCacheDir): a relative path, so in the working directory, which left an empty 32-hex folder
 * at the repository root after every compile (npm run check:miniprogram, size, screenshots, upload, and the tests that
 * run them). loadMiniprogramCi() loads miniprogram-ci with that folder, same name, under the OS temp folder instead.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the compiler's cache folders go (one per project path, as miniprogram-ci names them). */
export const CI_CACHE_ROOT = join(tmpdir(), 'miniprogram-ci-cache');

interface SummerFactory {
  project: { projectPath: string };
  ensureCacheDir(): string;
}

/** miniprogram-ci, its compiler's cache folder moved to CI_CACHE_ROOT. */
export function loadMiniprogramCi<T>(): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- miniprogram-ci ships no types for these entry points
  const ci = require('miniprogram-ci') as T;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SummerCompilerFactory } = require('miniprogram-ci/dist/modules/createSummer') as {
    SummerCompilerFactory?: { prototype: SummerFactory };
  };
  const factory = SummerCompilerFactory?.prototype;
  if (factory && typeof factory.ensureCacheDir === 'function') {
    factory.ensureCacheDir = function (this: SummerFactory): string {
      const dir = join(CI_CACHE_ROOT, createHash('md5').update(`${this.project.projectPath}|summer`).digest('hex'));
      mkdirSync(dir, { recursive: true });
      return dir;
    };
  }
  return ci;
}
