/**
 * `npm run bench -- bundles`: each cloud function's bundle as the build makes it (esbuild, minified, wx-server-sdk
 * external), against the 100 KB goal: a function's code is loaded on every cold start.
 */
import { build } from 'esbuild';
import { listFunctions } from '../../cloudfunctions/functions';
import { bundleOptions } from '../release/build-functions';
import { table } from './stats';

export const BUNDLE_GOAL_BYTES = 100 * 1024;

export async function benchBundles(log: (s: string) => void): Promise<{ largest: { name: string; bytes: number } }> {
  const sizes: { name: string; bytes: number }[] = [];
  for (const name of listFunctions()) {
    const result = await build({ ...bundleOptions(name), write: false, logLevel: 'silent' });
    sizes.push({ name, bytes: result.outputFiles[0]!.contents.length });
  }
  const kb = (b: number) => (b / 1024).toFixed(1);
  log(`Cloud function bundles (minified, wx-server-sdk external), goal < ${kb(BUNDLE_GOAL_BYTES)} KB each`);
  log(
    table(
      ['function', 'KB', 'goal'],
      sizes.map((s) => [s.name, kb(s.bytes), s.bytes < BUNDLE_GOAL_BYTES ? 'met' : 'MISSED']),
    ),
  );
  return { largest: sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a)) };
}
