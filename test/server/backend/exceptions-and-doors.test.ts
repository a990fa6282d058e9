/**
 * What a person must look at (exceptions and the admin actions on them), what a notification must prove before it
 * moves money, and who may knock on which door. Each test reproduces a defect found on the local cloud.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ExceptionView, OrderView, PayResponse } from '../../../typings/api';
import {
  createWechatPay,
  loadWechatPayConfig,
  rfc3339,
  type WechatPay,
} from '../../../cloudfunctions/common/wechatpay';
import { wechatpayEnvironment } from '../../../localcloud/env';
import { craftNotification, postNotification, transactionResource } from '../../support/notifications';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { settleRefunds } from '../../support/refunds';

jest.setTimeout(30_000);

let t: TestCloud;
/** A merchant-side client of the simulator, for what happens outside these books (another prepay, a platform refund). */
let outside: WechatPay;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  const env = wechatpayEnvironment(t.cloud.keys, {
    wechatpayBaseUrl: t.cloud.urls.wechatpay,
    wxApiBaseUrl: t.cloud.urls.wxapi,
    notifyUrl: t.cloud.urls.notifyUrl,
    refundNotifyUrl: t.cloud.urls.notifyUrl,
  });
  outside = createWechatPay(loadWechatPayConfig(env));
});
afterAll(() => t.close());
afterEach(() => {
  t.cloud.pay.faults.clear();
  t.cloud.engine.clearWriteFailure();
});

const db = () => t.cloud.engine.database();
const log = async (where: Record<string, unknown>) =>
  (await db().collection('notification_log').where(where).limit(1000).get()).data as unknown as { verdict: string }[];
const exceptionsOf = async (orderId: string) =>
  (
    await t.ok<{ exceptions: ExceptionView[] }>('admin', { action: 'listExceptions', pageSize: 50 }, 'admin')
  ).exceptions.filter((e) => e.orderId === orderId);
const cashierPay = (prepayId: string) => t.cloud.pay.cashier('pay', prepayId);

async function prepaid(user = 'alice') {
  const order = await t.confirm(user, [{ productId: 'latte', quantity: 1 }]);
  const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, user);
  return { order, pay, outTradeNo: `${order.id}P1` };
}

// ---- duplicate charges --------------------------------------------------------------------------------------------

test('a second successful payment for a paid order is refunded in full automatically, and its exception resolves itself', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  // a second payment of the same order exists and the user pays it too (the state a pay call raced into before)
  const now = Date.now();
  const second = `${order.id}P2`;
  await db()
    .collection('payments')
    .add({
      data: {
        _id: second,
        orderId: order.id,
        openid: t.openid('alice'),
        amountFen: order.totalFen,
        description: '拿铁',
        status: 'prepaid',
        timeExpire: order.expiresAt,
        refundGateAt: 0,
        nextCheckAt: now + 600_000,
        checks: 0,
        createdAt: now,
        updatedAt: now,
      },
    });
  const { prepay_id } = await outside.client.prepayJsapi({
    appid: t.cloud.keys.appid,
    description: '拿铁',
    out_trade_no: second,
    attach: order.id,
    notify_url: t.cloud.urls.notifyUrl,
    amount: { total: order.totalFen, currency: 'CNY' },
    payer: { openid: t.openid('alice') },
  });
  await cashierPay(prepay_id);
  const refunded = await waitFor(
    async () => (await t.cloud.pay.listRefunds(second))[0],
    (r) => r?.status === 'SUCCESS',
  );
  expect(refunded).toMatchObject({ _id: `${second}-DUP`, amount: { refund: order.totalFen, total: order.totalFen } });
  // the order keeps its first payment, untouched
  const after = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds.some((r) => r.status === 'success'),
  );
  expect(after).toMatchObject({
    status: 'paid',
    paidFen: order.totalFen,
    refundedFen: 0,
    refundableFen: order.totalFen,
  });
  expect(after.timeline.map((e) => e.event)).toContain('duplicate_charge');
  const [exception] = await exceptionsOf(order.id);
  expect(exception).toMatchObject({
    kind: 'duplicate_charge',
    outTradeNo: second,
    status: 'resolved',
    resolvedBy: 'system',
    actualFen: order.totalFen,
  });
  // the same notification again: nothing more refunded
  const [delivery] = await t.cloud.pay.notifier.list({ outTradeNo: second, eventType: 'TRANSACTION.SUCCESS' });
  await t.cloud.pay.notifier.replay(delivery!._id);
  expect(await t.cloud.pay.listRefunds(second)).toHaveLength(1);
  expect((await log({ outTradeNo: second, eventType: 'TRANSACTION.SUCCESS' })).map((e) => e.verdict).sort()).toEqual([
    'duplicate',
    'duplicate_charge',
  ]);
});

