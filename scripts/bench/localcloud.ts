/**
 * Load on the local cloud, in this process:
 *   notifications: 1,000 at concurrency 50 (800 first deliveries, 200 duplicates, shuffled) through the HTTP access
 *     path of payNotify; throughput, latency percentiles, errors, exactly-once settlement checked against the WeChat
 *     Pay simulator's ledger, and database round trips (counted in the store layer);
 *   end to end: confirm, pay, cashier pays, notification, order paid, 200 orders one after another over HTTP.
 * The notification load generator runs in a worker thread (the machine's other core), as a separate client would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeMetrics } from '../../cloudfunctions/common/store/store';
import { RsaSha256Signer, rfc3339 } from '../../cloudfunctions/common/wechatpay';
import { encryptNotification, signResponse } from '../../localcloud/wechatpay-sim/signing';
import { LocalCloud } from '../../localcloud/cloud';
import { useLocalWxServerSdk } from '../../localcloud/resolve-sdk';
import type { ApiResult, OrderView, PayResponse } from '../../typings/api';
import { ms, percentile, table } from './stats';

/** BENCH_CPU_PROFILE=file.cpuprofile: a CPU profile of the load phase alone, for chrome://inspect or speedscope. */
async function startProfile(): Promise<() => Promise<void>> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return async () => {};
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function startCloud(): Promise<{ cloud: LocalCloud; stop: () => Promise<void> }> {
  useLocalWxServerSdk();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cloud-'));
  const cloud = new LocalCloud({ dataDir, timeFactor: 0.01, refundDelayMs: 5, env: { LOG_LEVEL: 'silent' } });
  await cloud.start();
  return { cloud, stop: async () => (await cloud.close(), rmSync(dataDir, { recursive: true, force: true })) };
}

async function ok<T>(cloud: LocalCloud, fn: string, event: unknown, user: string): Promise<T> {
  const result = (await cloud.call(fn, event, user)) as ApiResult<T>;
  if (!result.ok) throw new Error(`${fn}: ${JSON.stringify(result.error)}`);
  return result.data;
}

const confirmEvent = (i: number) => ({ action: 'confirm', requestId: `bench-${Date.now()}-${i}`, items: [{ productId: 'latte', quantity: 1 + (i % 3) }], contact: { name: '压测', phone: '13800138000' } });

function notificationFor(cloud: LocalCloud, resource: unknown) {
  const body = JSON.stringify(encryptNotification({ apiV3Key: cloud.keys.apiV3Key, eventType: 'TRANSACTION.SUCCESS', summary: '支付成功', originalType: 'transaction', resource, createTime: rfc3339(Date.now()) }));
  return { body, signer: new RsaSha256Signer(cloud.keys.platformPrivateKeyPem) };
}

/** duplicate deliveries of one sample order sent first, not counted */
const WARMUP = 200;

