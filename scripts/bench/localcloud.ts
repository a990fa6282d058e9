/**
 * Load on the local cloud, in this process:
 *   notifications: 1,000 at concurrency 50 (800 first deliveries, 200 duplicates, shuffled) through the HTTP access
 *     path of payNotify; throughput, latency percentiles, errors, exactly-once settlement checked against the WeChat
 *     Pay simulator's ledger, and database round trips (counted in the store layer);
 *   end to end: confirm, pay, cashier pays, notification, order paid, 200 orders one after another over HTTP.
 * The notification load generator runs in a worker thread (the machine's other core), as a separate client would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeMetrics } from '../../cloudfunctions/common/store/store';
import { RsaSha256Signer, rfc3339 } from '../../cloudfunctions/common/wechatpay';
import { encryptNotification, signResponse } from '../../localcloud/wechatpay-sim/signing';
import { LocalCloud } from '../../localcloud/cloud';
import { useLocalWxServerSdk } from '../../localcloud/resolve-sdk';
import type { ApiResult, OrderView, PayResponse } from '../../typings/api';
import { collectAllGarbage, machineLoad, percentile, showSpread, spread, table } from './stats';

/** BENCH_CPU_PROFILE=file.cpuprofile: a CPU profile of the load phase alone, for chrome://inspect or speedscope. */
async function startProfile(): Promise<() => Promise<void>> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return async () => {};
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', {
    interval: Number(process.env.BENCH_CPU_PROFILE_INTERVAL_US ?? 100),
  });
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

const confirmEvent = (i: number) => ({
  action: 'confirm',
  requestId: `bench-${Date.now()}-${i}`,
  items: [{ productId: 'latte', quantity: 1 + (i % 3) }],
  contact: { name: '压测', phone: '13800138000' },
});

function notificationFor(cloud: LocalCloud, resource: unknown) {
  const body = JSON.stringify(
    encryptNotification({
      apiV3Key: cloud.keys.apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource,
      createTime: rfc3339(Date.now()),
    }),
  );
  return { body, signer: new RsaSha256Signer(cloud.keys.platformPrivateKeyPem) };
}

/** deliveries sent first, not counted: the load's own mix (first deliveries of other paid orders, and duplicates) */
const WARMUP = 500;

interface LoadRun {
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  settledOnce: number;
  logged: number;
  firstTrips: number;
  duplicateTrips: number;
  tripsPerNotification: number;
  sequentialP50: number;
  sequentialP99: number;
  /** event-loop utilisation of the local cloud's thread, and of the load generator's, during the load */
  serverElu: number;
  clientElu: number;
  /** CPU time of the whole process (both threads) per notification, µs */
  cpuPerNotification: number;
}

interface LoadOptions {
  total: number;
  concurrency: number;
  duplicateShare: number;
  profile: boolean;
}

type Notice = { body: string; signer: RsaSha256Signer };

/** Orders confirmed and paid at the simulator with their notifications dropped, so that the bench delivers them. */
async function paidOrders(
  cloud: LocalCloud,
  count: number,
  from: number,
  user: (i: number) => string,
): Promise<(Notice & { orderId: string })[]> {
  cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: null });
  const prepared: (Notice & { orderId: string })[] = [];
  for (let i = 0; i < count; i++) {
    const order = await ok<OrderView>(cloud, 'orders', confirmEvent(from + i), user(i));
    const { prepayId } = await ok<PayResponse>(cloud, 'payment', { action: 'pay', orderId: order.id }, user(i));
    await cloud.pay.cashier('pay', prepayId);
    const tx = (await cloud.pay.getTransaction(`${order.id}P1`))!;
    prepared.push({ orderId: order.id, ...notificationFor(cloud, cloud.pay.transactionView(tx)) });
  }
  cloud.pay.faults.clear();
  return prepared;
}

