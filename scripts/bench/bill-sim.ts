/**
 * The WeChat Pay simulator for `npm run bench -- bill`, in its own process so that building a 100,000-row bill on
 * WeChat Pay's side is not counted in the job's memory. Its bills are made from a synthetic day (the same generator
 * the benchmark writes the books from), its clock set to 11:00 the next day. Prints its base URL, then serves until
 * its stdin closes. Arguments: keys folder, date, rows.
 */
import { loadOrCreateKeys } from '../../localcloud/keys';
import type { BillLedger } from '../../localcloud/wechatpay-sim/bills';
import { chinaDayStart, syntheticPayments } from '../../localcloud/wechatpay-sim/bills-format';
import { WechatPaySimulator } from '../../localcloud/wechatpay-sim/simulator';

async function main(): Promise<void> {
  const [keysDir, date, rows] = process.argv.slice(2) as [string, string, string];
  const { keys } = loadOrCreateKeys(keysDir);
  const day = { date, count: Number(rows), appid: keys.appid, mchid: keys.mchid };
  const billLedger: BillLedger = {
    async paymentsSucceededBetween(fromMs, toMs) {
      return [...syntheticPayments(day)].filter((p) => p.successTime >= fromMs && p.successTime < toMs);
    },
    async refundsCreatedBetween() {
      return [];
    },
  };
  const sim = new WechatPaySimulator({ keys, billLedger });
  const baseUrl = await sim.start();
  sim.setClock(chinaDayStart(date)! + 35 * 3600_000);
  process.stdout.write(`${JSON.stringify({ baseUrl })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
