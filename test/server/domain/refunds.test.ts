/**
 * Refunds (domain/money/refunds.ts) against an in-memory store and a scripted WeChat Pay: reserve on the order, then record,
 * then submit through the payment's one-minute gate; each answer taken by its documented meaning; settling through
 * the transition table with the reservation applied exactly once. After every scenario the order's money adds up:
 * paid = refundable + refunded + held.
 */
import { DomainError } from '../../../cloudfunctions/common/domain/errors';
import { exceptionId } from '../../../cloudfunctions/common/domain/attention/exceptions';
import type { OrderDoc, RefundDoc } from '../../../cloudfunctions/common/domain/records';
import {
  advanceRefund,
  createOrderRefund,
  moveRefund,
  outRefundNoFor,
  submitRefund,
  type RefundInput,
} from '../../../cloudfunctions/common/domain/money/refunds';
import { MAX_REFUNDS_PER_PAYMENT, REFUND_GAP_MS } from '../../../cloudfunctions/common/domain/refund-policy';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import {
  apiError,
  createHarness,
  exceptions,
  expectBalanced,
  getException,
  getOrder,
  getPayment,
  getRefund,
  networkError,
  refundAnswer,
  refundQueryAnswer,
  refundsOfOrder,
  seedPaidOrder,
  type Harness,
} from './harness';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