/** One run on a fresh local cloud: round trips, latency one at a time, then the load and its exactly-once check. */
async function loadRun({ total, concurrency, duplicateShare, profile }: LoadOptions): Promise<LoadRun> {
  const { cloud, stop } = await startCloud();
  try {
    const firsts = Math.round(total * (1 - duplicateShare));
    const prepared = await paidOrders(cloud, firsts, 0, (i) => `load-${i % 40}`);
    const deliveries = [
      ...prepared,
      ...Array.from({ length: total - firsts }, (_, i) => prepared[(i * 7919) % firsts]!),
    ];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = (i * 104729 + 17) % (i + 1);
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const sign = (n: Notice) => signResponse(n.signer, cloud.keys.publicKeyId, n.body, Math.floor(Date.now() / 1000));
    const post = async (n: Notice, headers: Record<string, string> = sign(n)) => {
      const response = await fetch(cloud.urls.notifyUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: n.body,
      });
      await response.arrayBuffer();
      return response.status;
    };

    // round trips, one at a time: a first delivery and its duplicate
    const [sampleNotice] = await paidOrders(cloud, 1, total + 1, () => 'sample');
    let before = storeMetrics.roundTrips;
    await post(sampleNotice!);
    const firstTrips = storeMetrics.roundTrips - before;
    before = storeMetrics.roundTrips;
    await post(sampleNotice!);
    const duplicateTrips = storeMetrics.roundTrips - before;

    // service time, one at a time: first deliveries of 50 more paid orders
    const sequential: number[] = [];
    for (const n of await paidOrders(cloud, 50, total + 10, () => 'single')) {
      const headers = sign(n);
      const t0 = performance.now();
      if ((await post(n, headers)) !== 204) throw new Error('sequential delivery refused');
      sequential.push(performance.now() - t0);
    }

    // the load: every delivery signed beforehand (WeChat Pay's work, not the receiver's), fresh within the 300 s window
    const signed = deliveries.map((n) => ({ body: n.body, headers: sign(n) }));
    // the warm-up runs the paths the load runs (JIT, connections, collections' growth), in the load's mix
    const warmFirsts = await paidOrders(
      cloud,
      Math.round(WARMUP * (1 - duplicateShare)),
      total + 100,
      (i) => `warm-${i % 40}`,
    );
    const warmup = [...warmFirsts, ...warmFirsts.slice(0, WARMUP - warmFirsts.length)]
      .map((n, i, all) => all[(i * 7919) % all.length]!)
      .map((n) => ({ body: n.body, headers: sign(n) }));
    const worker = new Worker(join(__dirname, 'load-worker.js'), {
      workerData: {
        url: cloud.urls.notifyUrl,
        concurrency,
        warmup,
        deliveries: signed,
        client: process.env.BENCH_CLIENT ?? 'http',
      },
    });
    type Done = { kind: 'done'; latencies: number[]; statuses: number[]; seconds: number; elu: number };
    const next = () =>
      new Promise<{ kind: 'warm' } | Done>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const warmedUp = next();
    worker.postMessage('start');
    await warmedUp; // the worker says when the warm-up is over and the measured load begins
    collectAllGarbage(); // the preparation's garbage (1,000 signatures, hundreds of orders) is the bench's, not the load's
    const stopProfile = profile ? await startProfile() : async () => {};
    const tripsBefore = storeMetrics.roundTrips;
    const eluBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const done = next();
    worker.postMessage('load');
    const { latencies, statuses, seconds, elu: clientElu } = (await done) as Done;
    const cpu = process.cpuUsage(cpuBefore);
    const serverElu = performance.eventLoopUtilization(eluBefore).utilization;
    const loadTrips = storeMetrics.roundTrips - tripsBefore;
    await stopProfile();
    await worker.terminate();
    const errors = statuses.filter((status) => status !== 204).length;

    // exactly once, against the simulator's ledger
    let settledOnce = 0;
    const db = cloud.engine.database();
    for (const p of prepared) {
      const order = (await db.collection('orders').doc(p.orderId).get()).data as unknown as {
        status: string;
        timeline: { event: string }[];
        paidFen: number;
      };
      const payment = (await db.collection('payments').doc(`${p.orderId}P1`).get()).data as unknown as {
        status: string;
      };
      const tx = await cloud.pay.getTransaction(`${p.orderId}P1`);
      const paidEntries = order.timeline.filter((e) => e.event === 'paid').length;
      if (
        order.status === 'paid' &&
        paidEntries === 1 &&
        payment.status === 'success' &&
        tx?.trade_state === 'SUCCESS' &&
        order.paidFen === tx.amount.total
      )
        settledOnce += 1;
    }
    const logged = (await db.collection('notification_log').count()).total;
    return {
      throughput: total / seconds,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      errors,
      settledOnce,
      logged,
      firstTrips,
      duplicateTrips,
      tripsPerNotification: loadTrips / total,
      sequentialP50: percentile(sequential, 50),
      sequentialP99: percentile(sequential, 99),
      serverElu,
      clientElu,
      cpuPerNotification: (cpu.user + cpu.system) / total,
    };
  } finally {
    await stop();
  }
}

