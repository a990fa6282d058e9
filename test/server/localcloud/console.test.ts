/**
 * The console's server side on a local cloud (no browser): the page and its assets, the overview it reads, the
 * server-sent events that tell it something changed, and actions passed to the simulator's control API as they are.
 */
import type { PayResponse } from '../../../typings/api';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
});
afterAll(() => t.close());

const url = (path: string) => `${t.cloud.urls.cloud}${path}`;
const get = async <T = Record<string, unknown>>(path: string) => {
  const response = await fetch(url(path));
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.clone().text(),
    json: (response.headers.get('content-type') ?? '').includes('json') ? ((await response.json()) as T) : ({} as T),
  };
};

interface Overview {
  orders: { _id: string; status: string; guest: boolean; contact?: unknown }[];
  payments: { _id: string; status: string }[];
  users: Record<string, unknown>[];
  sessions: { user: string; openid: string; sessions: number }[];
  faults: unknown[];
  clock: { now: number; offsetMs: number };
  wechatpay: {
    transactions: { out_trade_no: string; trade_state: string; payer: string }[];
    deliveries: { _id: string; state: string; attempts: { answer?: number }[] }[];
    pending: { prepays: { prepay_id: string }[] };
  };
}

test('the page and its assets, on the cloud server at /console', async () => {
  for (const [path, type] of [
    ['/console', 'text/html'],
    ['/console/', 'text/html'],
    ['/console/console.js', 'text/javascript'],
    ['/console/console.css', 'text/css'],
  ]) {
    const answer = await get(path!);
    expect({ path, status: answer.status, type: answer.type.split(';')[0] }).toEqual({ path, status: 200, type });
  }
  expect((await get('/console')).text).toContain('Local cloud console');
  expect((await get('/console/nothing')).status).toBe(404);
});

test("the overview: an order beside WeChat Pay's ledger, what the cashier can pay, users without their session_key", async () => {
  const { code } = (await (
    await fetch(url('/wxapi/_local/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'alice' }),
    })
  ).json()) as { code: string };
  await t.ok('login', { code }, 'alice');
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  const { json } = await get<Overview>('/console/api/overview');
  expect(json.orders.find((o) => o._id === order.id)).toMatchObject({ status: 'pending_payment', guest: false });
  expect(json.orders.find((o) => o._id === order.id)).not.toHaveProperty('contact');
  expect(json.wechatpay.transactions.find((tx) => tx.out_trade_no === `${order.id}P1`)).toMatchObject({
    trade_state: 'NOTPAY',
    payer: t.openid('alice'),
  });
  expect(json.wechatpay.pending.prepays.map((p) => p.prepay_id)).toContain(prepayId);
  expect(json.sessions).toEqual(
    expect.arrayContaining([expect.objectContaining({ user: 'alice', openid: t.openid('alice') })]),
  );
  expect(json.users.length).toBeGreaterThan(0);
  expect(JSON.stringify(json.users)).not.toMatch(/sessionKey/);
});

test("only the console's own page may drive it: another site's page, or a host name that is not the loopback, is refused", async () => {
  const post = (headers: Record<string, string>) =>
    fetch(url('/console/api/sim/faults'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ target: 'notify', kind: 'DUPLICATE' }),
    });
  expect((await post({ Origin: 'https://evil.example.net' })).status).toBe(403);
  expect((await post({ Origin: `http://127.0.0.1:${new URL(t.cloud.urls.cloud).port}` })).status).toBe(200);
  expect(t.cloud.pay.faults.list()).toEqual([expect.objectContaining({ kind: 'DUPLICATE' })]);
  t.cloud.pay.faults.clear();
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(url('/console/api/overview'), { headers: { Host: 'rebound.example.net' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(403);
});

test('actions pass to the control API as they are; the event stream says "change" after each', async () => {
  const controller = new AbortController();
  const response = await fetch(url('/console/events'), { signal: controller.signal });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.getReader();
  const events: string[] = [];
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      events.push(
        ...Buffer.from(value)
          .toString('utf8')
          .split('\n')
          .filter((line) => line.startsWith('event: ')),
      );
    }
  })().catch(() => undefined);
  await waitFor(
    async () => events,
    (e) => e.includes('event: hello'),
    3000,
  );

  const add = await fetch(url('/console/api/sim/faults'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'notify', kind: 'DROP', times: 1 }),
  });
  expect(add.status).toBe(200);
  expect(t.cloud.pay.faults.list()).toEqual([expect.objectContaining({ target: 'notify', kind: 'DROP', times: 1 })]);
  await waitFor(
    async () => events,
    (e) => e.includes('event: change'),
    3000,
  );
  // a refused action comes back as the control API refused it
  const bad = await fetch(url('/console/api/sim/faults'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'notify', kind: 'EXPLODE' }),
  });
  expect(bad.status).toBe(400);

  // a dropped notification, replayed from the console: the order is paid
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  events.length = 0;
  expect(
    (
      await fetch(url('/console/api/sim/cashier/pay'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prepay_id: prepayId }),
      })
    ).status,
  ).toBe(200);
  const [dropped] = await waitFor(
    () => t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` }),
    (ds) => ds.length === 1,
  );
  expect(dropped!.state).toBe('dropped');
  await waitFor(
    async () => events,
    (e) => e.includes('event: change'),
    3000,
  );
  expect((await fetch(url(`/console/api/sim/notifications/${dropped!._id}/replay`), { method: 'POST' })).status).toBe(
    200,
  );
  expect((await t.order('alice', order.id)).status).toBe('paid');
  const { json } = await get<Overview>('/console/api/overview');
  expect(json.wechatpay.deliveries.find((d) => d._id === dropped!._id)).toMatchObject({
    state: 'delivered',
    attempts: [expect.objectContaining({ kind: 'replay', answer: 204 })],
  });

  // bill faults go to the bills room's control API, and come back in the overview
  expect(
    (
      await fetch(url('/console/api/sim/bills/faults'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'ROW_MISSING', billDate: '2026-11-22' }),
      })
    ).status,
  ).toBe(200);
  expect((await get<{ billFaults: unknown[] }>('/console/api/overview')).json.billFaults).toEqual([
    expect.objectContaining({ kind: 'ROW_MISSING', billDate: '2026-11-22' }),
  ]);
  expect((await fetch(url('/console/api/sim/bills/faults'), { method: 'DELETE' })).status).toBe(200);

  expect((await get<{ openid: string }>('/console/api/openid?user=bob')).json.openid).toBe(t.openid('bob'));
  expect((await get('/console/api/openid?user=b%20b')).status).toBe(400);
  const timer = await fetch(url('/console/api/timers/reconcile'), { method: 'POST' });
  expect(timer.status).toBe(200);
  controller.abort();
  await reading;
});