// ---- review orders ------------------------------------------------------------------------------------------------

/** An order whose payment WeChat Pay took at another amount than the books expected (a pricing bug, say). */
async function reviewOrder() {
  const { order, pay, outTradeNo } = await prepaid();
  await db()
    .collection('payments')
    .doc(outTradeNo)
    .update({ data: { amountFen: order.totalFen + 1 } });
  await cashierPay(pay.prepayId);
  const reviewed = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'review',
  );
  expect(reviewed).toMatchObject({ paidFen: 0, can: { requestRefund: false } });
  return { order, outTradeNo };
}

test('a review order accepted as paid at the amount WeChat Pay took; its exception resolved by the admin', async () => {
  const { order, outTradeNo } = await reviewOrder();
  const [exception] = await exceptionsOf(order.id);
  expect(exception).toMatchObject({
    kind: 'amount_mismatch',
    status: 'open',
    expectedFen: order.totalFen + 1,
    actualFen: order.totalFen,
  });
  expect(
    await t.call('admin', { action: 'acceptReview', orderId: order.id, note: '金额核对无误' }, 'alice'),
  ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  const accepted = await t.ok<OrderView>(
    'admin',
    { action: 'acceptReview', orderId: order.id, note: '金额核对无误' },
    'admin',
  );
  expect(accepted).toMatchObject({ status: 'paid', paidFen: order.totalFen, refundableFen: order.totalFen });
  expect((await exceptionsOf(order.id))[0]).toMatchObject({
    status: 'resolved',
    resolvedBy: t.openid('admin'),
    resolution: { action: 'accepted', note: '金额核对无误' },
  });
  expect((await db().collection('payments').doc(outTradeNo).get()).data).toMatchObject({ status: 'success' });
  // a second accept is refused, nothing changes
  expect(await t.call('admin', { action: 'acceptReview', orderId: order.id, note: 'again' }, 'admin')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT' },
  });
  const audit = (
    await db().collection('admin_log').where({ action: 'acceptReview', target: order.id }).orderBy('at', 'asc').get()
  ).data;
  expect(audit).toHaveLength(2);
  expect(audit).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ outcome: 'ok', note: '金额核对无误' }),
      expect.objectContaining({ outcome: 'CONFLICT' }),
    ]),
  );
});

test('a review order refunded in full: everything WeChat Pay took goes back', async () => {
  const { order, outTradeNo } = await reviewOrder();
  const request = {
    action: 'refundReview',
    orderId: order.id,
    note: '无法核对，全额退款',
    requestId: 'review-refund-01',
  };
  expect(await t.call('admin', request, 'admin')).toMatchObject({ ok: true });
  expect(await t.call('admin', request, 'admin')).toMatchObject({ ok: true }); // a retry: the same refund
  const done = await settleRefunds(t, 'alice', order.id);
  expect(done).toMatchObject({ status: 'refunded', refundedFen: order.totalFen });
  const atWechat = await t.cloud.pay.listRefunds(outTradeNo);
  expect(atWechat.map((r) => [r.status, r.amount.refund])).toEqual([['SUCCESS', order.totalFen]]);
});

// ---- a SUCCESS for a refund held as released ----------------------------------------------------------------------

function refundNotice(
  refund: { outRefundNo: string; outTradeNo: string; amountFen: number; totalFen: number },
  status = 'SUCCESS',
  mchid = t.cloud.keys.mchid,
) {
  const resource = {
    mchid,
    out_trade_no: refund.outTradeNo,
    transaction_id: `4200${Date.now()}`,
    out_refund_no: refund.outRefundNo,
    refund_id: `50${Date.now()}`,
    refund_status: status,
    success_time: rfc3339(Date.now()),
    user_received_account: '支付用户零钱',
    amount: {
      total: refund.totalFen,
      refund: refund.amountFen,
      payer_total: refund.totalFen,
      payer_refund: refund.amountFen,
    },
  };
  return craftNotification(t.cloud.keys, resource, { eventType: `REFUND.${status}`, originalType: 'refund' });
}

