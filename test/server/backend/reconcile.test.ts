/** Reconcile: lost notifications, expired orders, provider faults and functions dying between writes. */
import type { OrderView, PayResponse } from '../../../typings/api';
import type { ReconcileSummary } from '../../../cloudfunctions/common/domain/money/reconcile';
import { makeRefundsDue, settleRefunds } from '../../support/refunds';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

jest.setTimeout(30_000);

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin', WECHATPAY_TIMEOUT_MS: '800' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());
afterEach(() => {
  t.cloud.engine.clearWriteFailure();
  t.cloud.pay.faults.clear();
});

const db = () => t.cloud.engine.database();
/** Moves records' clocks back instead of waiting: reconcile looks at payments and refunds when their next check is due. */
async function age(collection: 'payments' | 'refunds') {
  if (collection === 'payments')
    await db()
      .collection('payments')
      .where({})
      .update({ data: { nextCheckAt: 0 } });
  else await makeRefundsDue(t);
}
const reconcile = () => t.cloud.host.runTimer('reconcile') as Promise<ReconcileSummary>;

/** The order, its payments and refunds agree with the WeChat Pay simulator's ledger. */
async function expectAgreesWithLedger(orderId: string) {
  const order = await t.order('alice', orderId);
  const payments = (await db().collection('payments').where({ orderId }).get()).data as unknown as {
    _id: string;
    status: string;
  }[];
  for (const payment of payments) {
    const tx = await t.cloud.pay.getTransaction(payment._id);
    if (!tx) continue;
    const expected = {
      SUCCESS: 'success',
      REFUND: 'success',
      CLOSED: 'closed',
      NOTPAY: 'prepaid',
      PAYERROR: 'prepaid',
      USERPAYING: 'prepaid',
      REVOKED: 'closed',
    }[tx.trade_state];
    expect({ payment: payment._id, status: payment.status }).toEqual({ payment: payment._id, status: expected });
  }
  const paidAtWechat = (await Promise.all(payments.map((p) => t.cloud.pay.getTransaction(p._id)))).filter(
    (tx) => tx && ['SUCCESS', 'REFUND'].includes(tx.trade_state),
  );
  expect(order.paidFen).toBe(paidAtWechat.reduce((sum, tx) => sum + tx!.amount.total, 0));
  const refundsAtWechat = paidAtWechat.length ? await t.cloud.pay.listRefunds(paidAtWechat[0]!._id) : [];
  expect(order.refundedFen).toBe(
    refundsAtWechat.filter((r) => r.status === 'SUCCESS').reduce((sum, r) => sum + r.amount.refund, 0),
  );
  for (const refund of order.refunds) {
    const wx = refundsAtWechat.find((r) => r._id === refund.outRefundNo);
    expect({ refund: refund.outRefundNo, status: refund.status }).toEqual({
      refund: refund.outRefundNo,
      status: wx ? wx.status.toLowerCase() : 'failed',
    });
  }
  return order;
}

test('a dropped notification: reconcile settles the order', async () => {
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  await t.cloud.pay.cashier('pay', prepayId);
  await new Promise((r) => setTimeout(r, 30));
  expect((await t.order('alice', order.id)).status).toBe('pending_payment');
  await age('payments');
  const summary = await reconcile();
  expect(summary.paymentsSettled).toBeGreaterThanOrEqual(1);
  expect((await expectAgreesWithLedger(order.id)).status).toBe('paid');
});

test('an expired order: reconcile closes it (at WeChat Pay first) and a late payment attempt is refused', async () => {
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  await db()
    .collection('orders')
    .doc(order.id)
    .update({ data: { expiresAt: Date.now() - 1000, nextCheckAt: Date.now() - 1000 } });
  expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'ORDER_EXPIRED' },
  });
  const summary = await reconcile();
  expect(summary.expiredClosed).toBeGreaterThanOrEqual(1);
  expect((await t.order('alice', order.id)).status).toBe('closed');
  expect((await t.cloud.pay.getTransaction(`${order.id}P1`))!.trade_state).toBe('CLOSED');
  await expect(t.cloud.pay.cashier('pay', prepayId)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
  expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT' },
  });
  await expectAgreesWithLedger(order.id);
});

test('an expired order paid just before it expired: reconcile finds it paid instead of closing it', async () => {
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const order = await t.confirm('alice');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  await t.cloud.pay.cashier('pay', prepayId);
  await db()
    .collection('orders')
    .doc(order.id)
    .update({ data: { expiresAt: Date.now() - 1000, nextCheckAt: Date.now() - 1000 } });
  const summary = await reconcile();
  expect(summary.expiredFoundPaid).toBe(1);
  expect((await expectAgreesWithLedger(order.id)).status).toBe('paid');
});

