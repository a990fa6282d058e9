/**
 * The buyer's side of fulfilment (issue 20): progress on the list and the detail (制作中, 待取餐 with the pickup code, 已发货 with the tracking number, 服务中, 已完成, with times), 确认收货 through WeChat's component for
 * trade-managed orders (and straight to the backend otherwise), 售后申请 with a reason, and 我已付款但显示未付.
 */
import type { FulfilmentView, OrderView } from '../../typings/api';
import { formatTime } from '../../miniprogram/utils/time';
import {
  FakeBackend,
  fail,
  flush,
  loadComponent,
  renderPage,
  resetClient,
  tap,
  text,
  until,
  type Rendered,
} from './harness';
import { NOW, MIN, orderView, paidOrder } from './fixtures';

const can = { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false };
const fulfilment = (f: Partial<FulfilmentView>): FulfilmentView => ({
  kind: 'pickup',
  state: 'awaiting',
  at: NOW + 2 * MIN,
  steps: [],
  ...f,
});

let detailId: string;
let listId: string;
beforeAll(() => {
  detailId = loadComponent('pages/order/detail/index');
  listId = loadComponent('pages/mine/orders/index');
});

let backend: FakeBackend;
let client: ReturnType<typeof resetClient>;
let current: OrderView;
beforeEach(() => {
  current = paidOrder();
  backend = new FakeBackend().on('orders.get', () => current);
  client = resetClient(backend, { mode: 'local' });
});

async function detail(order: OrderView): Promise<Rendered> {
  current = order;
  const page = renderPage(detailId);
  page.instance.onLoad({ id: order.id });
  await until(() => !page.instance.data.loading);
  await flush(10);
  return page;
}

test('pickup, made: 制作中 with its time; ready: the pickup code large', async () => {
  const making = await detail(
    paidOrder({ fulfilment: fulfilment({ state: 'accepted', at: NOW + 5 * MIN, staffName: '小王' }) }),
  );
  expect(text(making)).toContain('制作中');
  expect(text(making)).toContain(formatTime(NOW + 5 * MIN));
  expect(text(making)).toContain('小王');
  expect(making.querySelector('.pickup')).toBeFalsy();

  const ready = await detail(
    paidOrder({
      fulfilment: fulfilment({
        state: 'ready',
        pickupCode: '4821',
        steps: [
          { state: 'accepted', at: NOW + 5 * MIN, by: '小王' },
          { state: 'ready', at: NOW + 9 * MIN },
        ],
      }),
    }),
  );
  expect(text(ready)).toContain('待取餐');
  expect(ready.querySelector('.pickup__code')!.dom.textContent).toBe('4821');
  expect(text(ready)).toContain('制作中 · 小王');
});

test('shipped: the express company and tracking number, copyable; 确认收货 without trade management goes to the backend', async () => {
  const shipped = paidOrder({
    fulfilment: fulfilment({
      kind: 'shipping',
      state: 'shipped',
      shipping: { expressCompany: 'SF', expressName: '顺丰速运', trackingNo: 'SF1234567890' },
    }),
    can: { ...can, confirmReceipt: true, requestAfterSale: true },
  });
  backend.on('orders.confirmReceipt', () =>
    paidOrder({ fulfilment: fulfilment({ kind: 'shipping', state: 'received', receivedBy: 'buyer' }), can }),
  );
  const page = await detail(shipped);
  expect(text(page)).toContain('已发货');
  expect(text(page)).toContain('顺丰速运 SF1234567890');
  await tap(page, '.detail__shipping .detail__copy');
  expect(client.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: 'SF1234567890' }));
  await tap(page, '.detail__receipt');
  await until(() => backend.count('orders.confirmReceipt') === 1);
  await flush(5);
  expect(text(page)).toContain('你已确认收货');
  expect(page.querySelector('.detail__receipt')).toBeFalsy();
});

test.each([
  ['success', 1],
  ['cancel', 0],
  ['fail', 0],
])("a trade-managed order is confirmed in WeChat's component (status %s → %d backend call)", async (status, calls) => {
  const open = jest.fn((o: { extraData: unknown; success(r: unknown): void }) =>
    o.success({ errMsg: 'openBusinessView:ok', extraData: { status } }),
  );
  (globalThis as unknown as { wx: Record<string, unknown> }).wx.openBusinessView = open;
  backend.on('orders.confirmReceipt', () =>
    paidOrder({ fulfilment: fulfilment({ kind: 'shipping', state: 'received', receivedBy: 'wechat_buyer' }), can }),
  );
  const page = await detail(
    paidOrder({
      fulfilment: fulfilment({
        kind: 'shipping',
        state: 'shipped',
        receiptComponent: {
          merchantId: '1900000109',
          merchantTradeNo: 'O1234567890ABCDEF1234P1',
          transactionId: '4200001',
        },
      }),
      can: { ...can, confirmReceipt: true },
    }),
  );
  await tap(page, '.detail__receipt');
  await flush(10);
  expect(open).toHaveBeenCalledWith(
    expect.objectContaining({
      businessType: 'weappOrderConfirm',
      extraData: { merchant_id: '1900000109', merchant_trade_no: 'O1234567890ABCDEF1234P1', transaction_id: '4200001' },
    }),
  );
  expect(backend.count('orders.confirmReceipt')).toBe(calls);
  if (status === 'fail') expect(client.showToast).toHaveBeenCalledWith(expect.objectContaining({ icon: 'none' }));
});

