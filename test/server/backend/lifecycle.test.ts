/** The whole money path on the local cloud: login, confirm, pay, cashier, notification, paid; refunds. */
import type { CatalogListResponse, OrderView, PayResponse, Profile } from '../../../typings/api';
import { verifySha256Rsa } from '../../../cloudfunctions/common/wechatpay';
import { createPublicKey } from 'node:crypto';
import { settleRefunds } from '../../support/refunds';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin', SUBSCRIBE_TEMPLATE_ID: 'TPL_paid_0001' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());

test('login: a wx.login code becomes a profile; session_key stays on the server', async () => {
  const { code } = t.cloud.wxApi.login('alice');
  const profile = await t.ok<Profile>('login', { code }, 'alice');
  expect(profile).toMatchObject({ openid: t.openid('alice'), isAdmin: false });
  expect(JSON.stringify(profile)).not.toMatch(/session/i);
  const stored = (await t.cloud.engine.database().collection('users').doc(t.openid('alice')).get()).data!;
  expect(stored.sessionKey).toEqual(expect.any(String));
  // the same code twice: 40163; an unknown code: 40029; a code for someone else than the caller
  expect(await t.call('login', { code }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('已被使用') },
  });
  expect(await t.call('login', { code: 'nope' }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED' },
  });
  const bobs = t.cloud.wxApi.login('bob');
  expect(await t.call('login', { code: bobs.code }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED' },
  });
  const admin = t.cloud.wxApi.login('admin');
  expect(await t.ok<Profile>('login', { code: admin.code }, 'admin')).toMatchObject({ isAdmin: true });
});

test('catalogue: seeded products on sale, prices in fen', async () => {
  const { products } = await t.ok<CatalogListResponse>('catalog', { action: 'list' }, 'alice');
  expect(products.map((p) => p.id)).toContain('latte');
  expect(products.map((p) => p.id)).not.toContain('mooncake-gift');
  expect(products.find((p) => p.id === 'latte')).toMatchObject({ priceFen: 1990 });
});

test('confirm prices on the server; a double tap makes one order', async () => {
  const requestId = 'double-tap-0001';
  const [a, b] = await Promise.all([
    t.confirm(
      'alice',
      [
        { productId: 'latte', quantity: 2 },
        { productId: 'croissant', quantity: 1 },
      ],
      requestId,
    ),
    t.confirm(
      'alice',
      [
        { productId: 'latte', quantity: 2 },
        { productId: 'croissant', quantity: 1 },
      ],
      requestId,
    ),
  ]);
  expect(a.id).toBe(b.id);
  expect(a).toMatchObject({
    status: 'pending_payment',
    totalFen: 2 * 1990 + 1200,
    can: { pay: true, cancel: true, requestRefund: false },
  });
  expect(a.expiresAt - a.createdAt).toBe(30 * 60 * 1000);
  expect(await t.cloud.engine.database().collection('orders').where({ requestId }).count()).toEqual(
    expect.objectContaining({ total: 1 }),
  );
});

test('pay → cashier → notification → paid, with paySign verifiable by the merchant certificate', async () => {
  const order = await t.confirm('alice');
  const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  expect(pay.params).toMatchObject({
    package: `prepay_id=${pay.prepayId}`,
    signType: 'RSA',
    timeStamp: expect.stringMatching(/^\d{10}$/),
  });
  const message = `${t.cloud.keys.appid}\n${pay.params.timeStamp}\n${pay.params.nonceStr}\n${pay.params.package}\n`;
  expect(verifySha256Rsa(message, pay.params.paySign, createPublicKey(t.cloud.keys.merchantCertificatePem))).toBe(true);
  // paying again while the prepay is valid reuses it
  expect((await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice')).prepayId).toBe(
    pay.prepayId,
  );
  // the payment-success message: accepted in the pay tap (wx.requestSubscribeMessage), so it is sent
  await t.ok('payment', { action: 'subscribe', orderId: order.id, templateId: 'TPL_paid_0001' }, 'alice');
  await t.cloud.pay.cashier('pay', pay.prepayId);
  const paid = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'paid',
  );
  expect(paid).toMatchObject({
    paidFen: order.totalFen,
    refundableFen: order.totalFen,
    can: { pay: false, cancel: false, requestRefund: true },
  });
  expect(paid.timeline.map((e) => e.event)).toEqual(['created', 'payment_started', 'paid']);
  const tx = await t.cloud.pay.getTransaction(`${order.id}P1`);
  expect(tx).toMatchObject({
    trade_state: 'SUCCESS',
    attach: order.id,
    amount: { total: order.totalFen },
    payer: { openid: t.openid('alice') },
  });
  expect(t.cloud.wxApi.subscribeMessages).toContainEqual(
    expect.objectContaining({ touser: t.openid('alice'), templateId: 'TPL_paid_0001' }),
  );
  expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT' },
  });
});

