/**
 * Refunds under each of WeChat Pay's documented answers, on the local cloud. After each, the order's refunded total
 * equals what the simulator's ledger refunded, and no out_refund_no was refunded twice.
 */
import type { ExceptionView, OrderView } from '../../../typings/api';
import { createWechatPay, loadWechatPayConfig } from '../../../cloudfunctions/common/wechatpay';
import { wechatpayEnvironment } from '../../../localcloud/env';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { makeRefundsDue, runReconcile, settleRefunds } from '../../support/refunds';

jest.setTimeout(30_000);

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin', WECHATPAY_TIMEOUT_MS: '800' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
});
afterAll(() => t.close());
afterEach(() => t.cloud.pay.faults.clear());

let seq = 0;
const refund = (orderId: string, amountFen: number, requestId = `answers-${Date.now()}-${seq++}`) =>
  t.call<OrderView>('admin', { action: 'refund', orderId, amountFen, reason: '测试退款', requestId }, 'admin');

async function paidOrder(): Promise<OrderView> {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  return order;
}

/** The order agrees with WeChat Pay's ledger: refunded total, and each refund's state; nothing refunded twice. */
async function expectBooksAgree(orderId: string): Promise<OrderView> {
  const order = await t.order('alice', orderId);
  const atWechat = await t.cloud.pay.listRefunds(`${orderId}P1`);
  const succeeded = atWechat.filter((r) => r.status === 'SUCCESS');
  expect(order.refundedFen).toBe(succeeded.reduce((sum, r) => sum + r.amount.refund, 0));
  expect(new Set(atWechat.map((r) => r._id)).size).toBe(atWechat.length);
  for (const r of order.refunds) {
    const wx = atWechat.find((w) => w._id === r.outRefundNo);
    if (wx)
      expect({ no: r.outRefundNo, status: r.status }).toEqual({ no: r.outRefundNo, status: wx.status.toLowerCase() });
    else expect(['failed', 'queued']).toContain(r.status);
  }
  // the balance: paid = refundable + refunded + what is still held by open refunds
  const held = order.refunds
    .filter((r) => ['queued', 'unknown', 'processing', 'abnormal'].includes(r.status))
    .reduce((s, r) => s + r.amountFen, 0);
  expect(order.paidFen).toBe(order.refundableFen + order.refundedFen + held);
  return order;
}

const exceptions = async (kind: string) =>
  (await t.ok<{ exceptions: ExceptionView[] }>('admin', { action: 'listExceptions', kind, pageSize: 50 }, 'admin'))
    .exceptions;

test('429 FREQUENCY_LIMITED after WeChat Pay accepted it: held as unknown, queried, applied once; an admin retry is the same refund', async () => {
  // the reproduction: 1,000 of 1,990 answered 429, released, refunded again by an admin retry: 1,990 left the merchant
  const order = await t.confirm('alice', [
    { productId: 'latte', quantity: 1 },
    { productId: 'croissant', quantity: 1 },
  ]);
  await t.payAndWait('alice', order.id);
  t.cloud.pay.faults.add({ target: 'refund', kind: 'FREQUENCY_LIMITED', times: 1, phase: 'after' });
  const first = await refund(order.id, 1000, 'freq-limited-01');
  expect(first).toMatchObject({
    ok: true,
    data: {
      status: 'refunding',
      refundableFen: order.totalFen - 1000,
      refunds: [expect.objectContaining({ status: 'unknown' })],
    },
  });
  // the admin retries the same intent: the same out_refund_no, nothing new at WeChat Pay
  expect(await refund(order.id, 1000, 'freq-limited-01')).toMatchObject({
    ok: true,
    data: { refunds: [expect.anything()] },
  });
  const settled = await settleRefunds(t, 'alice', order.id);
  expect(settled).toMatchObject({
    refundedFen: 1000,
    refundableFen: order.totalFen - 1000,
    status: 'partially_refunded',
  });
  expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
  await expectBooksAgree(order.id);
});

test('429 before WeChat Pay did anything: queried (404), resubmitted with the same out_refund_no', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund', kind: 'FREQUENCY_LIMITED', times: 1 });
  const answer = await refund(order.id, 300);
  expect(answer).toMatchObject({ ok: true, data: { refunds: [expect.objectContaining({ status: 'unknown' })] } });
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  expect(await t.cloud.pay.getRefund(outRefundNo)).toBeUndefined();
  await settleRefunds(t, 'alice', order.id);
  expect((await t.cloud.pay.listRefunds(`${order.id}P1`)).map((r) => r._id)).toEqual([outRefundNo]);
  expect((await expectBooksAgree(order.id)).refundedFen).toBe(300);
});

