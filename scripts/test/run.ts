/**
 * `npm test`: every check the project has, as before (four tsc programs, ESLint, Prettier, the offline mini-program
 * checks, then every jest project), run in parallel where they can be on this 2-core machine:
 *   1. the static checks two at a time (each is one single-threaded process; the mini-program check also builds
 *      miniprogram_npm, which the mini-program tests load, so it runs first);
 *   2. jest with JEST_WORKERS workers (default 3: most suites wait on sockets and timers, not on the CPU).
 * A step's output is shown when it fails (and always with --verbose); `--timings` prints each step's wall time.
 * Arguments after `--` other than these go to jest (e.g. `npm test -- test/server/domain`).
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../../cloudfunctions/functions';

interface Step {
  name: string;
  command: string[];
}

/** A package's own script, run by this Node (package exports do not always let require.resolve name it). */
const node = (script: string, ...args: string[]) => [process.execPath, join(ROOT, 'node_modules', script), ...args];

const STATIC: Step[] = [
  { name: 'check:miniprogram', command: node('tsx/dist/cli.mjs', 'scripts/release/check-miniprogram.ts') },
  ...['cloud', 'miniprogram', 'test', 'mptest'].map((p) => ({
    name: `tsc ${p}`,
    command: node('typescript/bin/tsc', '-p', `tsconfig.${p}.json`, '--noEmit'),
  })),
  { name: 'eslint', command: node('eslint/bin/eslint.js', '.') },
  { name: 'prettier', command: node('prettier/bin/prettier.cjs', '--check', '.') },
];

const out = (line: string) => writeSync(1, `${line}\n`);

function run(step: Step, inherit: boolean): Promise<{ code: number; output: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(step.command[0]!, step.command.slice(1), {
      cwd: ROOT,
      stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output, ms: performance.now() - started }));
  });
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: size }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const timings = args.includes('--timings');
  const verbose = args.includes('--verbose');
  const jestArgs = args.filter((a) => a !== '--timings' && a !== '--verbose');
  const started = performance.now();
  const times: [string, number][] = [];
  const failed: string[] = [];
  await pool(STATIC, Number(process.env.STATIC_PARALLEL ?? 2), async (step) => {
    const result = await run(step, false);
    times.push([step.name, result.ms]);
    if (result.code !== 0 || verbose) out(`---- ${step.name} (exit ${result.code})\n${result.output.trimEnd()}`);
    if (result.code !== 0) failed.push(step.name);
    else out(`ok   ${step.name} (${(result.ms / 1000).toFixed(1)} s)`);
  });
  const staticMs = performance.now() - started;
  if (failed.length === 0) {
    const workers = process.env.JEST_WORKERS ?? '3';
    const jest = await run(
      { name: 'jest', command: node('jest/bin/jest.js', `--maxWorkers=${workers}`, ...jestArgs) },
      true,
    );
    times.push([`jest (${workers} workers)`, jest.ms]);
    if (jest.code !== 0) failed.push('jest');
  }
  if (timings) {
    out('\nnpm test timings (wall time per step; the static checks run two at a time)');
    for (const [name, ms] of times) out(`  ${name.padEnd(24)} ${(ms / 1000).toFixed(1).padStart(6)} s`);
    out(`  ${'static checks together'.padEnd(24)} ${(staticMs / 1000).toFixed(1).padStart(6)} s`);
    out(`  ${'total'.padEnd(24)} ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`);
  }
  if (failed.length) out(`\nfailed: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code));
