/**
 * `npm run bench [crypto|load|e2e|coldstart|size|bill ...]`: measures side by side and prints tables (no thresholds:
 * the README's performance section states the goals next to these figures).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeSync } from 'node:fs';
import { benchBill } from './bill';
import { benchColdStart } from './coldstart';
import { benchCrypto } from './crypto';
import { benchPayTap } from './paytap';
import { benchEndToEnd, benchNotifications } from './localcloud';
import { ROOT } from '../../cloudfunctions/functions';

const log = (line: string) => writeSync(1, `${line}\n`);
const ALL = ['crypto', 'load', 'e2e', 'paytap', 'coldstart', 'size', 'bill'] as const;
type Part = (typeof ALL)[number];

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
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
  for (const part of parts) {
    log('');
    if (part === 'crypto') await benchCrypto(log);
    if (part === 'load') await benchNotifications(log);
    if (part === 'e2e') await benchEndToEnd(log);
    if (part === 'paytap') await benchPayTap(log);
    if (part === 'coldstart') await benchColdStart(log);
    if (part === 'bill') await benchBill(log);
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
  log(`\nbench finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    writeSync(2, `${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