const accept =
  (status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' = 'PROCESSING') =>
  (request: Parameters<typeof refundAnswer>[0]) =>
    refundAnswer(request, status);

let requestSeq = 0;
function input(order: OrderDoc, amountFen: number, requestId = `request-${++requestSeq}`): RefundInput {
  return {
    outRefundNo: outRefundNoFor(order._id, requestId),
    amountFen,
    reason: '测试退款',
    requestedBy: 'admin',
    requestedByOpenid: 'o-admin-openid-01',
  };
}

const refundOf = async (no: string) => (await getRefund(h, no))!;
/** Reconcile's due time has come and the payment's one-minute gate is open again. */
const afterGap = () => h.advance(REFUND_GAP_MS + 1_000);

describe('creating a refund', () => {
  test('reserves on the order, then records the refund, then submits it with its own out_refund_no', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(accept());
    const refund = await createOrderRefund(h.deps, order, input(order, 1000));

    expect(refund).toMatchObject({
      kind: 'order',
      orderId: order._id,
      outTradeNo: order.paidOutTradeNo,
      amountFen: 1000,
      totalFen: 1990,
      status: 'processing',
      refundId: `5030${refund._id}`,
    });
    expect(h.wx.createRefund.calls).toEqual([
      {
        out_trade_no: order.paidOutTradeNo,
        out_refund_no: refund._id,
        reason: '测试退款',
        notify_url: h.deps.pay.config.refundNotifyUrl,
        amount: { refund: 1000, total: 1990, currency: 'CNY' },
      },
    ]);
    const reserved = await expectBalanced(h, order._id);
    expect(reserved).toMatchObject({ status: 'refunding', refundableFen: 990, refundedFen: 0 });
    expect(reserved.refundReservations[refund._id]).toMatchObject({
      amountFen: 1000,
      state: 'reserved',
      requestedBy: 'admin',
    });

    expect(await moveRefund(h.deps, refund._id, 'success')).toBe('settled');
    const settled = await expectBalanced(h, order._id);
    expect(settled).toMatchObject({ status: 'partially_refunded', refundableFen: 990, refundedFen: 1000 });
    expect(settled.refundReservations[refund._id]!.state).toBe('settled');
  });

  test('the reservation comes first: a refund beyond the balance is refused before anything is recorded or sent', async () => {
    const order = await seedPaidOrder(h, 1990);
    await expect(createOrderRefund(h.deps, order, input(order, 1991))).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await refundsOfOrder(h, order._id)).toEqual([]);
    expect(h.wx.createRefund.calls).toEqual([]);
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'paid',
      refundableFen: 1990,
      refundReservations: {},
    });
  });

  test('WeChat Pay allows 50 refunds of one payment: the 51st is refused before it is reserved or sent; a released one does not count', async () => {
    const order = await seedPaidOrder(h, 1990);
    const settled = Object.fromEntries(
      Array.from({ length: MAX_REFUNDS_PER_PAYMENT }, (_, i) => [
        `${order._id}R${i}`,
        { amountFen: 1, state: i === 0 ? 'released' : 'settled', at: h.now() },
      ]),
    );
    await h.store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id },
      { refundReservations: settled, refundableFen: 1941 },
    );
    const current = await getOrder(h, order._id);
    // 49 live: the 50th goes out
    h.wx.createRefund.answer(accept());
    await createOrderRefund(h.deps, current, input(current, 1));
    expect(h.wx.createRefund.calls).toHaveLength(1);
    const full = await getOrder(h, order._id);
    await expect(createOrderRefund(h.deps, full, input(full, 1))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(Object.keys((await getOrder(h, order._id)).refundReservations)).toHaveLength(MAX_REFUNDS_PER_PAYMENT + 1);
  });

  test('a crash after reserving, before recording: nothing is sent unreserved, and the same intent completes it once', async () => {
    const order = await seedPaidOrder(h, 1990);
    const request = input(order, 990);
    const insert = h.store.insert.bind(h.store);
    const spy = jest.spyOn(h.store, 'insert').mockImplementation(async (collection, doc) => {
      if (collection === COLLECTIONS.refunds) throw new Error('the function died here');
      return insert(collection, doc);
    });
    await expect(createOrderRefund(h.deps, order, request)).rejects.toThrow('the function died here');
    spy.mockRestore();
    expect(h.wx.createRefund.calls).toEqual([]);
    expect(await getRefund(h, request.outRefundNo)).toBeUndefined();
    const held = await expectBalanced(h, order._id);
    expect(held).toMatchObject({ status: 'refunding', refundableFen: 1000 });
    expect(held.refundReservations[request.outRefundNo]).toMatchObject({ amountFen: 990, state: 'reserved' });

    h.wx.createRefund.answer(accept());
    const refund = await createOrderRefund(h.deps, held, request);
    expect(refund.status).toBe('processing');
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundableFen: 1000 });
  });

  test('concurrent requests never reserve more than was paid', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.fallback = accept();
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() => createOrderRefund(h.deps, order, input(order, 500))),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(3);
    expect(lost.map((r) => (r.reason as DomainError).code)).toEqual(['CONFLICT', 'CONFLICT']);
    const after = await expectBalanced(h, order._id);
    expect(after).toMatchObject({ refundableFen: 490, status: 'refunding' });
    expect(Object.keys(after.refundReservations)).toHaveLength(3);
    expect(await refundsOfOrder(h, order._id)).toHaveLength(3);
    // the one-minute gate: one submission now, the others wait in the queue
    expect(h.wx.createRefund.calls).toHaveLength(1);
  });

  test('concurrent retries of one intent are one reservation, one refund, one submission', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.fallback = accept();
    const request = input(order, 500);
    const refunds = await Promise.all([1, 2, 3, 4].map(() => createOrderRefund(h.deps, order, request)));
    expect(new Set(refunds.map((r) => r._id))).toEqual(new Set([request.outRefundNo]));
    expect(h.wx.createRefund.calls).toHaveLength(1);
    const after = await expectBalanced(h, order._id);
    expect(after).toMatchObject({ refundableFen: 1490 });
    expect(Object.keys(after.refundReservations)).toEqual([request.outRefundNo]);
    // the same request id with another amount is another intent: refused
    await expect(createOrderRefund(h.deps, after, { ...request, amountFen: 10 })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});