test('a SUCCESS arriving for a refund held as closed is applied again while the order has the balance', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'CLOSED', times: 1 });
  await t.ok(
    'admin',
    { action: 'refund', orderId: order.id, amountFen: 500, reason: '测试', requestId: 'late-success-01' },
    'admin',
  );
  const closed = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'closed',
  );
  expect(closed.refundableFen).toBe(order.totalFen);
  const r = closed.refunds[0]!;
  expect(
    (
      await postNotification(
        t.cloud.urls.notifyUrl,
        refundNotice({
          outRefundNo: r.outRefundNo,
          outTradeNo: `${order.id}P1`,
          amountFen: 500,
          totalFen: order.totalFen,
        }),
      )
    ).status,
  ).toBe(204);
  expect(await t.order('alice', order.id)).toMatchObject({
    status: 'partially_refunded',
    refundedFen: 500,
    refundableFen: order.totalFen - 500,
    refunds: [expect.objectContaining({ status: 'success' })],
  });
});

test('a SUCCESS for a released refund the order can no longer cover: order in review, exception, nothing dropped', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'CLOSED', times: 1 });
  await t.ok(
    'admin',
    { action: 'refund', orderId: order.id, amountFen: order.totalFen, reason: '测试', requestId: 'unapplied-01' },
    'admin',
  );
  const closed = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.refunds[0]?.status === 'closed',
  );
  await t.ok(
    'admin',
    { action: 'refund', orderId: order.id, amountFen: order.totalFen, reason: '再退', requestId: 'unapplied-02' },
    'admin',
  );
  await settleRefunds(t, 'alice', order.id);
  const first = closed.refunds[0]!;
  expect(
    (
      await postNotification(
        t.cloud.urls.notifyUrl,
        refundNotice({
          outRefundNo: first.outRefundNo,
          outTradeNo: `${order.id}P1`,
          amountFen: order.totalFen,
          totalFen: order.totalFen,
        }),
      )
    ).status,
  ).toBe(204);
  const reviewed = await t.order('alice', order.id);
  expect(reviewed).toMatchObject({ status: 'review', refundedFen: order.totalFen });
  expect((await exceptionsOf(order.id)).find((e) => e.kind === 'refund_unapplied')).toMatchObject({
    status: 'open',
    outRefundNo: first.outRefundNo,
    actualFen: order.totalFen,
  });
});

test('duplicate REFUND.SUCCESS notifications apply the refund once', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  await t.ok(
    'admin',
    { action: 'refund', orderId: order.id, amountFen: 300, reason: '测试', requestId: 'dup-success-01' },
    'admin',
  );
  const outRefundNo = (await t.order('alice', order.id)).refunds[0]!.outRefundNo;
  const notice = refundNotice({ outRefundNo, outTradeNo: `${order.id}P1`, amountFen: 300, totalFen: order.totalFen });
  const answers = await Promise.all(Array.from({ length: 10 }, () => postNotification(t.cloud.urls.notifyUrl, notice)));
  expect(answers.every((a) => a.status === 204)).toBe(true);
  expect(await t.order('alice', order.id)).toMatchObject({ refundedFen: 300, refundableFen: order.totalFen - 300 });
});

test('a refund notification that does not match the stored refund, or another merchant’s, changes nothing', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('alice', order.id);
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: null });
  t.cloud.pay.faults.add({ target: 'refund-outcome', kind: 'ABNORMAL', times: 1 });
  await t.ok(
    'admin',
    { action: 'refund', orderId: order.id, amountFen: 300, reason: '测试', requestId: 'mismatch-refund-01' },
    'admin',
  );
  const outRefundNo = (await t.order('alice', order.id)).refunds[0]!.outRefundNo;
  const base = { outRefundNo, outTradeNo: `${order.id}P1`, amountFen: 300, totalFen: order.totalFen };
  expect((await postNotification(t.cloud.urls.notifyUrl, refundNotice({ ...base, amountFen: 3000 }))).status).toBe(204);
  expect(
    (await postNotification(t.cloud.urls.notifyUrl, refundNotice({ ...base, outTradeNo: 'OTHERORDER00P1' }))).status,
  ).toBe(204);
  expect((await postNotification(t.cloud.urls.notifyUrl, refundNotice(base, 'SUCCESS', '1900000001'))).status).toBe(
    400,
  );
  expect((await log({ outRefundNo })).map((e) => e.verdict).sort()).toEqual([
    'merchant_mismatch',
    'refund_mismatch',
    'refund_mismatch',
  ]);
  expect(await t.order('alice', order.id)).toMatchObject({ refundedFen: 0, refundableFen: order.totalFen - 300 });
  expect((await t.order('alice', order.id)).refunds[0]!.status).not.toBe('success');
});

