/**
 * The checkout function on the local cloud over HTTP (`/http/checkout/…`): the page, its API, and a Native order
 * settled by the same paths as the mini-program's (notification, query, reconcile, refund), WeChat Pay played by the
 * simulator's scan-and-pay. Doors: tokens, methods, identities, CORS, rate limits.
 */
import type { OrderView, StatementView } from '../../../typings/api';
import { chinaDate, chinaDayStart } from '../../../cloudfunctions/common/domain/days';
import type { PaymentDoc } from '../../../cloudfunctions/common/domain/records';
import type { CheckoutAnswer, CheckoutCreated } from '../../../typings/checkout';
import { CHECKOUT_LIMITS } from '../../../cloudfunctions/common/domain/orders/checkout';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { clientOf } from '../../../cloudfunctions/checkout/http';
import { runReconcile } from '../../support/refunds';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({
    env: { ADMIN_OPENIDS: 'placeholder_admin', CHECKOUT_ALLOWED_ORIGINS: 'https://shop.example.com' },
  });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());

// every request here comes from 127.0.0.1 (the platform's sourceIp): each test starts with fresh rate-limit windows
beforeEach(() => t.cloud.engine.database().collection('rate_limits').where({}).remove());

async function http<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${t.cloud.urls.http}/checkout${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: (isJson && text ? JSON.parse(text) : {}) as T,
  };
}

async function guestOrder(items = [{ productId: 'latte', quantity: 2 }]) {
  const created = await http<CheckoutCreated>('POST', '/api/orders', { body: { items } });
  expect(created.status).toBe(201);
  const { token } = created.json;
  const paid = await http<CheckoutAnswer>('POST', '/api/order/pay', { token });
  expect(paid.status).toBe(200);
  return { token, id: created.json.order.id, code: paid.json.order.code! };
}

const readOrder = async (token: string) => (await http<CheckoutAnswer>('GET', '/api/order', { token })).json.order;

test('the page: HTML with a strict CSP, at the function root with or without index.html', async () => {
  for (const path of ['', '/', '/index.html']) {
    const page = await http('GET', path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[^']+'/);
    expect(page.text).toContain('提交订单');
  }
});

test('a Native order: priced by the server, scanned and paid as bob, settled by the notification; WeChat Pay knows bob as the payer', async () => {
  const catalog = await http<{ products: { id: string; priceFen: number }[] }>('GET', '/api/catalog');
  expect(catalog.json.products.find((p) => p.id === 'latte')).toMatchObject({ priceFen: 1990 });
  const { token, id, code } = await guestOrder();
  expect(code).toMatchObject({
    codeUrl: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/),
    lapsed: false,
    svg: expect.stringMatching(/^<svg /),
  });
  expect(await readOrder(token)).toMatchObject({
    id,
    status: 'pending_payment',
    totalFen: 3980,
    code: { codeUrl: code.codeUrl },
  });

  await t.cloud.pay.scan('pay', code.codeUrl, t.openid('bob'));
  const paid = await waitFor(
    () => readOrder(token),
    (o) => o.status === 'paid',
  );
  expect(paid).not.toHaveProperty('code');
  expect(await t.cloud.pay.getTransaction(`${id}P1`)).toMatchObject({
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    payer: { openid: t.openid('bob') },
    attach: id,
  });
  await waitFor(
    () => t.cloud.pay.notifier.list({ outTradeNo: `${id}P1` }),
    (ds) => ds.length === 1 && ds[0]!.state === 'delivered',
  );
  // bob's mini-program sees nothing of it: a guest's order belongs to its token
  expect(await t.call('orders', { action: 'get', orderId: id }, 'bob')).toMatchObject({
    ok: false,
    error: { code: 'NOT_FOUND' },
  });
});

test('a lost notification: "我已支付" queries WeChat Pay and settles; reconcile settles one nobody asks about', async () => {
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 2 });
  const first = await guestOrder();
  await t.cloud.pay.scan('pay', first.code.codeUrl, t.openid('bob'));
  expect((await readOrder(first.token)).status).toBe('pending_payment');
  expect((await http<CheckoutAnswer>('POST', '/api/order/check', { token: first.token })).json.order.status).toBe(
    'paid',
  );

  const second = await guestOrder([{ productId: 'croissant', quantity: 1 }]);
  await t.cloud.pay.scan('pay', second.code.codeUrl, t.openid('carol'));
  await t.cloud.engine
    .database()
    .collection('payments')
    .where({ _id: `${second.id}P1` })
    .update({ data: { nextCheckAt: 0 } });
  await runReconcile(t);
  expect((await readOrder(second.token)).status).toBe('paid');
});