describe('each answer to a submission, by its documented meaning', () => {
  test('403 NOT_ENOUGH: queued with its reservation, resubmitted later with the same out_refund_no', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(apiError(403, 'NOT_ENOUGH'));
    const refund = await createOrderRefund(h.deps, order, input(order, 1990));

    expect(refund).toMatchObject({ status: 'queued', attempts: 1, error: '403 NOT_ENOUGH' });
    expect(refund.nextAttemptAt).toBeGreaterThanOrEqual(h.now() + 60_000);
    expect(await expectBalanced(h, order._id)).toMatchObject({ status: 'refunding', refundableFen: 0 });
    expect(await exceptions(h)).toEqual([]);

    afterGap();
    h.wx.createRefund.answer(accept());
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('submitted');
    expect(h.wx.createRefund.calls.map((c) => [c.out_refund_no, c.amount.refund])).toEqual([
      [refund._id, 1990],
      [refund._id, 1990],
    ]);
    expect((await refundOf(refund._id)).status).toBe('processing');
    expect(await moveRefund(h.deps, refund._id, 'success')).toBe('settled');
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'refunded',
      refundedFen: 1990,
      refundableFen: 0,
    });
  });

  test('an unknown outcome (timeout) is queried; a 404 means never accepted: resubmitted under the same number', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(networkError());
    const refund = await createOrderRefund(h.deps, order, input(order, 1000));
    expect(refund.status).toBe('unknown');
    expect(await expectBalanced(h, order._id)).toMatchObject({ status: 'refunding', refundableFen: 990 });

    afterGap();
    h.wx.queryRefund.answer(apiError(404, 'RESOURCE_NOT_EXISTS'));
    h.wx.createRefund.answer(accept());
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('submitted');
    expect(h.wx.queryRefund.calls).toEqual([refund._id]);
    expect(h.wx.createRefund.calls.map((c) => c.out_refund_no)).toEqual([refund._id, refund._id]);
    expect((await refundOf(refund._id)).status).toBe('processing');
    expect(await refundsOfOrder(h, order._id)).toHaveLength(1);
    await expectBalanced(h, order._id);
  });

  test.each([
    ['429 FREQUENCY_LIMITED', apiError(429, 'FREQUENCY_LIMITED')],
    ['500 SYSTEM_ERROR', apiError(500, 'SYSTEM_ERROR')],
    ['a timeout', networkError()],
  ])('%s: held as unknown; a query that finds it SUCCESS applies it once and never resubmits', async (_what, error) => {
    // the reproduction: a 429 was released, an admin retry refunded again, the late SUCCESS was dropped
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(error);
    const request = input(order, 1000);
    const refund = await createOrderRefund(h.deps, order, request);
    expect(refund.status).toBe('unknown');
    const held = await expectBalanced(h, order._id);
    expect(held.refundReservations[refund._id]!.state).toBe('reserved');

    // an admin's retry of the same intent sends nothing new
    expect((await createOrderRefund(h.deps, held, request))._id).toBe(refund._id);
    expect(h.wx.createRefund.calls).toHaveLength(1);

    afterGap();
    h.wx.queryRefund.answer(refundQueryAnswer(refund, 'SUCCESS'));
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('settled');
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await refundOf(refund._id)).toMatchObject({
      status: 'success',
      settledAt: Date.parse('2026-03-01T10:30:00+08:00'),
    });
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'partially_refunded',
      refundedFen: 1000,
      refundableFen: 990,
    });
  });

  test('a query that fails leaves an unknown refund unknown (reservation kept, nothing resubmitted)', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(apiError(500, 'SYSTEM_ERROR'));
    const refund = await createOrderRefund(h.deps, order, input(order, 1990));
    afterGap();
    h.wx.queryRefund.answer(networkError());
    await expect(advanceRefund(h.deps, await refundOf(refund._id))).rejects.toMatchObject({
      code: 'PAYMENT_PROVIDER_ERROR',
    });
    expect(await refundOf(refund._id)).toMatchObject({ status: 'unknown', attempts: 1 });
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundableFen: 0, status: 'refunding' });
  });

  test('a 404 for a refund WeChat Pay already accepted is never taken as "not accepted"', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(accept());
    const refund = await createOrderRefund(h.deps, order, input(order, 1990));
    afterGap();
    h.wx.queryRefund.answer(apiError(404, 'RESOURCE_NOT_EXISTS'));
    await expect(advanceRefund(h.deps, await refundOf(refund._id))).rejects.toBeInstanceOf(DomainError);
    expect((await refundOf(refund._id)).status).toBe('processing');
    expect(h.wx.createRefund.calls).toHaveLength(1);
    await expectBalanced(h, order._id);
  });

  test.each([
    [400, 'INVALID_REQUEST'],
    [400, 'PARAM_ERROR'],
    [403, 'USER_ACCOUNT_ABNORMAL'],
  ])('%d %s: refused for good, released, and a person is told', async (status, code) => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.answer(apiError(status, code));
    const refund = await createOrderRefund(h.deps, order, input(order, 1000));
    expect(refund).toMatchObject({ status: 'failed', error: `${status} ${code}` });
    const released = await expectBalanced(h, order._id);
    expect(released).toMatchObject({ status: 'paid', refundableFen: 1990, refundedFen: 0 });
    expect(released.refundReservations[refund._id]!.state).toBe('released');
    expect(await getException(h, exceptionId('refund_refused', refund._id))).toMatchObject({
      status: 'open',
      orderId: order._id,
      expectedFen: 1000,
    });
  });
});