test('403 NOT_ENOUGH: waits with its reservation and is resubmitted later with the same out_refund_no; succeeds once the balance is back', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund', kind: 'NOT_ENOUGH', times: null });
  const answer = await refund(order.id, order.totalFen);
  expect(answer).toMatchObject({
    ok: true,
    data: { status: 'refunding', refundableFen: 0, refunds: [expect.objectContaining({ status: 'queued' })] },
  });
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  // still short at the next run: still queued, still reserved, nothing at WeChat Pay
  await makeRefundsDue(t);
  await runReconcile(t);
  expect(await t.order('alice', order.id)).toMatchObject({
    refundableFen: 0,
    refunds: [expect.objectContaining({ status: 'queued' })],
  });
  expect(await t.cloud.pay.getRefund(outRefundNo)).toBeUndefined();
  // a user asking again gets nothing more than the one refund
  expect(
    await t.call(
      'orders',
      { action: 'requestRefund', orderId: order.id, reason: '再退一次', requestId: 'not-enough-again' },
      'alice',
    ),
  ).toMatchObject({ ok: false });
  t.cloud.pay.faults.clear();
  const settled = await settleRefunds(t, 'alice', order.id);
  expect(settled).toMatchObject({ status: 'refunded', refundedFen: order.totalFen });
  expect((await t.cloud.pay.listRefunds(`${order.id}P1`)).map((r) => r._id)).toEqual([outRefundNo]);
  await expectBooksAgree(order.id);
});

test('SYSTEM_ERROR on every attempt: unknown, the reservation holds; reconcile settles it once WeChat Pay answers', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund', kind: 'SYSTEM_ERROR', times: 3 });
  expect(await refund(order.id, 500)).toMatchObject({
    ok: true,
    data: { refundableFen: order.totalFen - 500, refunds: [expect.objectContaining({ status: 'unknown' })] },
  });
  await settleRefunds(t, 'alice', order.id);
  expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
  expect((await expectBooksAgree(order.id)).refundedFen).toBe(500);
});

test('a timeout after WeChat Pay processed it: unknown, then the query finds it: one refund', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund', kind: 'TIMEOUT', times: 3, delayMs: 1000 });
  // the answer never came; WeChat Pay's notification may have settled it meanwhile: either way, no error and one refund
  const answer = await refund(order.id, 400);
  expect(answer).toMatchObject({ ok: true });
  expect(['unknown', 'success', 'processing']).toContain(answer.ok && answer.data.refunds[0]!.status);
  await settleRefunds(t, 'alice', order.id);
  expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
  expect((await expectBooksAgree(order.id)).refundedFen).toBe(400);
});

test('400 INVALID_REQUEST (more than WeChat Pay still holds refundable): failed, released, and a person is told', async () => {
  const order = await paidOrder();
  // the merchant refunded 1,000 in the merchant platform, which these books never heard of
  const env = wechatpayEnvironment(t.cloud.keys, {
    wechatpayBaseUrl: t.cloud.urls.wechatpay,
    wxApiBaseUrl: t.cloud.urls.wxapi,
    notifyUrl: t.cloud.urls.notifyUrl,
    refundNotifyUrl: t.cloud.urls.notifyUrl,
  });
  const outside = createWechatPay(loadWechatPayConfig(env));
  await outside.client.createRefund({
    out_trade_no: `${order.id}P1`,
    out_refund_no: `OUTSIDE${order.id}`,
    amount: { refund: 1000, total: order.totalFen, currency: 'CNY' },
  });
  const answer = await refund(order.id, order.totalFen);
  expect(answer).toMatchObject({
    ok: true,
    data: { status: 'paid', refundableFen: order.totalFen, refunds: [expect.objectContaining({ status: 'failed' })] },
  });
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  expect((await exceptions('refund_refused')).find((e) => e.outRefundNo === outRefundNo)).toMatchObject({
    status: 'open',
    detail: expect.stringContaining('INVALID_REQUEST'),
  });
});

test('403 USER_ACCOUNT_ABNORMAL: refused for good: released, exception for the merchant to refund by other means', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund', kind: 'USER_ACCOUNT_ABNORMAL', times: 1 });
  const answer = await refund(order.id, 200);
  expect(answer).toMatchObject({
    ok: true,
    data: { status: 'paid', refundableFen: order.totalFen, refunds: [expect.objectContaining({ status: 'failed' })] },
  });
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  expect((await exceptions('refund_refused')).some((e) => e.outRefundNo === outRefundNo && e.status === 'open')).toBe(
    true,
  );
  await expectBooksAgree(order.id);
});