// ---- what a payment notification must prove ---------------------------------------------------------------------

describe('a payment notification settles only what it proves', () => {
  const cases: [
    string,
    (o: { totalFen: number; openid: string; orderId: string }) => Record<string, unknown>,
    string,
  ][] = [
    ['another payer', () => ({ payer: { openid: t.openid('mallory') } }), 'payment_mismatch'],
    [
      "another order's attach (a genuine transaction of order A carried with B's out_trade_no)",
      () => ({ attach: 'OANOTHERORDER' }),
      'payment_mismatch',
    ],
    [
      'a currency other than CNY',
      (o) => ({ amount: { total: o.totalFen, payer_total: o.totalFen, currency: 'USD', payer_currency: 'USD' } }),
      'payment_mismatch',
    ],
  ];
  test.each(cases)('%s: not paid, exception, 204', async (_name, overrides, verdict) => {
    const { order, outTradeNo } = await prepaid();
    const resource = transactionResource(
      t.cloud.keys,
      outTradeNo,
      order.totalFen,
      t.openid('alice'),
      overrides({ totalFen: order.totalFen, openid: t.openid('alice'), orderId: order.id }),
    );
    expect((await postNotification(t.cloud.urls.notifyUrl, craftNotification(t.cloud.keys, resource))).status).toBe(
      204,
    );
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
    expect((await log({ outTradeNo })).map((e) => e.verdict)).toEqual([verdict]);
    expect((await exceptionsOf(order.id)).map((e) => e.kind)).toEqual(['payment_mismatch']);
  });

  test('a transaction_id already settled on another payment is refused', async () => {
    const a = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
    await t.payAndWait('alice', a.id);
    const transactionId = (await t.cloud.pay.getTransaction(`${a.id}P1`))!.transaction_id!;
    const { order, outTradeNo } = await prepaid();
    const resource = transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice'), {
      transaction_id: transactionId,
    });
    expect((await postNotification(t.cloud.urls.notifyUrl, craftNotification(t.cloud.keys, resource))).status).toBe(
      204,
    );
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
    expect((await log({ outTradeNo })).map((e) => e.verdict)).toEqual(['transaction_reused']);
  });

  test('event types WeChat Pay does not document for this product are logged and answered 204, with no change', async () => {
    const { order, outTradeNo } = await prepaid();
    const resource = transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice'));
    for (const eventType of ['TRANSACTION.REFUND', 'PAYSCORE.USER_CONFIRM']) {
      expect(
        (await postNotification(t.cloud.urls.notifyUrl, craftNotification(t.cloud.keys, resource, { eventType })))
          .status,
      ).toBe(204);
    }
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
    expect((await log({ outTradeNo })).map((e) => e.verdict)).toEqual(['ignored_event_type', 'ignored_event_type']);
  });

  test('storage failing while settling: 500 so WeChat Pay retries, and the failure is logged', async () => {
    const { order, outTradeNo } = await prepaid();
    t.cloud.engine.failWritesTo('orders', 1); // the transaction claim succeeds, the order CAS fails once
    const notice = craftNotification(
      t.cloud.keys,
      transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
    );
    expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(500);
    t.cloud.engine.clearWriteFailure();
    expect((await log({ verdict: 'error', outTradeNo })).length).toBe(1);
    expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
    expect((await t.order('alice', order.id)).status).toBe('paid');
  });
});

// ---- doors ----------------------------------------------------------------------------------------------------------

