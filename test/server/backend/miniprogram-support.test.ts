/**
 * What the mini-program needs from the backend beyond orders and payments (issue 12), on the local cloud: the client
 * log (rate-limited, no personal data), the payment-success message sent only to a user who accepted it, and the
 * merchant's order search.
 */
import type {
  AdminOrderView,
  ClientLogResponse,
  OrderView,
  PayResponse,
  SearchOrdersResponse,
} from '../../../typings/api';
import { CLIENT_LOG_PER_HOUR, maskMessage, quotaKey } from '../../../cloudfunctions/common/domain/attention/client-log';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

jest.setTimeout(30_000);

const TEMPLATE = 'TPL_paid_0001';
let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin', SUBSCRIBE_TEMPLATE_ID: TEMPLATE } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());

const db = () => t.cloud.engine.database();
const report = (user: string | undefined, overrides: Record<string, unknown> = {}) =>
  t.call<ClientLogResponse>(
    'clientLog',
    {
      action: 'report',
      kind: 'pay_error',
      message: 'requestPayment:fail jsapi has no permission',
      page: 'pages/order/confirm/index',
      sdkVersion: '3.7.0',
      platform: 'ios',
      elapsedMs: 420,
      ...overrides,
    },
    user,
  );

describe('clientLog', () => {
  test('an entry is kept without the openid, with long numbers masked', async () => {
    expect(
      await report('carol', {
        message: 'requestPayment:fail 订单 O7F3A9C2B1D4E5F60718 手机 13800138000 交易 4200001234202611231234567890',
      }),
    ).toEqual({ ok: true, data: { accepted: true } });
    const { data } = await db().collection('client_log').where({ page: 'pages/order/confirm/index' }).limit(10).get();
    expect(data).toEqual([
      expect.objectContaining({
        kind: 'pay_error',
        message: 'requestPayment:fail 订单 # 手机 # 交易 #',
        sdkVersion: '3.7.0',
        platform: 'ios',
        elapsedMs: 420,
      }),
    ]);
    expect(JSON.stringify(data)).not.toContain(t.openid('carol'));
    expect(maskMessage('requestPayment:fail jsapi has no permission')).toBe(
      'requestPayment:fail jsapi has no permission',
    );
  });

  test('rate-limited per user and hour: over the limit is dropped, not an error; other users are not affected', async () => {
    const results = await Promise.all(Array.from({ length: CLIENT_LOG_PER_HOUR + 5 }, () => report('dave')));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && r.data.accepted)).toHaveLength(CLIENT_LOG_PER_HOUR);
    expect(await report('erin')).toEqual({ ok: true, data: { accepted: true } });
    const quota = (
      await db()
        .collection('client_log_quota')
        .doc(quotaKey(t.openid('dave'), Math.floor(Date.now() / 3_600_000)))
        .get()
    ).data;
    expect(quota).toMatchObject({ count: CLIENT_LOG_PER_HOUR });
  });

  test('only from a logged-in user, and only the documented shape', async () => {
    expect(await report(undefined)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(await report('carol', { kind: 'other' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'kind' },
    });
    expect(await report('carol', { message: 'x'.repeat(201) })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'message' },
    });
    expect(await report('carol', { page: 'https://evil.example/' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'page' },
    });
    expect(await report('carol', { openid: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'openid' },
    });
  });
});

describe('payment-success subscribe message', () => {
  async function payOrder(user: string, accept: boolean): Promise<OrderView> {
    const order = await t.confirm(user);
    if (accept)
      expect(
        await t.ok('payment', { action: 'subscribe', orderId: order.id, templateId: TEMPLATE }, user),
      ).toMatchObject({ orderId: order.id, templateId: TEMPLATE });
    return t.payAndWait(user, order.id);
  }
  const sentFor = (orderId: string) =>
    t.cloud.wxApi.subscribeMessages.filter(
      (m) => (m.data as Record<string, { value: string }>).character_string1?.value === orderId,
    );

  test('sent once to a user who accepted it for the order', async () => {
    const order = await payOrder('frank', true);
    expect(sentFor(order.id)).toEqual([
      expect.objectContaining({
        touser: t.openid('frank'),
        templateId: TEMPLATE,
        page: `pages/order/detail/index?id=${order.id}`,
      }),
    ]);
    // confirm (a query) settles nothing new and sends nothing more
    await t.ok('payment', { action: 'confirm', orderId: order.id }, 'frank');
    expect(sentFor(order.id)).toHaveLength(1);
    expect((await db().collection('pay_subscriptions').doc(order.id).get()).data).toMatchObject({
      status: 'sent',
      openid: t.openid('frank'),
    });
  });

  test('not sent when the user did not accept it', async () => {
    const order = await payOrder('grace', false);
    expect(order.status).toBe('paid');
    expect(sentFor(order.id)).toEqual([]);
  });

  test('only the owner, only the configured template', async () => {
    const order = await t.confirm('heidi');
    expect(
      await t.call('payment', { action: 'subscribe', orderId: order.id, templateId: TEMPLATE }, 'ivan'),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(
      await t.call('payment', { action: 'subscribe', orderId: order.id, templateId: 'TPL_other' }, 'heidi'),
    ).toMatchObject({ ok: false, error: { code: 'FAILED_PRECONDITION' } });
    const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'heidi');
    await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...pay.params });
    await waitFor(
      () => t.order('heidi', order.id),
      (o) => o.status === 'paid',
    );
    expect(sentFor(order.id)).toEqual([]);
  });
});

