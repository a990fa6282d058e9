/**
 * Settlement (domain/money/settlement.ts) against an in-memory store and a scripted WeChat Pay: what a successful
 * transaction does to the order and payment, every check made before anything is marked paid, and a second successful
 * payment for an order already paid (a duplicate charge) refunded in full exactly once.
 */
import { exceptionId } from '../../../cloudfunctions/common/domain/attention/exceptions';
import { duplicateChargeRefundNo, moveRefund } from '../../../cloudfunctions/common/domain/money/refunds';
import { settleByQuery, settleTransaction } from '../../../cloudfunctions/common/domain/money/settlement';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import {
  apiError,
  BUYER,
  createHarness,
  exceptions,
  expectBalanced,
  getException,
  getOrder,
  getPayment,
  getRefund,
  refundAnswer,
  refundsOfOrder,
  seedUnpaidOrder,
  successTx,
  type Harness,
} from './harness';

let h: Harness;
beforeEach(() => {
  h = createHarness({ subscribeTemplateId: 'tmpl-paid-0001' });
  // a duplicate charge's refund is accepted unless a test says otherwise
  h.wx.createRefund.fallback = (request) => refundAnswer(request, 'PROCESSING');
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

/** The buyer accepted the payment-success message while paying (payment.subscribe): only then is it sent. */
const acceptPaidMessage = (orderId: string) =>
  h.store.insert(COLLECTIONS.paySubscriptions, {
    _id: orderId,
    openid: BUYER,
    templateId: 'tmpl-paid-0001',
    status: 'accepted',
    acceptedAt: h.now(),
    updatedAt: h.now(),
  });

describe('a successful transaction', () => {
  test('pays the order (order first, then payment), claims the transaction_id, tells the buyer', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    const payment = payments[0]!;
    await acceptPaidMessage(order._id);
    expect(await settleTransaction(h.deps, successTx(payment))).toBe('paid');

    const paid = await expectBalanced(h, order._id);
    expect(paid).toMatchObject({
      status: 'paid',
      paidFen: 1990,
      refundableFen: 1990,
      refundedFen: 0,
      paidOutTradeNo: payment._id,
      transactionId: `4200${payment._id}`,
      paidAt: Date.parse('2026-03-01T10:01:00+08:00'),
    });
    expect(paid.timeline.map((e) => e.event)).toEqual(['created', 'paid']);
    expect(await getPayment(h, payment._id)).toMatchObject({
      status: 'success',
      transactionId: `4200${payment._id}`,
      paidTotalFen: 1990,
    });
    expect(await h.store.getById(COLLECTIONS.transactionClaims, `4200${payment._id}`)).toMatchObject({
      outTradeNo: payment._id,
    });
    expect(h.messages).toEqual([
      expect.objectContaining({
        touser: BUYER,
        templateId: 'tmpl-paid-0001',
        page: `pages/order/detail/index?id=${order._id}`,
      }),
    ]);
    expect(await exceptions(h)).toEqual([]);
  });

  test('a duplicate delivery changes nothing and writes nothing', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    await acceptPaidMessage(order._id);
    await settleTransaction(h.deps, successTx(payments[0]!));
    const before = { order: await getOrder(h, order._id), payment: await getPayment(h, payments[0]!._id) };
    const writes = h.engine.writeCount;
    for (let i = 0; i < 3; i++) {
      h.advance(15_000);
      expect(await settleTransaction(h.deps, successTx(payments[0]!))).toBe('duplicate');
    }
    expect(h.engine.writeCount).toBe(writes);
    expect({ order: await getOrder(h, order._id), payment: await getPayment(h, payments[0]!._id) }).toEqual(before);
    expect(h.messages).toHaveLength(1);
  });

  test('the order is paid even when only its payment update was lost: the next delivery repairs the payment', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    h.engine.injectWriteFailure(2); // the claim and the order CAS succeed, the payment CAS dies
    await expect(settleTransaction(h.deps, successTx(payments[0]!))).rejects.toThrow();
    h.engine.clearWriteFailure();
    expect(await getOrder(h, order._id)).toMatchObject({ status: 'paid', paidOutTradeNo: payments[0]!._id });
    expect(await getPayment(h, payments[0]!._id)).toMatchObject({ status: 'prepaid' });
    expect(await settleTransaction(h.deps, successTx(payments[0]!))).toBe('paid_repaired');
    expect(await getPayment(h, payments[0]!._id)).toMatchObject({ status: 'success' });
    await expectBalanced(h, order._id);
  });

  test('settleByQuery settles from WeChat Pay’s answer, and a 404 (never prepaid) changes nothing', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 990);
    h.wx.queryByOutTradeNo.answer(apiError(404, 'ORDER_NOT_EXIST'), successTx(payments[0]!));
    expect(await settleByQuery(h.deps, payments[0]!._id)).toBe('not_found');
    expect(await getOrder(h, order._id)).toMatchObject({ status: 'pending_payment' });
    expect(await settleByQuery(h.deps, payments[0]!._id)).toBe('paid');
    expect(h.wx.queryByOutTradeNo.calls).toEqual([payments[0]!._id, payments[0]!._id]);
  });
});