describe('settling: notifications and queries through the table', () => {
  async function processing(amountFen: number, totalFen = 1990): Promise<{ order: OrderDoc; refund: RefundDoc }> {
    const order = await seedPaidOrder(h, totalFen);
    h.wx.createRefund.answer(accept());
    const refund = await createOrderRefund(h.deps, order, input(order, amountFen));
    expect(refund.status).toBe('processing');
    return { order, refund };
  }

  test('ABNORMAL keeps the reservation and opens an exception; the SUCCESS that follows consumes it and resolves it', async () => {
    const { order, refund } = await processing(1990);
    afterGap();
    h.wx.queryRefund.answer(refundQueryAnswer(refund, 'ABNORMAL'));
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('moved');

    const abnormal = await refundOf(refund._id);
    expect(abnormal).toMatchObject({ status: 'abnormal', abnormalAt: h.now() });
    expect(abnormal.nextAttemptAt).toBeGreaterThan(h.now());
    const held = await expectBalanced(h, order._id);
    expect(held).toMatchObject({ status: 'refunding', refundableFen: 0, refundedFen: 0 });
    expect(held.refundReservations[refund._id]!.state).toBe('reserved');
    expect(await getException(h, exceptionId('abnormal_refund', refund._id))).toMatchObject({
      kind: 'abnormal_refund',
      status: 'open',
      outRefundNo: refund._id,
      expectedFen: 1990,
    });

    // the notification says ABNORMAL again: still one exception, still held
    expect(await moveRefund(h.deps, refund._id, 'abnormal')).toBe('duplicate');
    expect(await exceptions(h)).toHaveLength(1);
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundableFen: 0, refundedFen: 0 });

    // the merchant handled it; WeChat Pay reports the refund successful
    h.advance(3600_000);
    h.wx.queryRefund.answer(refundQueryAnswer(refund, 'SUCCESS'));
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('settled');
    expect(await getException(h, exceptionId('abnormal_refund', refund._id))).toMatchObject({
      status: 'resolved',
      resolvedBy: 'system',
    });
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'refunded',
      refundedFen: 1990,
      refundableFen: 0,
    });
  });

  test('CLOSED releases the reservation: the order is refundable again', async () => {
    const { order, refund } = await processing(1000);
    afterGap();
    h.wx.queryRefund.answer(refundQueryAnswer(refund, 'CLOSED'));
    expect(await advanceRefund(h.deps, await refundOf(refund._id))).toBe('settled');
    expect((await refundOf(refund._id)).status).toBe('closed');
    const released = await expectBalanced(h, order._id);
    expect(released).toMatchObject({ status: 'paid', refundableFen: 1990, refundedFen: 0 });
    expect(released.refundReservations[refund._id]!.state).toBe('released');
    // a repeat of the CLOSED notification releases nothing more
    expect(await moveRefund(h.deps, refund._id, 'closed')).toBe('duplicate');
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundableFen: 1990 });
  });

  test('a SUCCESS after CLOSED is never dropped: applied again while the balance allows', async () => {
    const { order, refund } = await processing(1000);
    expect(await moveRefund(h.deps, refund._id, 'closed')).toBe('settled');
    expect(await moveRefund(h.deps, refund._id, 'success')).toBe('settled');
    const reapplied = await expectBalanced(h, order._id);
    expect(reapplied).toMatchObject({ status: 'partially_refunded', refundableFen: 990, refundedFen: 1000 });
    expect(reapplied.refundReservations[refund._id]!.state).toBe('settled');
    expect(await moveRefund(h.deps, refund._id, 'success')).toBe('duplicate');
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundedFen: 1000 });
    expect(await exceptions(h)).toEqual([]);
  });

  test('a SUCCESS after CLOSED the balance can no longer cover: the order goes to review with a refund_unapplied exception', async () => {
    const { order, refund: first } = await processing(1990);
    expect(await moveRefund(h.deps, first._id, 'closed')).toBe('settled');
    // the whole balance is refunded again by another intent
    afterGap();
    h.wx.createRefund.answer(accept());
    const second = await createOrderRefund(h.deps, await getOrder(h, order._id), input(order, 1990));
    expect(await moveRefund(h.deps, second._id, 'success')).toBe('settled');
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'refunded',
      refundedFen: 1990,
      refundableFen: 0,
    });

    // WeChat Pay reports the first one successful after all: 3,980 fen left the merchant for a 1,990-fen order
    await moveRefund(h.deps, first._id, 'success');
    expect((await refundOf(first._id)).status).toBe('success');
    const review = await expectBalanced(h, order._id);
    expect(review).toMatchObject({
      status: 'review',
      refundedFen: 1990,
      refundableFen: 0,
      review: { reason: 'refund_unapplied' },
    });
    expect(review.refundReservations[first._id]!.state).toBe('released');
    expect(await getException(h, exceptionId('refund_unapplied', first._id))).toMatchObject({
      status: 'open',
      orderId: order._id,
      outRefundNo: first._id,
      actualFen: 1990,
    });
    // its repeat changes no money
    await moveRefund(h.deps, first._id, 'success');
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundedFen: 1990, refundableFen: 0 });
  });

  test('a repeat of the same SUCCESS notification applies once, even delivered concurrently', async () => {
    const { order, refund } = await processing(700);
    const verdicts = await Promise.all([1, 2, 3].map(() => moveRefund(h.deps, refund._id, 'success')));
    expect(verdicts.filter((v) => v === 'settled')).toHaveLength(1);
    expect(verdicts.filter((v) => v === 'duplicate')).toHaveLength(2);
    expect(await moveRefund(h.deps, refund._id, 'success')).toBe('duplicate');
    expect(await expectBalanced(h, order._id)).toMatchObject({
      status: 'partially_refunded',
      refundedFen: 700,
      refundableFen: 1290,
    });
  });

  test('a late PROCESSING or CLOSED after SUCCESS changes nothing', async () => {
    const { order, refund } = await processing(700);
    await moveRefund(h.deps, refund._id, 'success');
    expect(await moveRefund(h.deps, refund._id, 'processing')).toBe('duplicate');
    expect(await moveRefund(h.deps, refund._id, 'closed')).toBe('duplicate');
    expect((await refundOf(refund._id)).status).toBe('success');
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundedFen: 700, refundableFen: 1290 });
  });

  test('a refund this backend never made is reported, not invented', async () => {
    expect(await moveRefund(h.deps, 'NO-SUCH-REFUND', 'success')).toBe('unknown_refund');
  });
});

