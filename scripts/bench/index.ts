/**
 * `npm run bench [crypto|load|e2e|paytap|coldstart|bundles|size|bill ...]`: measures side by side and prints tables,
 * then the goals of the parts that ran beside their figures (docs/performance.md explains each).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeSync } from 'node:fs';
import { BILL_GOALS, benchBill } from './bill';
import { benchColdStart } from './coldstart';
import { benchCrypto } from './crypto';
import { benchPayTap } from './paytap';
import { benchBundles, BUNDLE_GOAL_BYTES } from './bundles';
import { table } from './stats';
import { benchEndToEnd, benchNotifications } from './localcloud';
import { ROOT } from '../../cloudfunctions/functions';

const log = (line: string) => writeSync(1, `${line}\n`);
const ALL = ['crypto', 'load', 'e2e', 'paytap', 'coldstart', 'bundles', 'size', 'bill'] as const;
type Part = (typeof ALL)[number];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // `bill --rows N`: the books job's day size
  const rowsAt = args.indexOf('--rows');
  const billRows = rowsAt >= 0 ? Number(args[rowsAt + 1]) : undefined;
  if (billRows !== undefined && !(Number.isInteger(billRows) && billRows > 0)) {
    log('--rows takes a whole number of rows');
    process.exit(2);
  }
  const asked = rowsAt >= 0 ? args.filter((_, i) => i !== rowsAt && i !== rowsAt + 1) : args;
  const unknown = asked.filter((a) => !ALL.includes(a as Part));
  if (unknown.length) {
    log(`unknown part ${unknown.join(', ')}; parts: ${ALL.join(', ')}`);
    process.exit(2);
  }
  const parts = (asked.length ? asked : ALL) as Part[];
  log(
    `bench ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  );
  const started = Date.now();
  const goals: string[][] = [];
  const goal = (measure: string, figure: string, target: string, met: boolean) =>
    goals.push([measure, figure, target, met ? 'met' : 'MISSED']);
  for (const part of parts) {
    log('');
    if (part === 'crypto') {
      const ratio = (await benchCrypto(log))['(a) this project: NotificationParser.parse']!.ratio.median;
      goal('notification parse / raw node:crypto (median)', ratio.toFixed(3), '≥ 0.9', ratio >= 0.9);
    }
    if (part === 'load') {
      const p99 = (await benchNotifications(log)).p99.median;
      goal('notification load p99, ms (median of runs)', p99.toFixed(1), '< 50', p99 < 50);
    }
    if (part === 'e2e') await benchEndToEnd(log);
    if (part === 'paytap') {
      const f = await benchPayTap(log);
      goal('calls from the pay tap to the sheet', String(f.now.calls), '1', f.now.calls === 1);
      goal('WeChat Pay calls in the pay tap', String(f.now.wechatPay), '≤ 1', f.now.wechatPay <= 1);
      goal(
        'round trips in the pay tap',
        String(f.now.roundTrips),
        `≤ ${f.before.roundTrips} (confirm + pay)`,
        f.now.roundTrips <= f.before.roundTrips,
      );
      goal('calls until paid shown, notification 5 s late', String(f.paidAfterCalls), '1', f.paidAfterCalls === 1);
    }
    if (part === 'bundles') {
      const { largest } = await benchBundles(log);
      goal(
        `largest function bundle (${largest.name}), KB`,
        (largest.bytes / 1024).toFixed(1),
        `< ${BUNDLE_GOAL_BYTES / 1024}`,
        largest.bytes < BUNDLE_GOAL_BYTES,
      );
    }
    if (part === 'coldstart') await benchColdStart(log);
    if (part === 'bill') {
      const f = await benchBill(log, billRows !== undefined ? { rows: billRows } : {});
      const day = `${f.rows.toLocaleString('en')}-row day`;
      goal(
        `${day}: timer runs to compare it`,
        String(f.timerRuns),
        `≤ ${BILL_GOALS.timerRuns}`,
        f.timerRuns <= BILL_GOALS.timerRuns,
      );
      goal(
        `${day}: longest run, s`,
        (f.worstRunMs / 1000).toFixed(1),
        `< ${BILL_GOALS.runMs / 1000}`,
        f.worstRunMs < BILL_GOALS.runMs,
      );
      goal(
        `${day}: largest run heap peak, MB`,
        f.worstRunMb.toFixed(0),
        `< ${BILL_GOALS.runMb}`,
        f.worstRunMb < BILL_GOALS.runMb,
      );
      goal(
        `${day}: parse + compare, rows/s (slowest)`,
        Math.round(f.rowsPerSecond).toLocaleString('en'),
        `≥ ${BILL_GOALS.rowsPerSecond.toLocaleString('en')}`,
        f.rowsPerSecond >= BILL_GOALS.rowsPerSecond,
      );
    }
    if (part === 'size') {
      log('Mini-program package size (npm run size)');
      const output = execFileSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/release/size.ts'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      log(
        output
          .split('\n')
          .filter((l) => !l.startsWith('[') && !l.startsWith('serialize') && l.trim())
          .join('\n'),
      );
    }
  }
  if (goals.length) {
    log('\nGoals');
    log(table(['measure', 'figure', 'goal', ''], goals));
  }
  log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    writeSync(2, `${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
