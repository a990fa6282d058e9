/**
 * The local surfaces a web page in the tester's browser could otherwise drive (issue 22, item 3): on both ports the
 * console's rule holds (localcloud/http.ts refuseOtherSites): the loopback Host only, no change from another origin,
 * JSON bodies only; and timers run only from the local cloud itself or the CLI (POST /timers/<name>), never through
 * an HTTP access request or a callFunction.
 */
import { request } from 'node:http';
import { startTestCloud, type TestCloud } from '../../support/localcloud';

jest.setTimeout(30_000);

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
});
afterAll(() => t.close());

/** A raw request, so the Host header can be what a rebinding page's browser would send. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };
const evil = 'https://evil.example.net';
const surfaces = () => [
  {
    what: 'simulator: add a fault',
    base: t.cloud.urls.wechatpay,
    path: '/sim/faults',
    body: { target: 'notify', kind: 'DUPLICATE' },
  },
  { what: 'simulator: move the clock', base: t.cloud.urls.wechatpay, path: '/sim/clock', body: { advanceMs: 1000 } },
  {
    what: 'local login (an admin session)',
    base: t.cloud.urls.cloud,
    path: '/wxapi/_local/login',
    body: { user: 'admin' },
  },
  { what: 'a timer', base: t.cloud.urls.cloud, path: '/timers/reconcile', body: {} },
];

describe.each(['foreign Host', 'foreign Origin', 'not JSON'] as const)('a request with a %s is refused', (how) => {
  test.each([0, 1, 2, 3])('surface %i, nothing changed', async (i) => {
    const s = surfaces()[i]!;
    const faults = t.cloud.pay.faults.list().length;
    const offset = t.cloud.pay.simClock.offset;
    const runs = t.cloud.host.timerRuns.length;
    const headers: Record<string, string> =
      how === 'foreign Host'
        ? { ...json, Host: 'rebound.example.net' }
        : how === 'foreign Origin'
          ? { ...json, Origin: evil }
          : { 'Content-Type': 'text/plain;charset=UTF-8' };
    const answer = await send(s.base, 'POST', s.path, headers, JSON.stringify(s.body));
    expect({ what: s.what, status: answer.status }).toEqual({ what: s.what, status: how === 'not JSON' ? 415 : 403 });
    expect(t.cloud.pay.faults.list()).toHaveLength(faults);
    expect(t.cloud.pay.simClock.offset).toBe(offset);
    expect(t.cloud.host.timerRuns).toHaveLength(runs);
  });
});

test('the same calls from the CLI (loopback, no Origin, JSON) and from a local page of the same origin are answered', async () => {
  const s = surfaces();
  expect((await send(s[0]!.base, 'POST', s[0]!.path, json, JSON.stringify(s[0]!.body))).status).toBe(200);
  t.cloud.pay.faults.clear();
  const cloudOrigin = { ...json, Origin: t.cloud.urls.cloud };
  expect((await send(s[2]!.base, 'POST', s[2]!.path, cloudOrigin, JSON.stringify(s[2]!.body))).status).toBe(200);
  expect((await send(s[3]!.base, 'POST', s[3]!.path, json, '{}')).status).toBe(200);
  // the simulator's API itself answers any loopback Host name, refuses another
  expect((await send(t.cloud.urls.wechatpay, 'GET', '/sim/state', { Host: 'localhost' })).status).toBe(200);
  expect((await send(t.cloud.urls.wechatpay, 'GET', '/sim/state', { Host: 'evil.example.net' })).status).toBe(403);
});

test('a timer function never runs from an HTTP request, not even a GET, nor from a callFunction with no user', async () => {
  const runs = t.cloud.host.timerRuns.length;
  const metricsBefore = (await t.cloud.engine.database().collection('metrics').count()).total;
  for (const method of ['GET', 'POST']) {
    const answer = await send(
      t.cloud.urls.cloud,
      method,
      '/http/books',
      method === 'POST' ? json : {},
      method === 'POST' ? '{}' : '',
    );
    // books also answers the merchant's pages: a call that is not its timer goes to those actions, which refuse it
    expect(answer.text).toContain('"ok":false');
  }
  expect(await t.cloud.call('books', {})).toMatchObject({ ok: false });
  expect(await t.cloud.call('books', { action: 'listStatements' })).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED' },
  });
  expect(await t.cloud.call('reconcile', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(t.cloud.host.timerRuns).toHaveLength(runs);
  expect((await t.cloud.engine.database().collection('metrics').count()).total).toBe(metricsBefore);
});