test('ABNORMAL is not final: the reservation holds, reconcile keeps looking, an admin applies for the abnormal refund and the SUCCESS lands', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'ABNORMAL', times: 1 });
  const answer = await refund(order.id, 600);
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  const abnormal = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'abnormal',
  );
  // held, not released: the money has left the merchant
  expect(abnormal).toMatchObject({ status: 'refunding', refundableFen: order.totalFen - 600, refundedFen: 0 });
  const [exception] = (await exceptions('abnormal_refund')).filter((e) => e.outRefundNo === outRefundNo);
  expect(exception).toMatchObject({ status: 'open', orderId: order.id, expectedFen: 600 });
  // reconcile still looks at it (and it is still ABNORMAL at WeChat Pay)
  await makeRefundsDue(t);
  expect((await runReconcile(t)).refundsChecked).toBeGreaterThanOrEqual(1);
  expect((await t.order('alice', order.id)).refunds[0]!.status).toBe('abnormal');
  // the admin sends it to the user's bank card
  const applied = await t.call<ExceptionView>(
    'admin',
    {
      action: 'applyAbnormalRefund',
      outRefundNo,
      type: 'USER_BANK_CARD',
      bankType: 'ICBC_DEBIT',
      bankAccount: '6212260000000001234',
      realName: '张三',
    },
    'admin',
  );
  expect(applied).toMatchObject({ ok: true });
  const done = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'success',
  );
  expect(done).toMatchObject({ status: 'partially_refunded', refundedFen: 600, refundableFen: order.totalFen - 600 });
  expect(await t.ok<ExceptionView>('admin', { action: 'getException', id: exception!.id }, 'admin')).toMatchObject({
    status: 'resolved',
    resolvedBy: 'system',
  });
  // the bank details never reached the database or the admin log
  const logged = JSON.stringify(
    (await t.cloud.engine.database().collection('admin_log').where({}).limit(1000).get()).data,
  );
  expect(logged).not.toContain('6212260000000001234');
  expect(logged).not.toContain('张三');
  await expectBooksAgree(order.id);
});

test('ABNORMAL handled in the merchant platform: the admin marks it handled; the later SUCCESS still settles the books', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'ABNORMAL', times: 1 });
  const answer = await refund(order.id, 700);
  const outRefundNo = answer.ok ? answer.data.refunds[0]!.outRefundNo : '';
  await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'abnormal',
  );
  expect(
    await t.call('admin', { action: 'markAbnormalHandled', outRefundNo, note: '商户平台已处理' }, 'admin'),
  ).toMatchObject({ ok: true, data: { status: 'resolved', resolution: { action: 'handled_outside' } } });
  await t.cloud.pay.settleRefund(outRefundNo, 'SUCCESS');
  const done = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'success',
  );
  expect(done.refundedFen).toBe(700);
  await expectBooksAgree(order.id);
});

test('CLOSED: final; the reservation is released', async () => {
  const order = await paidOrder();
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'CLOSED', times: 1 });
  await refund(order.id, 800);
  const closed = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'closed',
  );
  expect(closed).toMatchObject({ status: 'paid', refundableFen: order.totalFen, refundedFen: 0 });
  await expectBooksAgree(order.id);
});

test("WeChat Pay's one-minute rule: a second refund of one payment within the minute waits, then goes with its own number", async () => {
  const order = await paidOrder();
  t.cloud.pay.refundIntervalMs = 60_000;
  try {
    expect(await refund(order.id, 100)).toMatchObject({ ok: true });
    const second = await refund(order.id, 200);
    expect(second).toMatchObject({
      ok: true,
      data: { refunds: [expect.anything(), expect.objectContaining({ status: 'queued' })] },
    });
    // reconcile before the minute is up submits nothing new
    await t.cloud.engine
      .database()
      .collection('refunds')
      .where({})
      .update({ data: { nextAttemptAt: 0 } });
    await runReconcile(t);
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(1);
    // a minute later (both clocks moved on), it goes
    t.cloud.pay.advanceClock(61_000);
    await settleRefunds(t, 'alice', order.id);
    expect(await t.cloud.pay.listRefunds(`${order.id}P1`)).toHaveLength(2);
    expect((await expectBooksAgree(order.id)).refundedFen).toBe(300);
  } finally {
    t.cloud.pay.refundIntervalMs = 0;
  }
});