/**
 * The notification load, `runs` times (BENCH_RUNS, default 3), each on a fresh local cloud; every figure is printed as
 * the median of the runs with the run-to-run spread (min–max) beside it.
 */
export async function benchNotifications(
  log: (s: string) => void,
  { total = 1000, concurrency = 50, duplicateShare = 0.2, runs = Number(process.env.BENCH_RUNS ?? 3) } = {},
) {
  const results: LoadRun[] = [];
  const loads: string[] = [];
  for (let r = 0; r < runs; r++) {
    loads.push(await machineLoad());
    results.push(
      await loadRun({ total, concurrency, duplicateShare, profile: r === runs - 1 && !!process.env.BENCH_CPU_PROFILE }),
    );
  }
  const firsts = Math.round(total * (1 - duplicateShare));
  const of = (pick: (r: LoadRun) => number) => spread(results.map(pick));
  const exact = (pick: (r: LoadRun) => number) => {
    const values = [...new Set(results.map(pick))];
    return values.length === 1 ? String(values[0]) : `${values.join(' / ')} (differs between runs)`;
  };
  const msOf = (pick: (r: LoadRun) => number) => showSpread(of(pick), (n) => n.toFixed(1));
  const perRun = (pick: (r: LoadRun) => number, format: (n: number) => string) =>
    results.map((r) => format(pick(r))).join(', ');
  log(
    `Notification load on the local cloud: ${total} notifications (${firsts} first deliveries, ${total - firsts} duplicates), concurrency ${concurrency}, through /http/payNotify`,
  );
  log(
    `  ${runs} runs, each on a fresh local cloud after ${WARMUP} uncounted warm-up deliveries in the same mix; the load generator runs in a worker thread (client: ${process.env.BENCH_CLIENT ?? 'node:http, kept-alive connections'})`,
  );
  log('  each figure: median of the runs (min–max), then every run');
  log(
    table(
      ['measure', 'median (min–max)', 'runs'],
      [
        [
          'throughput, notifications/s',
          showSpread(
            of((r) => r.throughput),
            (n) => String(Math.round(n)),
          ),
          perRun(
            (r) => r.throughput,
            (n) => String(Math.round(n)),
          ),
        ],
        [
          'latency p50, ms',
          msOf((r) => r.p50),
          perRun(
            (r) => r.p50,
            (n) => n.toFixed(1),
          ),
        ],
        [
          'latency p95, ms',
          msOf((r) => r.p95),
          perRun(
            (r) => r.p95,
            (n) => n.toFixed(1),
          ),
        ],
        [
          'latency p99, ms',
          msOf((r) => r.p99),
          perRun(
            (r) => r.p99,
            (n) => n.toFixed(1),
          ),
        ],
        [
          'latency max, ms',
          msOf((r) => r.max),
          perRun(
            (r) => r.max,
            (n) => n.toFixed(1),
          ),
        ],
        ['errors (non-204 answers)', exact((r) => r.errors), perRun((r) => r.errors, String)],
        [
          'orders settled exactly once (ledger SUCCESS, one paid entry)',
          `${exact((r) => r.settledOnce)} / ${firsts}`,
          perRun((r) => r.settledOnce, String),
        ],
        [
          'notification log entries',
          `${exact((r) => r.logged)} (${total} + 2 sample + 50 one at a time + ${WARMUP} warm-up)`,
          perRun((r) => r.logged, String),
        ],
        [
          'db round trips, first delivery / duplicate (one at a time)',
          `${exact((r) => r.firstTrips)} / ${exact((r) => r.duplicateTrips)}`,
          perRun((r) => r.firstTrips, String),
        ],
        [
          'db round trips per notification during the load',
          showSpread(of((r) => r.tripsPerNotification)),
          perRun(
            (r) => r.tripsPerNotification,
            (n) => n.toFixed(2),
          ),
        ],
        [
          'concurrency 1, first delivery p50, ms (50 orders)',
          showSpread(of((r) => r.sequentialP50)),
          perRun(
            (r) => r.sequentialP50,
            (n) => n.toFixed(2),
          ),
        ],
        [
          'concurrency 1, first delivery p99, ms',
          showSpread(of((r) => r.sequentialP99)),
          perRun(
            (r) => r.sequentialP99,
            (n) => n.toFixed(2),
          ),
        ],
        [
          'local cloud thread busy during the load',
          showSpread(
            of((r) => r.serverElu * 100),
            (n) => `${n.toFixed(0)}%`,
          ),
          perRun(
            (r) => r.serverElu * 100,
            (n) => `${n.toFixed(0)}%`,
          ),
        ],
        [
          'load generator thread busy',
          showSpread(
            of((r) => r.clientElu * 100),
            (n) => `${n.toFixed(0)}%`,
          ),
          perRun(
            (r) => r.clientElu * 100,
            (n) => `${n.toFixed(0)}%`,
          ),
        ],
        [
          'CPU per notification, both threads, µs',
          showSpread(
            of((r) => r.cpuPerNotification),
            (n) => n.toFixed(0),
          ),
          perRun(
            (r) => r.cpuPerNotification,
            (n) => n.toFixed(0),
          ),
        ],
      ],
    ),
  );
  log(`  machine before each run: ${loads.join('; ')}`);
  return {
    runs: results,
    throughput: of((r) => r.throughput),
    p50: of((r) => r.p50),
    p95: of((r) => r.p95),
    p99: of((r) => r.p99),
  };
}