describe('doors', () => {
  test('reconcile (a timer) refuses a mini-program user, doing nothing', async () => {
    const before = t.cloud.engine.writeCount;
    expect(await t.call('reconcile', {}, 'mallory')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(t.cloud.engine.writeCount).toBe(before);
  });

  test('payNotify refuses a callFunction (not an HTTP access event, and a user identity), logging nothing', async () => {
    const before = t.cloud.engine.writeCount;
    const { order, outTradeNo } = await prepaid();
    const afterPrepay = t.cloud.engine.writeCount;
    const notice = craftNotification(
      t.cloud.keys,
      transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
    );
    const asUser = (await t.cloud.call('payNotify', { headers: notice.headers, body: notice.body }, 'mallory')) as {
      statusCode: number;
    };
    expect(asUser.statusCode).toBe(400);
    const shaped = (await t.cloud.call(
      'payNotify',
      { httpMethod: 'POST', headers: notice.headers, body: notice.body },
      'mallory',
    )) as { statusCode: number };
    expect(shaped.statusCode).toBe(403);
    expect(t.cloud.engine.writeCount).toBe(afterPrepay);
    expect(afterPrepay).toBeGreaterThan(before);
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
  });

  test('bodies over 64 KB are answered 413 before any work: three 500 KB posts leave the log as it was', async () => {
    const before = (await db().collection('notification_log').count()).total;
    const writes = t.cloud.engine.writeCount;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(t.cloud.urls.notifyUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ junk: randomBytes(375_000).toString('base64') }),
      });
      expect(response.status).toBe(413);
    }
    expect(t.cloud.engine.writeCount).toBe(writes);
    expect((await db().collection('notification_log').count()).total).toBe(before);
  });

  test('an unauthenticated post under the limit is logged by its size, hash and first 512 bytes only', async () => {
    const body = JSON.stringify({ junk: 'x'.repeat(60_000) });
    const response = await fetch(t.cloud.urls.notifyUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Wechatpay-Serial': 'X' },
      body,
    });
    expect(response.status).toBe(401);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const [entry] = (await db().collection('notification_log').where({ sha256 }).get()).data as unknown as Record<
      string,
      unknown
    >[];
    expect(entry).toMatchObject({
      size: body.length,
      prefix: body.slice(0, 512),
      wechatpayHeaders: { 'wechatpay-serial': 'X' },
    });
    expect(JSON.stringify(entry).length).toBeLessThan(2000);
  });
});

// ---- prepay reuse ---------------------------------------------------------------------------------------------------

describe('one out_trade_no for the life of the order', () => {
  test('in the order’s last 5 minutes, 10 concurrent pay calls share one out_trade_no and close nothing', async () => {
    const { order, pay, outTradeNo } = await prepaid();
    const soon = Date.now() + 4 * 60_000;
    await db()
      .collection('orders')
      .doc(order.id)
      .update({ data: { expiresAt: soon } });
    await db()
      .collection('payments')
      .doc(outTradeNo)
      .update({ data: { prepayExpiresAt: soon } });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice')),
    );
    // the prepay_id lasts as long as the order: handed out again, not renewed ten times
    expect(new Set(results.map((r) => r.prepayId))).toEqual(new Set([pay.prepayId]));
    const atWechat = (await t.cloud.pay.listTransactions()).filter((tx) => tx._id.startsWith(order.id));
    expect(atWechat.map((tx) => [tx._id, tx.trade_state])).toEqual([[outTradeNo, 'NOTPAY']]);
  });

  test('a prepay_id that would lapse before the order is renewed on the same out_trade_no', async () => {
    const { order, pay, outTradeNo } = await prepaid();
    await db()
      .collection('payments')
      .doc(outTradeNo)
      .update({ data: { prepayExpiresAt: Date.now() + 60_000 } });
    const renewed = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
    expect(renewed.prepayId).not.toBe(pay.prepayId);
    const atWechat = (await t.cloud.pay.listTransactions()).filter((tx) => tx._id.startsWith(order.id));
    expect(atWechat.map((tx) => [tx._id, tx.trade_state])).toEqual([[outTradeNo, 'NOTPAY']]);
    await cashierPay(renewed.prepayId);
    expect(
      (
        await waitFor(
          () => t.order('alice', order.id),
          (o) => o.status === 'paid',
        )
      ).paidFen,
    ).toBe(order.totalFen);
  });

  test('the prepay carries the order’s expiry as time_expire, so WeChat Pay refuses payment after it', async () => {
    const { order, outTradeNo } = await prepaid();
    expect(Date.parse((await t.cloud.pay.getTransaction(outTradeNo))!.time_expire!)).toBe(
      Math.floor(order.expiresAt / 1000) * 1000,
    );
  });
});
