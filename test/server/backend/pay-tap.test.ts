/**
 * The pay tap in one call (payment.orderAndPay) on the local cloud: the order confirmed and its wx.requestPayment
 * parameters answered in one invocation, with at most one WeChat Pay call and fewer database round trips than
 * orders.confirm + payment.pay; and every guarantee of those two calls kept.
 */
import { createPublicKey } from 'node:crypto';
import type { OrderAndPayResponse, OrderView, PayResponse } from '../../../typings/api';
import { storeMetrics } from '../../../cloudfunctions/common/store/store';
import { verifySha256Rsa } from '../../../cloudfunctions/common/wechatpay';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

let seq = 0;
const tap = (requestId = `tap-${Date.now()}-${seq++}`, items = [{ productId: 'latte', quantity: 2 }]) => ({
  action: 'orderAndPay',
  requestId,
  items,
  contact: { name: '张三', phone: '13800138000' },
  remark: '少糖',
});
const prepays = async () => (await t.cloud.pay.ledger.prepays.count()).total;

test('one call: the order priced on the server and a paySign the payment sheet accepts; paid after the cashier', async () => {
  const before = await prepays();
  const answer = await t.ok<OrderAndPayResponse>('payment', tap(), 'alice');
  expect(await prepays()).toBe(before + 1);
  expect(answer.order).toMatchObject({ status: 'pending_payment', totalFen: 2 * 1990, remark: '少糖' });
  expect(answer.orderId).toBe(answer.order.id);
  expect(answer.params.package).toBe(`prepay_id=${answer.prepayId}`);
  const message = `${t.cloud.keys.appid}\n${answer.params.timeStamp}\n${answer.params.nonceStr}\n${answer.params.package}\n`;
  expect(verifySha256Rsa(message, answer.params.paySign, createPublicKey(t.cloud.keys.merchantCertificatePem))).toBe(
    true,
  );
  await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...answer.params });
  const paid = await waitFor(
    () => t.order('alice', answer.orderId),
    (o) => o.status === 'paid',
  );
  expect(paid.timeline.map((e) => e.event)).toEqual(['created', 'payment_started', 'paid']);
  expect(await t.cloud.pay.getTransaction(`${answer.orderId}P1`)).toMatchObject({
    trade_state: 'SUCCESS',
    amount: { total: 2 * 1990 },
    payer: { openid: t.openid('alice') },
  });
});

test('round trips: 5 for a new order, against 6 for orders.confirm then payment.pay (counted in the store layer)', async () => {
  let before = storeMetrics.roundTrips;
  await t.ok<OrderAndPayResponse>('payment', tap(), 'alice');
  const oneCall = storeMetrics.roundTrips - before;

  before = storeMetrics.roundTrips;
  const order = await t.confirm('alice');
  await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  const twoCalls = storeMetrics.roundTrips - before;
  // products, order insert, order CAS (payment started), payment insert, payment CAS (prepaid)
  expect({ oneCall, twoCalls }).toEqual({ oneCall: 5, twoCalls: 6 });
});

test('a double tap: one order, one out_trade_no, at most one WeChat Pay call per tap; a later tap reuses the prepay', async () => {
  const requestId = `double-${Date.now()}`;
  const before = await prepays();
  const [a, b] = await Promise.all([
    t.ok<OrderAndPayResponse>('payment', tap(requestId), 'alice'),
    t.ok<OrderAndPayResponse>('payment', tap(requestId), 'alice'),
  ]);
  expect(a.orderId).toBe(b.orderId);
  // two taps in flight at once may each prepay: WeChat Pay answers identical prepays of one out_trade_no with fresh ids
  const made = (await prepays()) - before;
  expect(made).toBeGreaterThanOrEqual(1);
  expect(made).toBeLessThanOrEqual(2);
  for (const answer of [a, b])
    expect(await t.cloud.pay.ledger.getPrepay(answer.prepayId)).toMatchObject({ out_trade_no: `${a.orderId}P1` });
  expect(await t.cloud.engine.database().collection('orders').where({ requestId }).count()).toEqual(
    expect.objectContaining({ total: 1 }),
  );
  expect(await t.cloud.engine.database().collection('payments').where({ orderId: a.orderId }).count()).toEqual(
    expect.objectContaining({ total: 1 }),
  );
  // a later tap of the same request reuses the prepay: no WeChat Pay call at all
  const settled = await prepays();
  const again = await t.ok<OrderAndPayResponse>('payment', tap(requestId), 'alice');
  expect([a.prepayId, b.prepayId]).toContain(again.prepayId);
  expect(await prepays()).toBe(settled);
});

test('the same request id for other items is refused and changes nothing', async () => {
  const requestId = `other-${Date.now()}`;
  const first = await t.ok<OrderAndPayResponse>('payment', tap(requestId), 'alice');
  const before = await prepays();
  expect(await t.call('payment', tap(requestId, [{ productId: 'croissant', quantity: 1 }]), 'alice')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT' },
  });
  expect(await prepays()).toBe(before);
  expect((await t.order('alice', first.orderId)).items.map((i) => i.productId)).toEqual(['latte']);
});

test('prices never come from the client; identity only from the context', async () => {
  expect(await t.call('payment', { ...tap(), totalFen: 1 }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'INVALID_ARGUMENT' },
  });
  expect(
    await t.call('payment', tap(undefined, [{ productId: 'latte', quantity: 1, unitPriceFen: 1 } as never]), 'alice'),
  ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'items[0].unitPriceFen' } });
  expect(await t.call('payment', tap())).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
});

test("an order paid already is not prepaid again by a repeat tap; someone else's request id makes their own order", async () => {
  const requestId = `paid-${Date.now()}`;
  const first = await t.ok<OrderAndPayResponse>('payment', tap(requestId), 'alice');
  await t.payAndWait('alice', first.orderId);
  expect(await t.call('payment', tap(requestId), 'alice')).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  const bobs = await t.ok<OrderAndPayResponse>('payment', tap(requestId), 'bob');
  expect(bobs.orderId).not.toBe(first.orderId);
  const view: OrderView = await t.order('bob', bobs.orderId);
  expect(view.status).toBe('pending_payment');
});