test('two reconciles at once do no harm', async () => {
  const orders = await Promise.all([t.confirm('alice'), t.confirm('alice'), t.confirm('alice')]);
  for (const o of orders) await t.ok('payment', { action: 'pay', orderId: o.id }, 'alice');
  await db()
    .collection('orders')
    .where({ _id: db().command.in(orders.map((o) => o.id)) })
    .update({ data: { expiresAt: Date.now() - 1000, nextCheckAt: Date.now() - 1000 } });
  const [a, b] = await Promise.all([reconcile(), reconcile()]);
  expect(a.expiredClosed + b.expiredClosed).toBe(3);
  for (const o of orders) expect((await expectAgreesWithLedger(o.id)).status).toBe('closed');
});

describe('WeChat Pay faults: retried with the same numbers, nothing duplicated at WeChat Pay', () => {
  test('SYSTEM_ERROR on prepay', async () => {
    t.cloud.pay.faults.add({ target: 'prepay', kind: 'SYSTEM_ERROR', times: 2 });
    const order = await t.confirm('alice');
    expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({ ok: true });
    expect((await t.cloud.pay.listTransactions()).filter((tx) => tx._id.startsWith(order.id))).toHaveLength(1);
  });

  test('a timeout on prepay after WeChat Pay processed it', async () => {
    t.cloud.pay.faults.add({ target: 'prepay', kind: 'TIMEOUT', times: 1, delayMs: 2000 });
    const order = await t.confirm('alice');
    const result = await t.call<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
    expect(result).toMatchObject({ ok: true });
    expect(
      (await t.cloud.pay.listTransactions()).filter((tx) => tx._id.startsWith(order.id)).map((tx) => tx._id),
    ).toEqual([`${order.id}P1`]);
  });

  test('WeChat Pay down: PAYMENT_PROVIDER_ERROR, and paying later works on the same order', async () => {
    t.cloud.pay.faults.add({ target: 'prepay', kind: 'SYSTEM_ERROR', times: null });
    const order = await t.confirm('alice');
    expect(await t.call('payment', { action: 'pay', orderId: order.id }, 'alice')).toMatchObject({
      ok: false,
      error: { code: 'PAYMENT_PROVIDER_ERROR' },
    });
    t.cloud.pay.faults.clear();
    const paid = await t.payAndWait('alice', order.id);
    expect(paid.status).toBe('paid');
  });

  test('SYSTEM_ERROR and a timeout on refund: one refund at WeChat Pay', async () => {
    const order = await t.confirm('alice');
    await t.payAndWait('alice', order.id);
    t.cloud.pay.faults.add({ target: 'refund', kind: 'SYSTEM_ERROR', times: 1 });
    t.cloud.pay.faults.add({ target: 'refund', kind: 'TIMEOUT', times: 1, delayMs: 2000 });
    expect(
      await t.call(
        'admin',
        { action: 'refund', orderId: order.id, amountFen: 500, reason: '退款', requestId: 'fault-refund-01' },
        'admin',
      ),
    ).toMatchObject({ ok: true });
    await waitFor(
      () => t.order('alice', order.id),
      (o) => o.status === 'partially_refunded',
    );
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
  });

  test('refund outcome unknown (WeChat Pay unreachable): reconcile resubmits the same out_refund_no', async () => {
    const order = await t.confirm('alice');
    await t.payAndWait('alice', order.id);
    t.cloud.pay.faults.add({ target: 'refund', kind: 'SYSTEM_ERROR', times: 3 });
    // the outcome is unknown: recorded and reserved, not an error, not released
    expect(
      await t.call(
        'admin',
        { action: 'refund', orderId: order.id, amountFen: 700, reason: '退款', requestId: 'unknown-refund-01' },
        'admin',
      ),
    ).toMatchObject({
      ok: true,
      data: {
        status: 'refunding',
        refundableFen: order.totalFen - 700,
        refunds: [expect.objectContaining({ status: 'unknown' })],
      },
    });
    // reconcile queries first (404: never accepted), then resubmits the same out_refund_no
    await age('refunds');
    await reconcile();
    await waitFor(
      () => t.order('alice', order.id),
      (o) => o.status === 'partially_refunded',
    );
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
    await expectAgreesWithLedger(order.id);
  });
});