test('an admin refunds a Native order in full by the usual path; an expired one is closed at WeChat Pay by reconcile', async () => {
  const { token, id, code } = await guestOrder();
  await t.cloud.pay.scan('pay', code.codeUrl, t.openid('bob'));
  await waitFor(
    () => readOrder(token),
    (o) => o.status === 'paid',
  );
  expect(
    await t.call<OrderView>(
      'admin',
      { action: 'refund', orderId: id, amountFen: 3980, reason: '顾客取消', requestId: `refund-${id}` },
      'admin',
    ),
  ).toMatchObject({ ok: true });
  await waitFor(
    () => readOrder(token),
    (o) => o.status === 'refunded',
  );
  expect(await t.cloud.pay.getTransaction(`${id}P1`)).toMatchObject({ trade_state: 'REFUND', refund_reserved: 3980 });

  const late = await guestOrder([{ productId: 'americano', quantity: 1 }]);
  await t.cloud.engine
    .database()
    .collection('orders')
    .where({ _id: late.id })
    .update({ data: { expiresAt: 0, nextCheckAt: 0 } });
  await runReconcile(t);
  expect(await readOrder(late.token)).toMatchObject({ status: 'closed' });
  expect((await t.cloud.pay.getTransaction(`${late.id}P1`))!.trade_state).toBe('CLOSED');
  await expect(t.cloud.pay.scan('pay', late.code.codeUrl, t.openid('bob'))).rejects.toMatchObject({
    code: 'ORDER_CLOSED',
  });
});

test("the books: a Native order whose notification was lost is settled from the day's bill, which names it NATIVE and its payer", async () => {
  const day = chinaDate(t.cloud.pay.now());
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const { token, id, code } = await guestOrder([{ productId: 'beans-250g', quantity: 1 }]);
  await t.cloud.pay.scan('pay', code.codeUrl, t.openid('frank'));
  expect((await readOrder(token)).status).toBe('pending_payment');
  const bill = (await t.cloud.pay.bills.buildTradeBill(day, 'ALL'))!.bytes.toString('utf8');
  expect(bill.split('\r\n').find((line) => line.includes(`${id}P1`))).toMatch(
    new RegExp(`,\`${t.openid('frank')},\`NATIVE,\`SUCCESS,`),
  );
  // WeChat Pay's clock to the next morning, when the day's bill is served; the admin runs the day
  t.cloud.pay.setClock(chinaDayStart(day)! + (24 + 10.5) * 3600_000);
  try {
    const statement = await t.ok<StatementView>('books', { action: 'runBillDay', billDate: day }, 'admin');
    expect(statement.differences.find((d) => d.outTradeNo === `${id}P1`)).toMatchObject({
      kind: 'missing_here',
      healed: expect.any(String),
    });
    expect((await readOrder(token)).status).toBe('paid');
    const payment = (await t.cloud.engine.database().collection('payments').doc(`${id}P1`).get())
      .data as unknown as PaymentDoc;
    expect(payment).toMatchObject({ status: 'success', settledVia: 'bill', tradeType: 'NATIVE' });
  } finally {
    t.cloud.pay.simClock.reset();
  }
});

test("doors: another order's token, no token, a bad body, another method, a mini-program caller", async () => {
  const mine = await guestOrder();
  const theirs = await guestOrder([{ productId: 'croissant', quantity: 1 }]);
  const other = await http<CheckoutAnswer>('GET', '/api/order', { token: theirs.token });
  expect(other.json.order.id).toBe(theirs.id);
  expect(other.text).not.toContain(mine.id);
  expect(other.text).not.toContain(mine.code.codeUrl);
  for (const token of [undefined, `${mine.token.slice(0, 42)}x`, mine.id]) {
    expect(await http('GET', '/api/order', { ...(token ? { token } : {}) })).toMatchObject({
      status: 404,
      json: { error: { code: 'NOT_FOUND' } },
    });
  }
  expect(
    (await http('POST', '/api/orders', { body: { items: [{ productId: 'latte', quantity: 1, unitPriceFen: 1 }] } }))
      .status,
  ).toBe(400);
  expect((await http('POST', '/api/orders', { body: { items: [] } })).json).toMatchObject({
    error: { code: 'INVALID_ARGUMENT', field: 'items' },
  });
  expect((await http('PUT', '/api/orders', { body: {} })).status).toBe(405);
  expect((await http('GET', '/api/nothing')).status).toBe(404);
  expect(
    await t.cloud.call('checkout', { httpMethod: 'GET', headers: {}, path: '/api/catalog' }, 'alice'),
  ).toMatchObject({ statusCode: 403 });
});

