/**
 * Load on the local cloud, in this process:
 *   notifications: 1,000 at concurrency 50 (800 first deliveries, 200 duplicates, shuffled) through the HTTP access
 *     path of payNotify; throughput, latency percentiles, errors, exactly-once settlement checked against the WeChat
 *     Pay simulator's ledger, and database round trips (counted in the store layer);
 *   end to end: confirm, pay, cashier pays, notification, order paid, 200 orders one after another over HTTP.
 * The load generator shares the process (and the 2 cores) with the local cloud, so latencies include its own work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeMetrics } from '../../cloudfunctions/common/store/store';
import { encryptNotification, RsaSha256Signer, rfc3339, signResponse } from '../../cloudfunctions/common/wechatpay';
import { LocalCloud } from '../../localcloud/cloud';
import { useLocalWxServerSdk } from '../../localcloud/resolve-sdk';
import type { ApiResult, OrderView, PayResponse } from '../../typings/api';
import { ms, percentile, table } from './stats';

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
    const post = async (n: { body: string; signer: RsaSha256Signer }) => {
      const headers = signResponse(n.signer, cloud.keys.publicKeyId, n.body, Math.floor(Date.now() / 1000));
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

    // the load
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const tripsBefore = storeMetrics.roundTrips;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < deliveries.length) {
          const n = deliveries[next++]!;
          const t0 = performance.now();
          const status = await post(n).catch(() => 0);
          latencies.push(performance.now() - t0);
          if (status !== 204) errors += 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const loadTrips = storeMetrics.roundTrips - tripsBefore;

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
    log(
      table(
        ['measure', 'value'],
        [
          ['throughput', `${Math.round(total / seconds)} notifications/s (${seconds.toFixed(2)} s)`],
          ['latency p50', ms(percentile(latencies, 50))],
          ['latency p95', ms(percentile(latencies, 95))],
          ['latency p99', ms(percentile(latencies, 99))],
          ['errors (non-204 answers)', errors],
          ['orders settled exactly once (ledger SUCCESS, one paid entry)', `${settledOnce} / ${firsts}`],
          ['notification log entries', `${logged} (${total} + 2 sample)`],
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