describe('checks before anything is marked paid', () => {
  test('a wrong amount puts the order in review with an exception; nothing is paid', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    const payment = payments[0]!;
    expect(
      await settleTransaction(h.deps, successTx(payment, { amount: { total: 1, payer_total: 1, currency: 'CNY' } })),
    ).toBe('amount_mismatch');

    const inReview = await expectBalanced(h, order._id);
    expect(inReview).toMatchObject({
      status: 'review',
      paidFen: 0,
      refundableFen: 0,
      review: { reason: 'amount_mismatch', outTradeNo: payment._id },
    });
    expect(await getPayment(h, payment._id)).toMatchObject({
      status: 'amount_mismatch',
      paidTotalFen: 1,
      transactionId: `4200${payment._id}`,
    });
    expect(await getException(h, exceptionId('amount_mismatch', payment._id))).toMatchObject({
      kind: 'amount_mismatch',
      status: 'open',
      orderId: order._id,
      expectedFen: 1990,
      actualFen: 1,
      occurrences: 1,
    });
    expect(h.messages).toEqual([]);
    // its redelivery is a duplicate: still one exception, still in review
    expect(await settleTransaction(h.deps, successTx(payment, { amount: { total: 1, currency: 'CNY' } }))).toBe(
      'duplicate',
    );
    expect(await exceptions(h)).toHaveLength(1);
    expect((await getOrder(h, order._id)).status).toBe('review');
  });

  test.each([
    ['payer', { payer: { openid: 'o-someone-else-0002' } }, /payer/],
    ['attach (another order’s transaction carried with this out_trade_no)', { attach: 'ORD-OTHER-ORDER' }, /attach/],
    ['currency', { amount: { total: 1990, currency: 'USD' } }, /currency USD/],
    ['missing transaction_id', { transaction_id: undefined }, /transaction_id/],
  ])('a %s mismatch settles nothing and opens an exception', async (_what, overrides, detail) => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    const payment = payments[0]!;
    const before = await getOrder(h, order._id);
    expect(await settleTransaction(h.deps, successTx(payment, overrides))).toBe('payment_mismatch');

    expect(await getOrder(h, order._id)).toEqual(before);
    expect(await getPayment(h, payment._id)).toMatchObject({ status: 'prepaid' });
    expect(await h.store.getById(COLLECTIONS.transactionClaims, `4200${payment._id}`)).toBeUndefined();
    const exception = await getException(h, exceptionId('payment_mismatch', payment._id));
    expect(exception).toMatchObject({
      kind: 'payment_mismatch',
      status: 'open',
      orderId: order._id,
      expectedFen: 1990,
    });
    expect(exception!.detail).toMatch(detail);
    expect(h.messages).toEqual([]);
    // the genuine transaction is still settled afterwards
    expect(await settleTransaction(h.deps, successTx(payment))).toBe('paid');
  });

  test('another merchant’s or app’s transaction is not even looked up', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 1990);
    const writes = h.engine.writeCount;
    expect(await settleTransaction(h.deps, successTx(payments[0]!, { mchid: '1900000999' }))).toBe('merchant_mismatch');
    expect(await settleTransaction(h.deps, successTx(payments[0]!, { appid: 'wx0000000000000000' }))).toBe(
      'merchant_mismatch',
    );
    expect(h.engine.writeCount).toBe(writes);
    expect((await getOrder(h, order._id)).status).toBe('pending_payment');
  });

  test('a transaction_id already claimed by another payment is refused', async () => {
    const a = await seedUnpaidOrder(h, 1990);
    const b = await seedUnpaidOrder(h, 1990);
    const paA = a.payments[0]!;
    const paB = b.payments[0]!;
    expect(await settleTransaction(h.deps, successTx(paA))).toBe('paid');
    // B's out_trade_no, B's attach, the buyer's openid: everything matches but the transaction is A's
    expect(await settleTransaction(h.deps, successTx(paB, { transaction_id: `4200${paA._id}` }))).toBe(
      'transaction_reused',
    );

    expect(await getOrder(h, b.order._id)).toMatchObject({ status: 'pending_payment', paidFen: 0 });
    expect(await getPayment(h, paB._id)).toMatchObject({ status: 'prepaid' });
    expect(await h.store.getById(COLLECTIONS.transactionClaims, `4200${paA._id}`)).toMatchObject({
      outTradeNo: paA._id,
    });
    expect(await getException(h, exceptionId('payment_mismatch', paB._id))).toMatchObject({
      status: 'open',
      transactionId: `4200${paA._id}`,
    });
    expect((await getException(h, exceptionId('payment_mismatch', paB._id)))!.detail).toMatch(
      /already settled another payment/,
    );
  });

  test('a payment this backend never made opens an exception', async () => {
    const tx = successTx({ _id: 'ORD-NEVER-MADE-P1', orderId: 'ORD-NEVER-MADE', amountFen: 500 });
    expect(await settleTransaction(h.deps, tx)).toBe('unknown_payment');
    expect(await getException(h, exceptionId('unknown_payment', 'ORD-NEVER-MADE-P1'))).toMatchObject({
      status: 'open',
      actualFen: 500,
    });
  });
});