/** One run of the end-to-end bench on a fresh local cloud: each order's time from confirm to paid, in ms. */
async function endToEndRun(orders: number): Promise<number[]> {
  const { cloud, stop } = await startCloud();
  try {
    const base = cloud.urls.cloud;
    const { session } = (await (
      await fetch(`${base}/wxapi/_local/login`, { method: 'POST', body: '{"user":"e2e"}' })
    ).json()) as { session: string };
    const call = async <T>(fn: string, event: unknown): Promise<T> => {
      const response = await fetch(`${base}/functions/${fn}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-WX-Session': session },
        body: JSON.stringify(event),
      });
      const { result } = (await response.json()) as { result: ApiResult<T> };
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      return result.data;
    };
    const durations: number[] = [];
    for (let i = 0; i < orders; i++) {
      const t0 = performance.now();
      const order = await call<OrderView>('orders', confirmEvent(i));
      const { prepayId } = await call<PayResponse>('payment', { action: 'pay', orderId: order.id });
      await fetch(`${cloud.urls.wechatpay}/sim/cashier/pay`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prepay_id: prepayId }),
      }).then((r) => r.arrayBuffer());
      for (let polls = 0; ; polls++) {
        const current = await call<OrderView>('orders', { action: 'get', orderId: order.id });
        if (current.status === 'paid') break;
        if (polls > 2000) throw new Error(`order ${order.id} not paid`);
        await new Promise((r) => setTimeout(r, 1));
      }
      durations.push(performance.now() - t0);
    }
    return durations;
  } finally {
    await stop();
  }
}

export async function benchEndToEnd(
  log: (s: string) => void,
  { orders = 200, runs = Number(process.env.BENCH_RUNS ?? 3) } = {},
) {
  const results: { p50: number; p99: number }[] = [];
  for (let r = 0; r < runs; r++) {
    const durations = await endToEndRun(orders);
    results.push({ p50: percentile(durations, 50), p99: percentile(durations, 99) });
  }
  const p50 = spread(results.map((r) => r.p50));
  const p99 = spread(results.map((r) => r.p99));
  log(
    `End to end on the local cloud, over HTTP: confirm → pay → cashier pays → notification → order paid, ${orders} orders one after another`,
  );
  log(`  ${runs} runs, each on a fresh local cloud; each figure: median of the runs (min–max), then every run`);
  log(
    table(
      ['measure', 'median (min–max)', 'runs'],
      [
        ['p50 per order, ms', showSpread(p50), results.map((r) => r.p50.toFixed(2)).join(', ')],
        ['p99 per order, ms', showSpread(p99), results.map((r) => r.p99.toFixed(2)).join(', ')],
      ],
    ),
  );
  return { p50, p99 };
}
