/** Ending an unpaid order against a pay call that started a new payment meanwhile (in-memory store, scripted WeChat Pay). */
import { DomainError } from '../../../cloudfunctions/common/domain/errors';
import { endUnpaidOrder, pay } from '../../../cloudfunctions/common/domain/money/payments';
import { parseItems } from '../../../cloudfunctions/common/domain/orders/orders';
import { readInt } from '../../../cloudfunctions/common/domain/validate';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import {
  apiError,
  BUYER,
  createHarness,
  getOrder,
  getPayment,
  networkError,
  seedUnpaidOrder,
  successTx,
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

test('a cancel that read the order before a pay call started a new payment refuses, leaving the new payment payable', async () => {
  const { order } = await seedUnpaidOrder(h, 1990);
  h.wx.closeByOutTradeNo.answer(() => undefined);
  // a pay call moves the order to a new out_trade_no between the cancel's read and its write
  await h.store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id },
    { paymentSeq: order.paymentSeq + 1, activePaymentId: `${order._id}P2` },
  );
  expect(await endUnpaidOrder(h.deps, order, 'cancelled')).toBe('unchanged');
  expect(await getOrder(h, order._id)).toMatchObject({ status: 'pending_payment', activePaymentId: `${order._id}P2` });
});

test('with no pay call in between, the same cancel ends the order after closing its payment at WeChat Pay', async () => {
  const { order } = await seedUnpaidOrder(h, 1990);
  h.wx.closeByOutTradeNo.answer(() => undefined);
  expect(await endUnpaidOrder(h.deps, order, 'cancelled')).toBe('ended');
  expect(h.wx.closeByOutTradeNo.calls).toEqual([`${order._id}P1`]);
  expect((await getOrder(h, order._id)).status).toBe('cancelled');
});

describe('integers from an event keep their minimum', () => {
  test('readInt refuses below the minimum and accepts it', () => {
    for (const value of [0, -1, -1000])
      expect(() => readInt({ n: value }, 'n', { min: 1, max: 10 })).toThrow(/between 1 and 10/);
    expect(readInt({ n: 1 }, 'n', { min: 1, max: 10 })).toBe(1);
    expect(readInt({ n: 10 }, 'n', { min: 1, max: 10 })).toBe(10);
    expect(() => readInt({ n: 11 }, 'n', { min: 1, max: 10 })).toThrow(/between 1 and 10/);
  });

  test('a zero or negative quantity never reaches pricing: a negative line would discount the order', () => {
    for (const quantity of [0, -1])
      expect(() =>
        parseItems([
          { productId: 'latte', quantity: 2 },
          { productId: 'croissant', quantity },
        ]),
      ).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('items[1].quantity') }),
      );
  });
});

describe('the close rule: only a 404 means "never prepaid"', () => {
  test.each([
    [500, 'SYSTEM_ERROR'],
    [429, 'FREQUENCY_LIMITED'],
    [403, 'RULE_LIMIT'],
  ])(
    'a close answered %i %s leaves the order open and its payment unsettled, for reconcile to look at',
    async (status, code) => {
      const { order } = await seedUnpaidOrder(h, 1990);
      h.wx.closeByOutTradeNo.answer(apiError(status, code));
      await expect(endUnpaidOrder(h.deps, order, 'cancelled')).rejects.toBeInstanceOf(DomainError);
      expect((await getOrder(h, order._id)).status).toBe('pending_payment');
      expect((await getPayment(h, `${order._id}P1`))!.status).toBe('prepaid');
    },
  );

  test('a close answered 404 ORDER_NOT_EXIST (never prepaid) ends the order and closes the payment', async () => {
    const { order } = await seedUnpaidOrder(h, 1990);
    h.wx.closeByOutTradeNo.answer(apiError(404, 'ORDER_NOT_EXIST'));
    expect(await endUnpaidOrder(h.deps, order, 'cancelled')).toBe('ended');
    expect((await getOrder(h, order._id)).status).toBe('cancelled');
    expect((await getPayment(h, `${order._id}P1`))!.status).toBe('closed');
  });
});

describe('a close whose every answer was lost', () => {
  const loseEveryClose = async () => {
    const { order } = await seedUnpaidOrder(h, 1990);
    h.wx.closeByOutTradeNo.answer(networkError());
    await expect(endUnpaidOrder(h.deps, order, 'cancelled')).rejects.toBeInstanceOf(DomainError);
    expect((await getOrder(h, order._id)).status).toBe('pending_payment');
    h.wx.prepayJsapi.fallback = (request) => ({ prepay_id: `wx-${request.out_trade_no}` });
    return order;
  };

  test('is queried before the order is offered again: WeChat Pay closed it, so a new out_trade_no is prepaid', async () => {
    const order = await loseEveryClose();
    h.wx.queryByOutTradeNo.answer((outTradeNo) =>
      successTx({ _id: outTradeNo, orderId: order._id, amountFen: 1990 }, { trade_state: 'CLOSED' }),
    );
    const answer = await pay(h.deps, { openid: BUYER }, { action: 'pay', orderId: order._id });
    expect(h.wx.queryByOutTradeNo.calls).toEqual([`${order._id}P1`]);
    expect(answer.prepayId).toBe(`wx-${order._id}P2`);
    expect(h.wx.prepayJsapi.calls.map((c) => c.out_trade_no)).toEqual([`${order._id}P2`]);
    expect((await getPayment(h, `${order._id}P1`))!.status).toBe('closed');
  });

  test('queried NOTPAY: the close is finished before anything is offered, never the old prepay', async () => {
    const order = await loseEveryClose();
    h.wx.queryByOutTradeNo.answer((outTradeNo) =>
      successTx({ _id: outTradeNo, orderId: order._id, amountFen: 1990 }, { trade_state: 'NOTPAY' }),
    );
    h.wx.closeByOutTradeNo.answer(() => undefined);
    const answer = await pay(h.deps, { openid: BUYER }, { action: 'pay', orderId: order._id });
    expect(answer.prepayId).toBe(`wx-${order._id}P2`);
    expect(h.wx.closeByOutTradeNo.calls.at(-1)).toBe(`${order._id}P1`);
    expect((await getPayment(h, `${order._id}P1`))!.status).toBe('closed');
  });

  test('queried SUCCESS: the buyer paid meanwhile; the order is settled, not prepaid again', async () => {
    const order = await loseEveryClose();
    h.wx.queryByOutTradeNo.answer((outTradeNo) => successTx({ _id: outTradeNo, orderId: order._id, amountFen: 1990 }));
    await expect(pay(h.deps, { openid: BUYER }, { action: 'pay', orderId: order._id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(h.wx.prepayJsapi.calls).toEqual([]);
    expect((await getOrder(h, order._id)).status).toBe('paid');
  });

  test('a cancelled order is never prepaid again', async () => {
    const { order } = await seedUnpaidOrder(h, 1990);
    h.wx.closeByOutTradeNo.answer(() => undefined);
    expect(await endUnpaidOrder(h.deps, order, 'cancelled')).toBe('ended');
    await expect(pay(h.deps, { openid: BUYER }, { action: 'pay', orderId: order._id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(h.wx.prepayJsapi.calls).toEqual([]);
  });
});