describe('a second successful payment for an order already paid (duplicate charge)', () => {
  async function paidTwice() {
    const { order, payments } = await seedUnpaidOrder(h, 1990, 1);
    const [first, second] = [payments[0]!, payments[1]!];
    expect(await settleTransaction(h.deps, successTx(first))).toBe('paid');
    return { order, first, second };
  }

  test('is marked duplicate, opens an exception, and is refunded in full under <out_trade_no>-DUP, once across repeats', async () => {
    const { order, first, second } = await paidTwice();
    const afterFirst = await getOrder(h, order._id);
    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate_charge');

    expect(await getPayment(h, second._id)).toMatchObject({
      status: 'duplicate',
      transactionId: `4200${second._id}`,
      paidTotalFen: 1990,
    });
    expect(await getException(h, exceptionId('duplicate_charge', second._id))).toMatchObject({
      status: 'open',
      orderId: order._id,
      actualFen: 1990,
    });
    const no = duplicateChargeRefundNo(second._id);
    expect(no).toBe(`${second._id}-DUP`);
    expect(h.wx.createRefund.calls).toEqual([
      expect.objectContaining({
        out_trade_no: second._id,
        out_refund_no: no,
        amount: { refund: 1990, total: 1990, currency: 'CNY' },
      }),
    ]);
    expect(await getRefund(h, no)).toMatchObject({
      kind: 'duplicate_charge',
      orderId: order._id,
      outTradeNo: second._id,
      amountFen: 1990,
      status: 'processing',
      requestedBy: 'system',
    });

    // the order keeps its first payment, its counters untouched
    const order2 = await expectBalanced(h, order._id);
    expect(order2).toMatchObject({
      status: 'paid',
      paidOutTradeNo: first._id,
      paidFen: 1990,
      refundableFen: 1990,
      refundedFen: 0,
      refundReservations: {},
    });
    expect(order2.timeline.map((e) => e.event)).toEqual([
      ...afterFirst.timeline.map((e) => e.event),
      'duplicate_charge',
    ]);

    // WeChat Pay retries the notification; reconcile queries it: nothing new
    for (let i = 0; i < 3; i++) {
      h.advance(60_000);
      expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    }
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await refundsOfOrder(h, order._id)).toHaveLength(1);

    // its refund's success resolves the exception by itself and leaves the order's books alone
    expect(await moveRefund(h.deps, no, 'success')).toBe('settled');
    expect(await getException(h, exceptionId('duplicate_charge', second._id))).toMatchObject({
      status: 'resolved',
      resolvedBy: 'system',
    });
    expect(await expectBalanced(h, order._id)).toMatchObject({ status: 'paid', refundedFen: 0, refundableFen: 1990 });
  });

  test('concurrent deliveries of the second payment make one refund', async () => {
    const { order, second } = await paidTwice();
    const verdicts = await Promise.all([1, 2, 3, 4].map(() => settleTransaction(h.deps, successTx(second))));
    expect(verdicts).toContain('duplicate_charge');
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await refundsOfOrder(h, order._id)).toHaveLength(1);
    await expectBalanced(h, order._id);
  });

  test('a crash between marking the duplicate and recording its refund is repaired by the next delivery', async () => {
    const { order, second } = await paidTwice();
    const insert = h.store.insert.bind(h.store);
    const spy = jest.spyOn(h.store, 'insert').mockImplementation(async (collection, doc) => {
      if (collection === COLLECTIONS.refunds) throw new Error('the function died here');
      return insert(collection, doc);
    });
    await expect(settleTransaction(h.deps, successTx(second))).rejects.toThrow('the function died here');
    spy.mockRestore();
    expect(await getPayment(h, second._id)).toMatchObject({ status: 'duplicate' });
    expect(await getRefund(h, duplicateChargeRefundNo(second._id))).toBeUndefined();
    expect(h.wx.createRefund.calls).toHaveLength(0);

    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    expect(await getRefund(h, duplicateChargeRefundNo(second._id))).toMatchObject({
      kind: 'duplicate_charge',
      amountFen: 1990,
      status: 'processing',
    });
    expect(h.wx.createRefund.calls).toEqual([expect.objectContaining({ out_refund_no: `${second._id}-DUP` })]);
    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    expect(h.wx.createRefund.calls).toHaveLength(1);
    expect(await getException(h, exceptionId('duplicate_charge', second._id))).toMatchObject({ status: 'open' });
    await expectBalanced(h, order._id);
  });

  test('a crash between marking the duplicate and opening its exception: the next delivery opens it, notes it on the order and refunds', async () => {
    const { order, second } = await paidTwice();
    h.engine.failWritesTo(COLLECTIONS.exceptions, 1);
    await expect(settleTransaction(h.deps, successTx(second))).rejects.toThrow(/injected failure/);
    expect(await getPayment(h, second._id)).toMatchObject({ status: 'duplicate' });
    expect(await getException(h, exceptionId('duplicate_charge', second._id))).toBeUndefined();

    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    expect(await getException(h, exceptionId('duplicate_charge', second._id))).toMatchObject({
      status: 'open',
      actualFen: 1990,
    });
    expect((await getOrder(h, order._id)).timeline.filter((e) => e.event === 'duplicate_charge')).toHaveLength(1);
    expect(h.wx.createRefund.calls).toEqual([expect.objectContaining({ out_refund_no: `${second._id}-DUP` })]);
    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    expect((await getOrder(h, order._id)).timeline.filter((e) => e.event === 'duplicate_charge')).toHaveLength(1);
  });

  test('a duplicate charge whose refund WeChat Pay cannot answer now is kept, never dropped, and never made twice', async () => {
    const { second } = await paidTwice();
    h.wx.createRefund.answer(apiError(500, 'SYSTEM_ERROR'));
    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate_charge');
    expect(await getRefund(h, duplicateChargeRefundNo(second._id))).toMatchObject({ status: 'unknown' });
    expect(await settleTransaction(h.deps, successTx(second))).toBe('duplicate');
    expect(h.wx.createRefund.calls).toHaveLength(1);
  });
});