describe('the one-minute gate on the payment', () => {
  test('a second refund of the same payment waits a minute, then goes out', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.fallback = accept();
    const first = await createOrderRefund(h.deps, order, input(order, 500));
    expect(first.status).toBe('processing');
    expect((await getPayment(h, order.paidOutTradeNo!))!.refundGateAt).toBe(h.now() + REFUND_GAP_MS);

    h.advance(10_000);
    const second = await createOrderRefund(h.deps, await getOrder(h, order._id), input(order, 500));
    expect(second).toMatchObject({ status: 'queued', nextAttemptAt: h.now() + REFUND_GAP_MS });
    expect(h.wx.createRefund.calls).toHaveLength(1);

    // still inside the minute after the first submission
    h.advance(40_000);
    expect(await advanceRefund(h.deps, await refundOf(second._id))).toBe('unchanged');
    expect(h.wx.createRefund.calls).toHaveLength(1);

    h.advance(10_000); // exactly a minute after the first
    expect(await advanceRefund(h.deps, await refundOf(second._id))).toBe('submitted');
    expect(h.wx.createRefund.calls.map((c) => c.out_refund_no)).toEqual([first._id, second._id]);
    expect(await expectBalanced(h, order._id)).toMatchObject({ refundableFen: 990 });
  });

  test('the gate is per payment: another order’s refund goes out at once', async () => {
    const a = await seedPaidOrder(h, 1990);
    const b = await seedPaidOrder(h, 1990);
    h.wx.createRefund.fallback = accept();
    await createOrderRefund(h.deps, a, input(a, 100));
    expect((await createOrderRefund(h.deps, b, input(b, 100))).status).toBe('processing');
    expect(h.wx.createRefund.calls).toHaveLength(2);
  });

  test('submitRefund never calls WeChat Pay while the gate is shut', async () => {
    const order = await seedPaidOrder(h, 1990);
    h.wx.createRefund.fallback = accept();
    await createOrderRefund(h.deps, order, input(order, 100));
    h.advance(1_000);
    const queued = await createOrderRefund(h.deps, await getOrder(h, order._id), input(order, 100));
    for (let i = 0; i < 3; i++) {
      h.advance(15_000);
      expect(await submitRefund(h.deps, await refundOf(queued._id))).toBe('queued');
    }
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect((await refundOf(queued._id)).attempts).toBe(4);
  });
});
