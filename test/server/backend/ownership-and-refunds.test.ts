/** Only the owner touches an order; concurrent refunds never exceed what was paid. */
import type { OrderView } from '../../../typings/api';
import { settleRefunds } from '../../support/refunds';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());

test("another user's order: get, pay, confirm, cancel and refund are all refused", async () => {
  const order = await t.confirm('alice');
  const paidOrder = await t.confirm('alice');
  await t.payAndWait('alice', paidOrder.id);
  const attempts: [string, unknown][] = [
    ['orders', { action: 'get', orderId: order.id }],
    ['payment', { action: 'pay', orderId: order.id }],
    ['payment', { action: 'confirm', orderId: order.id }],
    ['orders', { action: 'cancel', orderId: order.id }],
    ['orders', { action: 'requestRefund', orderId: paidOrder.id, reason: '想退', requestId: 'mallory-refund-1' }],
  ];
  const writesBefore = t.cloud.engine.writeCount;
  for (const [fn, event] of attempts) {
    expect(await t.call(fn, event, 'mallory')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  }
  expect(
    await t.call(
      'admin',
      { action: 'refund', orderId: paidOrder.id, amountFen: 1, reason: 'x', requestId: 'mallory-admin-1' },
      'mallory',
    ),
  ).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
  // nothing written but the refused admin call's audit (a count that found no window yet, then the window's document)
  expect(t.cloud.engine.writeCount).toBe(writesBefore + 2);
  const { data: audit } = await t.cloud.engine
    .database()
    .collection('admin_log')
    .where({ admin: t.openid('mallory'), outcome: 'FORBIDDEN' })
    .get();
  expect(audit).toEqual([expect.objectContaining({ action: 'refund', count: 1 })]);
  expect((await t.order('alice', order.id)).status).toBe('pending_payment');
  expect((await t.order('alice', paidOrder.id)).status).toBe('paid');
});

test('calls without a session (no OPENID) are UNAUTHENTICATED', async () => {
  expect(await t.call('orders', { action: 'list' })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
  expect(await t.call('payment', { action: 'pay', orderId: 'O123' })).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED' },
  });
});

test('identity never comes from the event: a forged userInfo or openid field is ignored or refused', async () => {
  const order = await t.confirm('alice');
  const forged = await t.call(
    'orders',
    { action: 'get', orderId: order.id, userInfo: { openId: t.openid('alice') } },
    'mallory',
  );
  expect(forged).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  expect(
    await t.call('orders', { action: 'get', orderId: order.id, openid: t.openid('alice') }, 'mallory'),
  ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
});

test('concurrent refund requests adding up to more than was paid: the total refunded never exceeds it', async () => {
  const order = await t.confirm('alice', [{ productId: 'beans-250g', quantity: 1 }]); // 6800 fen
  await t.payAndWait('alice', order.id);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      t.call<OrderView>(
        'admin',
        { action: 'refund', orderId: order.id, amountFen: 2000, reason: '并发退款', requestId: `concurrent-${i}-xyz` },
        'admin',
      ),
    ),
  );
  expect(results.filter((r) => r.ok)).toHaveLength(3);
  for (const r of results) if (!r.ok) expect(r.error.code).toBe('CONFLICT');
  // one refund goes now; the others wait for WeChat Pay's one-minute gate between refunds of one payment
  const settled = await settleRefunds(t, 'alice', order.id);
  expect(settled).toMatchObject({ status: 'partially_refunded', refundedFen: 6000, refundableFen: 800 });
  const atWechat = await t.cloud.pay.listRefunds(`${order.id}P1`);
  expect(atWechat.reduce((sum, r) => sum + r.amount.refund, 0)).toBe(6000);
  // a user's full-refund request is no longer allowed once partially refunded
  expect(
    await t.call(
      'orders',
      { action: 'requestRefund', orderId: order.id, reason: '退', requestId: 'late-user-refund' },
      'alice',
    ),
  ).toMatchObject({
    ok: false,
    error: { code: 'FAILED_PRECONDITION' },
  });
});

test('concurrent user refund requests with different request ids: one full refund', async () => {
  const order = await t.confirm('alice');
  await t.payAndWait('alice', order.id);
  const results = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      t.call<OrderView>(
        'orders',
        { action: 'requestRefund', orderId: order.id, reason: '退款', requestId: `user-refund-${i}-abc` },
        'alice',
      ),
    ),
  );
  expect(results.filter((r) => r.ok)).toHaveLength(1);
  const done = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'refunded',
  );
  expect(done.refundedFen).toBe(order.totalFen);
});

test('refund policy: a service order may be refunded by its user only before the cutoff', async () => {
  const order = await t.confirm('alice', [{ productId: 'class-latte-art', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  expect((await t.order('alice', order.id)).can.requestRefund).toBe(true);
  // the class starts in 30 minutes: inside the 60-minute cutoff
  await t.cloud.engine
    .database()
    .collection('orders')
    .doc(order.id)
    .update({ data: { serviceStartsAt: Date.now() + 30 * 60_000 } });
  expect((await t.order('alice', order.id)).can.requestRefund).toBe(false);
  expect(
    await t.call(
      'orders',
      { action: 'requestRefund', orderId: order.id, reason: '有事', requestId: 'class-refund-01' },
      'alice',
    ),
  ).toMatchObject({
    ok: false,
    error: { code: 'FAILED_PRECONDITION' },
  });
  // an admin still can
  expect(
    await t.call(
      'admin',
      { action: 'refund', orderId: order.id, amountFen: 19900, reason: '特殊情况', requestId: 'class-admin-01' },
      'admin',
    ),
  ).toMatchObject({ ok: true });
});
