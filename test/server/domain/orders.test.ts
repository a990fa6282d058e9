/** Ending an unpaid order against a pay call that started a new payment meanwhile (in-memory store, scripted WeChat Pay). */
import { endUnpaidOrder } from '../../../cloudfunctions/common/domain/money/payments';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { createHarness, getOrder, seedUnpaidOrder, type Harness } from './harness';

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
