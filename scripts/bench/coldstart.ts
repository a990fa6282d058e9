/**
 * Cold start, each figure the median of several fresh Node processes:
 *   - each bundled function's size;
 *   - the time to load the function's own code (wx-server-sdk replaced by an empty module: every choice shares it),
 *     against loading wechatpay-node-v3 and its dependencies, and wx-server-sdk alone for reference;
 *   - the whole cold start with the real wx-server-sdk, from the process's first line to the function's first answer
 *     (an event the function refuses before touching the database, since there is no cloud here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wechatpayEnvironment } from '../../localcloud/env';
import { loadOrCreateKeys } from '../../localcloud/keys';
import { ROOT } from '../../cloudfunctions/functions';
import { buildFunctions } from '../release/build-functions';
import { showSpread, spread, table, type Spread } from './stats';

const RUNS = 7;

function child(script: string, env: Record<string, string> = {}): number {
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return Number(output.trim().split('\n').at(-1));
}

const timeRequire = (target: string, stub?: string) => `
${stub ? `const M = require('module'); const orig = M._resolveFilename; M._resolveFilename = function (r, ...a) { return r === 'wx-server-sdk' ? ${JSON.stringify(stub)} : orig.call(this, r, ...a); };` : ''}
const t = process.hrtime.bigint(); require(${JSON.stringify(target)}); console.log(Number(process.hrtime.bigint() - t) / 1e6);`;

const FIRST_ANSWER: Record<string, unknown> = {
  login: {},
  catalog: {},
  orders: { action: 'unknown' },
  payment: { action: 'unknown' },
  admin: { action: 'refund' },
};

export async function benchColdStart(log: (s: string) => void) {
  const work = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const built = await buildFunctions(); // into dist/cloudfunctions, where wx-server-sdk resolves as in a deployed folder
    const stub = join(work, 'empty-sdk.js');
    writeFileSync(stub, 'module.exports = {};\n');
    const { keys } = loadOrCreateKeys(join(work, 'keys'));
    const env = {
      ...wechatpayEnvironment(keys, {
        wechatpayBaseUrl: 'http://127.0.0.1:9',
        wxApiBaseUrl: 'http://127.0.0.1:9',
        notifyUrl: 'https://example.com/pay/notify',
        refundNotifyUrl: 'https://example.com/pay/notify',
      }),
      LOG_LEVEL: 'silent',
    };
    const repeat = (f: () => number): Spread => spread(Array.from({ length: RUNS }, f));
    const show = (s: Spread) => showSpread(s, (n) => n.toFixed(1));
    const v3 = repeat(() => child(timeRequire('wechatpay-node-v3')));
    const sdk = repeat(() => child(timeRequire('wx-server-sdk')));
    const rows: (string | number)[][] = [];
    const results: Record<string, { bytes: number; ownMs: Spread; firstAnswerMs?: Spread }> = {};
    for (const fn of built) {
      const bundle = join(fn.dir, 'index.js');
      const own = repeat(() => child(timeRequire(bundle, stub)));
      let first: Spread | undefined;
      const event = FIRST_ANSWER[fn.name];
      if (event !== undefined) {
        first = repeat(() =>
          child(
            `const t = process.hrtime.bigint(); const m = require(${JSON.stringify(bundle)});
             Promise.resolve(m.main(${JSON.stringify(event)}, {})).then((r) => { if (!r || r.ok !== false) throw new Error('unexpected answer ' + JSON.stringify(r)); console.log(Number(process.hrtime.bigint() - t) / 1e6); process.exit(0); });`,
            env,
          ),
        );
      }
      results[fn.name] = { bytes: fn.bytes, ownMs: own, ...(first !== undefined ? { firstAnswerMs: first } : {}) };
      rows.push([
        fn.name,
        `${(fn.bytes / 1024).toFixed(1)} KB`,
        show(own),
        (own.median / v3.median).toFixed(2),
        first === undefined ? 'n/a (needs the cloud database)' : show(first),
      ]);
    }
    log(
      `Cold start (median of ${RUNS} fresh Node processes (min–max); times in ms, from the first line of the process)`,
    );
    log(
      table(['function', 'bundle', 'own code load', 'ratio to wechatpay-node-v3', 'cold start to first answer'], rows),
    );
    log(
      `  wechatpay-node-v3 and its dependencies load in ${show(v3)} ms; wx-server-sdk alone in ${show(sdk)} ms (shared by every choice).`,
    );
    return { v3, sdk, results };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