export async function benchNotifications(log: (s: string) => void, { total = 1000, concurrency = 50, duplicateShare = 0.2 } = {}) {
  const { cloud, stop } = await startCloud();
  try {
    const firsts = Math.round(total * (1 - duplicateShare));
    // 800 orders paid at the simulator, their notifications dropped: the bench delivers them itself
    cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: null });
    const prepared: { orderId: string; body: string; signer: RsaSha256Signer }[] = [];
    for (let i = 0; i < firsts; i++) {
      const user = `load-${i % 40}`;
      const order = await ok<OrderView>(cloud, 'orders', confirmEvent(i), user);
      const { prepayId } = await ok<PayResponse>(cloud, 'payment', { action: 'pay', orderId: order.id }, user);
      await cloud.pay.cashier('pay', prepayId);
      const tx = (await cloud.pay.getTransaction(`${order.id}P1`))!;
      prepared.push({ orderId: order.id, ...notificationFor(cloud, cloud.pay.transactionView(tx)) });
    }
    cloud.pay.faults.clear();
    const deliveries = [...prepared, ...Array.from({ length: total - firsts }, (_, i) => prepared[(i * 7919) % firsts]!)];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = (i * 104729 + 17) % (i + 1);
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }

    // round trips, one at a time: a first delivery and its duplicate
    const sample = await ok<OrderView>(cloud, 'orders', confirmEvent(total + 1), 'sample');
    const samplePay = await ok<PayResponse>(cloud, 'payment', { action: 'pay', orderId: sample.id }, 'sample');
    cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
    await cloud.pay.cashier('pay', samplePay.prepayId);
    const sampleNotice = notificationFor(cloud, cloud.pay.transactionView((await cloud.pay.getTransaction(`${sample.id}P1`))!));
    const sign = (n: { body: string; signer: RsaSha256Signer }) => signResponse(n.signer, cloud.keys.publicKeyId, n.body, Math.floor(Date.now() / 1000));
    const post = async (n: { body: string; signer: RsaSha256Signer }, headers: Record<string, string> = sign(n)) => {
      const response = await fetch(cloud.urls.notifyUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: n.body });
      await response.arrayBuffer();
      return response.status;
    };
    let before = storeMetrics.roundTrips;
    await post(sampleNotice);
    const firstTrips = storeMetrics.roundTrips - before;
    before = storeMetrics.roundTrips;
    await post(sampleNotice);
    const duplicateTrips = storeMetrics.roundTrips - before;

    // service time, one at a time: first deliveries of 50 more paid orders
    const sequential: number[] = [];
    cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: null });
    const singles: { body: string; signer: RsaSha256Signer }[] = [];
    for (let i = 0; i < 50; i++) {
      const order = await ok<OrderView>(cloud, 'orders', confirmEvent(total + 10 + i), 'single');
      const { prepayId } = await ok<PayResponse>(cloud, 'payment', { action: 'pay', orderId: order.id }, 'single');
      await cloud.pay.cashier('pay', prepayId);
      singles.push(notificationFor(cloud, cloud.pay.transactionView((await cloud.pay.getTransaction(`${order.id}P1`))!)));
    }
    cloud.pay.faults.clear();
    for (const n of singles) {
      const headers = sign(n);
      const t0 = performance.now();
      if ((await post(n, headers)) !== 204) throw new Error('sequential delivery refused');
      sequential.push(performance.now() - t0);
    }

    // the load: every delivery signed beforehand (WeChat Pay's work, not the receiver's), fresh within the 300 s window
    const signed = deliveries.map((n) => ({ n, headers: sign(n) }));
    const profile = await startProfile();
    const tripsBefore = storeMetrics.roundTrips;
    const { latencies, statuses, seconds } = await new Promise<{ latencies: number[]; statuses: number[]; seconds: number }>((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'load-worker.js'), {
        workerData: {
          url: cloud.urls.notifyUrl,
          concurrency,
          warmup: Array.from({ length: WARMUP }, () => ({ body: sampleNotice.body, headers: sign(sampleNotice) })),
          deliveries: signed.map(({ n, headers }) => ({ body: n.body, headers })),
        },
      });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const errors = statuses.filter((status) => status !== 204).length;
    const loadTrips = storeMetrics.roundTrips - tripsBefore - WARMUP * duplicateTrips;
    await profile();

    // exactly once, against the simulator's ledger
    let settledOnce = 0;
    const db = cloud.engine.database();
    for (const p of prepared) {
      const order = (await db.collection('orders').doc(p.orderId).get()).data as unknown as { status: string; timeline: { event: string }[]; paidFen: number };
      const payment = (await db.collection('payments').doc(`${p.orderId}P1`).get()).data as unknown as { status: string };
      const tx = await cloud.pay.getTransaction(`${p.orderId}P1`);
      const paidEntries = order.timeline.filter((e) => e.event === 'paid').length;
      if (order.status === 'paid' && paidEntries === 1 && payment.status === 'success' && tx?.trade_state === 'SUCCESS' && order.paidFen === tx.amount.total) settledOnce += 1;
    }
    const logged = (await db.collection('notification_log').count()).total;

    log(`Notification load on the local cloud: ${total} notifications (${firsts} first deliveries, ${total - firsts} duplicates), concurrency ${concurrency}, through /http/payNotify`);
    log(`  (after ${WARMUP} uncounted warm-up deliveries; the load generator runs in a worker thread)`);
    log(
      table(
        ['measure', 'value'],
        [
          ['throughput', `${Math.round(total / seconds)} notifications/s (${seconds.toFixed(2)} s)`],
          ['latency p50', ms(percentile(latencies, 50))],
          ['latency p95', ms(percentile(latencies, 95))],
          ['latency p99', ms(percentile(latencies, 99))],
          ['errors (non-204 answers)', errors],
          ['latency at concurrency 1, first delivery p50 / p99 (50 orders)', `${ms(percentile(sequential, 50))} / ${ms(percentile(sequential, 99))}`],
          ['orders settled exactly once (ledger SUCCESS, one paid entry)', `${settledOnce} / ${firsts}`],
          ['notification log entries', `${logged} (${total} + 2 sample + 50 one at a time + ${WARMUP} warm-up)`],
          ['db round trips, first delivery (sequential sample)', firstTrips],
          ['db round trips, duplicate (sequential sample)', duplicateTrips],
          ['db round trips during the load', `${loadTrips} (${(loadTrips / total).toFixed(2)} per notification)`],
        ],
      ),
    );
    return { throughput: total / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), errors, settledOnce, firsts, firstTrips, duplicateTrips };
  } finally {
    await stop();
  }
}

export async function benchEndToEnd(log: (s: string) => void, orders = 200) {
  const { cloud, stop } = await startCloud();
  try {
    const base = cloud.urls.cloud;
    const { session } = (await (await fetch(`${base}/wxapi/_local/login`, { method: 'POST', body: '{"user":"e2e"}' })).json()) as { session: string };
    const call = async <T>(fn: string, event: unknown): Promise<T> => {
      const response = await fetch(`${base}/functions/${fn}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-WX-Session': session }, body: JSON.stringify(event) });
      const { result } = (await response.json()) as { result: ApiResult<T> };
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      return result.data;
    };
    const durations: number[] = [];
    for (let i = 0; i < orders; i++) {
      const t0 = performance.now();
      const order = await call<OrderView>('orders', confirmEvent(i));
      const { prepayId } = await call<PayResponse>('payment', { action: 'pay', orderId: order.id });
      await fetch(`${cloud.urls.wechatpay}/sim/cashier/pay`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prepay_id: prepayId }) }).then((r) => r.arrayBuffer());
      for (let polls = 0; ; polls++) {
        const current = await call<OrderView>('orders', { action: 'get', orderId: order.id });
        if (current.status === 'paid') break;
        if (polls > 2000) throw new Error(`order ${order.id} not paid`);
        await new Promise((r) => setTimeout(r, 1));
      }
      durations.push(performance.now() - t0);
    }
    log(`End to end on the local cloud, over HTTP: confirm → pay → cashier pays → notification → order paid, ${orders} orders one after another`);
    log(table(['measure', 'value'], [['p50 per order', ms(percentile(durations, 50))], ['p99 per order', ms(percentile(durations, 99))], ['orders', orders]]));
    return { p50: percentile(durations, 50), p99: percentile(durations, 99) };
  } finally {
    await stop();
  }
}