describe('a function that dies between two writes', () => {
  test('notification: dies after paying the order, before completing the payment; WeChat Pay retries and it completes', async () => {
    const order = await t.confirm('alice');
    const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
    t.cloud.engine.injectWriteFailure(1); // order CAS succeeds, payment CAS dies
    await t.cloud.pay.cashier('pay', prepayId);
    await waitFor(
      async () => (await t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` }))[0],
      (d) => (d?.attempts.length ?? 0) >= 1,
    );
    t.cloud.engine.clearWriteFailure();
    await waitFor(
      async () => (await t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` }))[0],
      (d) => d?.state === 'delivered',
    );
    const [delivery] = await t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` });
    expect(delivery!.attempts[0]!.status).toBe(500);
    expect((await expectAgreesWithLedger(order.id)).status).toBe('paid');
  });

  test('confirm dies after paying the order; with the notification lost, reconcile completes the payment', async () => {
    t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
    const order = await t.confirm('alice');
    const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
    await t.cloud.pay.cashier('pay', prepayId);
    t.cloud.engine.injectWriteFailure(1);
    expect(await t.call('payment', { action: 'confirm', orderId: order.id }, 'alice')).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL' },
    });
    t.cloud.engine.clearWriteFailure();
    const payment = (await db().collection('payments').doc(`${order.id}P1`).get()).data as unknown as {
      status: string;
    };
    expect(payment.status).toBe('prepaid');
    await age('payments');
    await reconcile();
    expect((await expectAgreesWithLedger(order.id)).status).toBe('paid');
  });

  test('refund dies after WeChat Pay accepted it (refund not marked processing), notification lost: reconcile settles it', async () => {
    const order = await t.confirm('alice');
    await t.payAndWait('alice', order.id);
    t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
    t.cloud.engine.injectWriteFailure(3); // reservation, refund insert, refund gate; the write after WeChat Pay's answer dies
    expect(
      await t.call(
        'admin',
        { action: 'refund', orderId: order.id, amountFen: 990, reason: '退款', requestId: 'crash-refund-01' },
        'admin',
      ),
    ).toMatchObject({ ok: false });
    t.cloud.engine.clearWriteFailure();
    expect((await t.order('alice', order.id)).refunds).toEqual([expect.objectContaining({ status: 'queued' })]);
    await waitFor(
      async () => (await t.cloud.pay.listRefunds(`${order.id}P1`))[0],
      (r) => r?.status === 'SUCCESS',
    );
    await age('refunds');
    await reconcile();
    const settled = await expectAgreesWithLedger(order.id);
    expect(settled).toMatchObject({ status: 'partially_refunded', refundedFen: 990 });
  });

  test('refund dies after reserving, before calling WeChat Pay: the retried call completes it once', async () => {
    const order = await t.confirm('alice');
    await t.payAndWait('alice', order.id);
    t.cloud.engine.injectWriteFailure(1); // reservation succeeds, refund insert dies
    const request = {
      action: 'refund',
      orderId: order.id,
      amountFen: 300,
      reason: '退款',
      requestId: 'crash-refund-02',
    };
    expect(await t.call('admin', request, 'admin')).toMatchObject({ ok: false });
    t.cloud.engine.clearWriteFailure();
    expect(await t.call<OrderView>('admin', request, 'admin')).toMatchObject({ ok: true });
    await waitFor(
      () => t.order('alice', order.id),
      (o) => o.status === 'partially_refunded',
    );
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
    await expectAgreesWithLedger(order.id);
  });

  test('refund dies between reserving and recording, nobody retries: reconcile records it from the reservation and submits it once', async () => {
    const order = await t.confirm('alice');
    await t.payAndWait('alice', order.id);
    t.cloud.engine.injectWriteFailure(1); // reservation succeeds, refund insert dies
    expect(
      await t.call(
        'admin',
        { action: 'refund', orderId: order.id, amountFen: 400, reason: '退款', requestId: 'crash-refund-03' },
        'admin',
      ),
    ).toMatchObject({ ok: false });
    t.cloud.engine.clearWriteFailure();
    const held = await t.order('alice', order.id);
    expect(held).toMatchObject({ status: 'refunding', refundableFen: order.totalFen - 400, refunds: [] });
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(0);
    await db()
      .collection('orders')
      .doc(order.id)
      .update({ data: { nextCheckAt: 0 } });
    expect((await reconcile()).orphanReservationsRecorded).toBe(1);
    const settled = await settleRefunds(t, 'alice', order.id);
    expect(settled).toMatchObject({
      status: 'partially_refunded',
      refundedFen: 400,
      refundableFen: order.totalFen - 400,
    });
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
    await expectAgreesWithLedger(order.id);
  });
});