test('user refund: full, PROCESSING then SUCCESS by notification; order refunded', async () => {
  const order = await t.confirm('alice');
  await t.payAndWait('alice', order.id);
  const requested = await t.ok<OrderView>(
    'orders',
    { action: 'requestRefund', orderId: order.id, reason: '不想要了', requestId: 'refund-req-0001' },
    'alice',
  );
  expect(requested.status).toBe('refunding');
  expect(requested.refunds).toEqual([expect.objectContaining({ amountFen: order.totalFen, requestedBy: 'user' })]);
  const refunded = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'refunded',
  );
  expect(refunded).toMatchObject({
    refundedFen: order.totalFen,
    refundableFen: 0,
    refunds: [expect.objectContaining({ status: 'success' })],
  });
  // the same request again is the same refund
  await t.ok(
    'orders',
    { action: 'requestRefund', orderId: order.id, reason: '不想要了', requestId: 'refund-req-0001' },
    'alice',
  );
  expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
});

test('admin partial refunds: partially refunded, then refunded; never more than paid', async () => {
  const order = await t.confirm('alice', [{ productId: 'beans-250g', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  const refund = (amountFen: number, requestId: string) =>
    t.call<OrderView>(
      'admin',
      { action: 'refund', orderId: order.id, amountFen, reason: '部分退款', requestId },
      'admin',
    );
  expect(await refund(1800, 'admin-refund-01')).toMatchObject({ ok: true });
  await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'partially_refunded',
  );
  expect(await refund(5001, 'admin-refund-02')).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  // a second refund of one payment within a minute waits for WeChat Pay's one-minute gate: queued, not refused
  const second = await refund(5000, 'admin-refund-03');
  expect(second).toMatchObject({
    ok: true,
    data: { status: 'refunding', refunds: [expect.anything(), expect.objectContaining({ status: 'queued' })] },
  });
  const done = await settleRefunds(t, 'alice', order.id);
  expect(done).toMatchObject({ refundedFen: 6800, refundableFen: 0 });
  expect(
    await t.call(
      'admin',
      { action: 'refund', orderId: order.id, amountFen: 1, reason: 'x', requestId: 'admin-refund-04' },
      'alice',
    ),
  ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
});

test('cancel an unpaid order: closed at WeChat Pay first', async () => {
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  expect(await t.ok<OrderView>('orders', { action: 'cancel', orderId: order.id }, 'alice')).toMatchObject({
    status: 'cancelled',
    can: { pay: false },
  });
  expect((await t.cloud.pay.getTransaction(`${order.id}P1`))!.trade_state).toBe('CLOSED');
  await expect(t.cloud.pay.cashier('pay', prepayId)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
  expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT' },
  });
});

test('list: by status, newest first, paginated, owner only', async () => {
  for (let i = 0; i < 3; i++) await t.confirm('carol');
  const page1 = await t.ok<{ orders: OrderView[]; hasMore: boolean; nextCursor?: string }>(
    'orders',
    { action: 'list', pageSize: 2 },
    'carol',
  );
  expect(page1.orders).toHaveLength(2);
  expect(page1.hasMore).toBe(true);
  expect(page1.orders[0]!.createdAt).toBeGreaterThanOrEqual(page1.orders[1]!.createdAt);
  const page2 = await t.ok<{ orders: OrderView[]; hasMore: boolean }>(
    'orders',
    { action: 'list', pageSize: 2, cursor: page1.nextCursor },
    'carol',
  );
  expect(page2).toMatchObject({ hasMore: false, orders: [expect.anything()] });
  expect(page2).not.toHaveProperty('nextCursor');
  expect(page1.orders.map((o) => o.id)).not.toContain(page2.orders[0]!.id);
  const pending = await t.ok<{ orders: OrderView[] }>('orders', { action: 'list', status: 'pending_payment' }, 'carol');
  expect(pending.orders.every((o) => o.status === 'pending_payment')).toBe(true);
  expect((await t.ok<{ orders: OrderView[] }>('orders', { action: 'list' }, 'dave')).orders).toHaveLength(0);
});

test('concurrent pay calls on one order: one out_trade_no at WeChat Pay, so it can be paid only once', async () => {
  // slow payment writes: the pay call that lost the race reads the order before the winner's payment exists
  t.cloud.engine.delayWrites('payments', 30);
  for (let round = 0; round < 3; round++) {
    const order = await t.confirm('alice');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice')),
    );
    expect(results).toHaveLength(6);
    const atWechat = (await t.cloud.pay.listTransactions()).filter((tx) => tx._id.startsWith(order.id));
    expect(atWechat.map((tx) => tx._id)).toEqual([`${order.id}P1`]);
    const payments = (await t.cloud.engine.database().collection('payments').where({ orderId: order.id }).get()).data;
    expect(payments.map((p) => p._id)).toEqual([`${order.id}P1`]);
  }
  t.cloud.engine.delayWrites('payments', 0);
});