test('an HTTP-shaped callFunction with no user, its sourceIp its own choice, is refused before any work', async () => {
  const before = (await t.cloud.engine.database().collection('orders').count()).total;
  const event = {
    httpMethod: 'POST',
    path: '/api/orders',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ productId: 'latte', quantity: 1 }] }),
    isBase64Encoded: false,
    requestContext: { sourceIp: '198.51.100.77', requestId: 'forged' },
  };
  expect(await t.cloud.call('checkout', event)).toMatchObject({ statusCode: 403 });
  expect((await t.cloud.engine.database().collection('orders').count()).total).toBe(before);
});

test('order creation takes JSON only: text/plain, form and multipart bodies from any origin are refused', async () => {
  const body = JSON.stringify({ items: [{ productId: 'latte', quantity: 1 }] });
  for (const type of [
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ])
    expect(await http('POST', '/api/orders', { headers: { 'Content-Type': type }, rawBody: body })).toMatchObject({
      status: 415,
      json: { error: { code: 'INVALID_ARGUMENT' } },
    });
});

test('unknown-token guesses write nothing per token, and reconcile deletes windows that ended', async () => {
  const rateDocs = async () => (await t.cloud.engine.database().collection('rate_limits').limit(1000).get()).data;
  const before = (await rateDocs()).filter((d) => d.scope === CHECKOUT_LIMITS.token.scope).length;
  for (let i = 0; i < 5; i++)
    expect((await http('GET', '/api/order', { token: `${'G'.repeat(42)}${i}` })).status).toBe(404);
  expect((await rateDocs()).filter((d) => d.scope === CHECKOUT_LIMITS.token.scope)).toHaveLength(before);
  expect((await rateDocs()).length).toBeGreaterThan(0);
  await t.cloud.engine
    .database()
    .collection('rate_limits')
    .add({ data: { _id: 'checkout-ip_ended_1', scope: 'checkout-ip', count: 3, endsAt: Date.now() - 60_000 } });
  await runReconcile(t);
  const left = await rateDocs();
  expect(left.map((d) => d._id)).not.toContain('checkout-ip_ended_1');
  expect(left.every((d) => (d.endsAt as number) > Date.now() - 1000)).toBe(true);
});

test('CORS only for the configured origin of a page on static hosting', async () => {
  const preflight = await http('OPTIONS', '/api/orders', {
    headers: { Origin: 'https://shop.example.com', 'Access-Control-Request-Method': 'POST' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
  expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  const stranger = await http('OPTIONS', '/api/orders', { headers: { Origin: 'https://evil.example.net' } });
  expect(stranger.status).toBe(403);
  expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  const read = await http('GET', '/api/catalog', { headers: { Origin: 'https://evil.example.net' } });
  expect(read.headers.get('access-control-allow-origin')).toBeNull();
});

test('rate limits answer 429 with Retry-After and the readable message; the page and other calls keep answering', async () => {
  for (let i = 0; i < CHECKOUT_LIMITS.create.max; i++)
    expect((await http('POST', '/api/orders', { body: { items: [{ productId: 'latte', quantity: 1 }] } })).status).toBe(
      201,
    );
  const limited = await http('POST', '/api/orders', { body: { items: [{ productId: 'latte', quantity: 1 }] } });
  expect(limited).toMatchObject({ status: 429, json: { error: { message: '请求过于频繁，请稍后再试' } } });
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(CHECKOUT_LIMITS.create.windowMs / 1000);
  expect((await http('GET', '/api/catalog')).status).toBe(200);
});

test("the client's address: the platform's sourceIp, else the last X-Forwarded-For hop (the platform proxy's own), never a forged first hop", () => {
  const event = (headers: Record<string, string>, requestContext?: unknown) => ({
    httpMethod: 'GET',
    headers,
    ...(requestContext ? { requestContext } : {}),
  });
  expect(clientOf(event({ 'x-forwarded-for': '1.1.1.1' }, { sourceIp: '203.0.113.9' }))).toEqual({ ip: '203.0.113.9' });
  expect(clientOf(event({ 'X-Forwarded-For': '6.6.6.6, 198.51.100.4' }))).toEqual({ ip: '198.51.100.4' });
  expect(clientOf(event({}))).toEqual({ ip: 'unknown' });
});
