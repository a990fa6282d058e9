/**
 * `npm run bench -- paytap`: what a buyer waits for between the pay tap and WeChat's sheet, and between paying and
 * seeing "paid" when the notification is late. Counted, not timed, where the machine's noise would hide a time:
 *   - cloud-function calls on the critical path from the tap to wx.requestPayment's parameters (goal 1);
 *   - WeChat Pay calls in that path (goal at most 1), read from the simulator's ledger of prepays;
 *   - database round trips of that path, counted in the store layer (goal: no more than confirm + pay together);
 *   - with the simulator's notification delayed by 5 s: calls from the sheet's "ok" to an answer saying paid
 *     (goal 1: the result page asks WeChat Pay through the backend at once), and the time that takes beside the
 *     time the old polling schedule (poll, ask WeChat Pay after 3 s) needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { storeMetrics } from '../../cloudfunctions/common/store/store';
import { LocalCloud } from '../../localcloud/cloud';
import { useLocalWxServerSdk } from '../../localcloud/resolve-sdk';
import { CONFIRM_AFTER_MS, POLL_DELAYS_MS } from '../../miniprogram/pages/order/result/poll';
import type { ApiResult, OrderAndPayResponse, OrderView, PayResponse } from '../../typings/api';
import { table } from './stats';

const NOTIFY_DELAY_MS = 5000;
const TAPS = 20;

export interface PayTapFigures {
  before: { calls: number; wechatPay: number; roundTrips: number };
  now: { calls: number; wechatPay: number; roundTrips: number };
  paidAfterCalls: number;
}

export async function benchPayTap(log: (s: string) => void): Promise<PayTapFigures> {
  useLocalWxServerSdk();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-paytap-'));
  // real time: the notification's 5 s delay must be 5 s
  const cloud = new LocalCloud({ dataDir, timeFactor: 1, refundDelayMs: 5, env: { LOG_LEVEL: 'silent' } });
  await cloud.start();
  let calls = 0;
  const call = async <T>(fn: string, event: unknown): Promise<T> => {
    calls += 1;
    const result = (await cloud.call(fn, event, 'paytap')) as ApiResult<T>;
    if (!result.ok) throw new Error(`${fn}: ${JSON.stringify(result.error)}`);
    return result.data;
  };
  const prepays = async () => (await cloud.pay.ledger.prepays.count()).total;
  const confirmEvent = (i: number, action: string) => ({
    action,
    requestId: `paytap-${Date.now()}-${i}`,
    items: [{ productId: 'latte', quantity: 1 + (i % 3) }],
    contact: { name: '压测', phone: '13800138000' },
  });
  const measure = async (path: (i: number) => Promise<PayResponse>) => {
    const figures = { calls: 0, wechatPay: 0, roundTrips: 0 };
    for (let i = 0; i < TAPS; i++) {
      const [c, p, r] = [calls, await prepays(), storeMetrics.roundTrips];
      await path(i);
      figures.roundTrips = Math.max(figures.roundTrips, storeMetrics.roundTrips - r);
      figures.calls = Math.max(figures.calls, calls - c);
      figures.wechatPay = Math.max(figures.wechatPay, (await prepays()) - p);
    }
    return figures;
  };
  try {
    const before = await measure(async (i) => {
      const order = await call<OrderView>('orders', confirmEvent(i, 'confirm'));
      return call<PayResponse>('payment', { action: 'pay', orderId: order.id });
    });
    const now = await measure((i) => call<OrderAndPayResponse>('payment', confirmEvent(i, 'orderAndPay')));
    log(`Pay tap to WeChat's payment sheet, ${TAPS} new orders each way (the most any one tap took)`);
    log(
      table(
        ['measure', 'confirm + pay (before)', 'orderAndPay (now)', 'goal'],
        [
          ['cloud-function calls on the critical path', String(before.calls), String(now.calls), '1'],
          ['WeChat Pay calls', String(before.wechatPay), String(now.wechatPay), '≤ 1'],
          ['database round trips', String(before.roundTrips), String(now.roundTrips), `≤ ${before.roundTrips}`],
        ],
      ),
    );

    // paid shown without waiting for the notification
    cloud.pay.faults.add({ target: 'notify', kind: 'DELAY', times: null, delayMs: NOTIFY_DELAY_MS });
    const paidAfterOk = async (strategy: 'confirm-at-once' | 'old-schedule') => {
      const { orderId, prepayId } = await call<OrderAndPayResponse>('payment', confirmEvent(99, 'orderAndPay'));
      await cloud.pay.cashier('pay', prepayId);
      const started = performance.now();
      const c = calls;
      if (strategy === 'confirm-at-once') {
        const order = await call<OrderView>('payment', { action: 'confirm', orderId });
        if (order.status !== 'paid') throw new Error('not paid after the confirm');
      } else {
        // the result page before: poll with backoff, ask WeChat Pay once CONFIRM_AFTER_MS has passed
        let confirmed = false;
        for (let attempt = 0; ; attempt++) {
          const late = !confirmed && performance.now() - started >= CONFIRM_AFTER_MS;
          if (late) confirmed = true;
          const order = await call<OrderView>(late ? 'payment' : 'orders', {
            action: late ? 'confirm' : 'get',
            orderId,
          });
          if (order.status === 'paid') break;
          const delay = POLL_DELAYS_MS[attempt];
          if (delay === undefined) throw new Error('never paid');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      return { calls: calls - c, ms: performance.now() - started };
    };
    const old = await paidAfterOk('old-schedule');
    const fast = await paidAfterOk('confirm-at-once');
    cloud.pay.faults.clear();
    log('');
    log(`"Paid" after the payment sheet's ok, with the notification delayed ${NOTIFY_DELAY_MS / 1000} s`);
    log(
      table(
        ['measure', 'poll, query after 3 s (before)', 'query at once (now)', 'goal'],
        [
          ['calls until an answer says paid', String(old.calls), String(fast.calls), '1'],
          ['time until paid shown, ms', old.ms.toFixed(0), fast.ms.toFixed(0), '—'],
        ],
      ),
    );
    return { before, now, paidAfterCalls: fast.calls };
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
