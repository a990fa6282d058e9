/**
 * Where the cloud functions are and which folders are functions: read by the build (scripts/release) and by the
 * local cloud's host, so starting the local cloud never loads the build tool.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const SOURCE_DIR = join(ROOT, 'cloudfunctions');
export const OUT_DIR = join(ROOT, 'dist', 'cloudfunctions');

/** A function is a folder of cloudfunctions/ with index.ts and config.json; everything else there is shared code. */
export function listFunctions(sourceDir = SOURCE_DIR): string[] {
  return readdirSync(sourceDir)
    .filter((name) => existsSync(join(sourceDir, name, 'index.ts')) && existsSync(join(sourceDir, name, 'config.json')))
    .sort();
}