describe('admin order search', () => {
  let paid: OrderView;
  beforeAll(async () => {
    paid = await t.payAndWait('judy', (await t.confirm('judy')).id);
  });
  const search = (query: string, user = 'admin') =>
    t.call<SearchOrdersResponse>('admin', { action: 'searchOrders', query }, user);

  test('by order number, out_trade_no, transaction_id and phone', async () => {
    const tx = await t.cloud.pay.getTransaction(`${paid.id}P1`);
    const transactionId = (tx as { transaction_id: string }).transaction_id;
    for (const [query, by] of [
      [paid.id.toLowerCase(), 'orderId'],
      [`${paid.id}P1`, 'outTradeNo'],
      [transactionId, 'transactionId'],
    ] as const) {
      const result = await search(query);
      expect(result).toMatchObject({
        ok: true,
        data: {
          matchedBy: by,
          orders: [expect.objectContaining({ id: paid.id, status: 'paid', paidFen: paid.totalFen })],
        },
      });
    }
    const byPhone = await search('138 0013 8000');
    expect(byPhone).toMatchObject({ ok: true, data: { matchedBy: 'phone' } });
    const orders = byPhone.ok ? byPhone.data.orders : [];
    expect(orders.map((o) => o.id)).toContain(paid.id);
    expect(orders.every((o) => o.contact.phone === '13800138000')).toBe(true);
    expect(orders.map((o) => o.createdAt)).toEqual([...orders.map((o) => o.createdAt)].sort((a, b) => b - a));
    expect(await search('O00000000000000000000')).toMatchObject({
      ok: true,
      data: { matchedBy: 'orderId', orders: [] },
    });
  });

  test('a query that is none of those is refused with a readable message', async () => {
    expect(await search('拿铁')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'query', message: expect.stringContaining('订单号') },
    });
  });

  test('the order with its payments and buyer; every lookup audited, the phone masked', async () => {
    const view = await t.ok<AdminOrderView>('admin', { action: 'getOrder', orderId: paid.id }, 'admin');
    expect(view).toMatchObject({
      id: paid.id,
      openid: t.openid('judy'),
      payments: [
        expect.objectContaining({
          outTradeNo: `${paid.id}P1`,
          status: 'success',
          amountFen: paid.totalFen,
          transactionId: expect.stringMatching(/^\d+$/),
        }),
      ],
    });
    const { data } = await db().collection('admin_log').where({ action: 'searchOrders' }).limit(100).get();
    expect(data.map((e) => e.target)).toContain('phone:138****8000');
    expect(JSON.stringify(data)).not.toContain('13800138000');
  });

  test('non-admins are refused before anything is read', async () => {
    expect(await search(paid.id, 'judy')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await t.call('admin', { action: 'getOrder', orderId: paid.id }, 'judy')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
  });
});

describe('product pictures on the local cloud', () => {
  test('the seed catalogue names its pictures, and the local cloud serves them (pictures are never packaged)', async () => {
    const { products } = await t.ok<{ products: { id: string; image?: string }[] }>(
      'catalog',
      { action: 'list' },
      'alice',
    );
    expect(products.find((p) => p.id === 'latte')?.image).toBe('/assets/products/latte.png');
    for (const p of products.filter((x) => x.image)) {
      const res = await fetch(`${t.cloud.urls.cloud}${p.image}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer()).subarray(0, 8)).toEqual(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      );
    }
    // a product without a picture: the mini-program shows its placeholder
    expect(products.some((p) => !p.image)).toBe(true);
  });

  test('nothing but pictures under /assets/', async () => {
    for (const path of [
      '/assets/products/nope.png',
      '/assets/../keys/keys.json',
      '/assets/%2e%2e/cloud.ts',
      '/assets/products/latte.ts',
    ]) {
      expect((await fetch(`${t.cloud.urls.cloud}${path}`)).status).toBe(404);
    }
  });
});