test('售后申请: a reason is required; the request carries it and its request id; the answer is shown', async () => {
  backend.on('orders.requestAfterSale', (e) =>
    paidOrder({
      fulfilment: fulfilment({ state: 'accepted' }),
      afterSale: { status: 'requested', reason: String(e.reason), at: NOW + 20 * MIN },
      can,
    }),
  );
  const page = await detail(
    paidOrder({ fulfilment: fulfilment({ state: 'accepted' }), can: { ...can, requestAfterSale: true } }),
  );
  expect(page.querySelector('.detail__refund-button')).toBeFalsy();
  await tap(page, '.detail__after-sale-button');
  expect(page.instance.data.afterSaleVisible).toBe(true);
  await page.instance.onSubmitAfterSale();
  expect(backend.count('orders.requestAfterSale')).toBe(0);
  page.instance.onAfterSaleReason({ detail: { value: '做错了口味' } });
  await page.instance.onSubmitAfterSale();
  const [sent] = backend.of('orders.requestAfterSale');
  expect(sent).toMatchObject({ orderId: current.id, reason: '做错了口味' });
  expect(String(sent!.requestId)).toMatch(/^after-sale-/);
  expect(text(page)).toContain('售后申请处理中');
});

test('service: 服务中 with the staff member; completed: 已完成', async () => {
  const serving = await detail(
    paidOrder({ fulfilment: fulfilment({ kind: 'service', state: 'in_service', staffName: '李老师' }) }),
  );
  expect(text(serving)).toContain('服务中');
  expect(text(serving)).toContain('李老师');
  const done = await detail(paidOrder({ fulfilment: fulfilment({ kind: 'service', state: 'completed' }) }));
  expect(text(done)).toContain('已完成');
});

test('我已付款但显示未付: the backend queries WeChat Pay now and the page says what it answered', async () => {
  const unpaid = orderView({ expiresAt: Date.now() + 10 * MIN });
  backend.on('payment.confirm', () => unpaid);
  const page = await detail(unpaid);
  await tap(page, '.detail__paid-claim');
  await until(() => backend.count('payment.confirm') === 1);
  await flush(5);
  expect(client.showToast).toHaveBeenCalledWith(
    expect.objectContaining({ title: expect.stringContaining('暂未收到') }),
  );
  backend.on('payment.confirm', () => paidOrder());
  await tap(page, '.detail__paid-claim');
  await until(() => backend.count('payment.confirm') === 2);
  await flush(5);
  expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '已确认付款' }));
  expect(page.querySelector('.detail__paid-claim')).toBeFalsy();
});

test('the list shows the fulfilment state with its time in place of 已付款', async () => {
  backend.on('orders.list', () => ({
    orders: [
      paidOrder({ id: 'O000', fulfilment: fulfilment({ state: 'ready', at: NOW + 9 * MIN }) }),
      paidOrder({ id: 'O001' }),
      orderView({ id: 'O002', status: 'refunded', fulfilment: fulfilment({ state: 'accepted' }), can }),
    ],
    page: 1,
    hasMore: false,
  }));
  const page = renderPage(listId);
  page.instance.onLoad({});
  await until(() => page.instance.data.orders.length === 3);
  await flush(5);
  const cards = page.querySelectorAll('.order-card');
  expect(cards[0]!.dom.textContent).toContain('待取餐');
  expect(cards[0]!.dom.textContent).toContain(formatTime(NOW + 9 * MIN));
  expect(cards[1]!.dom.textContent).toContain('已付款');
  // refunded: the money's state, not the kitchen's
  expect(cards[2]!.dom.textContent).toContain('已退款');
  expect(cards[2]!.dom.textContent).not.toContain('制作中');
});

test('an after-sale refused by the backend shows its message and keeps the dialog', async () => {
  backend.on('orders.requestAfterSale', () => fail('FAILED_PRECONDITION', '订单已完成，不能申请售后'));
  const page = await detail(
    paidOrder({ fulfilment: fulfilment({ state: 'accepted' }), can: { ...can, requestAfterSale: true } }),
  );
  await tap(page, '.detail__after-sale-button');
  page.instance.onAfterSaleReason({ detail: { value: '不想要了' } });
  await page.instance.onSubmitAfterSale();
  expect(page.instance.data.afterSaleVisible).toBe(true);
  expect(client.showToast).toHaveBeenCalled();
});
