import { FakeBackend, fail, flush, loadComponent, renderPage, resetClient, tap, text, type Rendered } from './harness';
import { orderView, paidOrder } from './fixtures';

let pageId: string;
let backend: FakeBackend;
let wxMock: ReturnType<typeof resetClient>;
const ID = orderView().id;

beforeAll(() => {
  pageId = loadComponent('pages/order/detail/index');
});
beforeEach(() => {
  backend = new FakeBackend().on('orders.get', () => orderView());
  wxMock = resetClient(backend);
  (wxMock.request as jest.Mock).mockImplementation((o: { url: string; success: (r: unknown) => void }) =>
    o.success(o.url.endsWith('/') ? { statusCode: 200, data: { wechatpay: 'http://127.0.0.1:9999', appid: 'wxlocal' } } : { statusCode: 200, data: {} }),
  );
});

async function open(): Promise<Rendered> {
  const page = renderPage(pageId);
  page.instance.onLoad({ id: ID });
  await flush(5);
  return page;
}

test('a pending order: expiry, timeline, pay again and cancel offered, no refund', async () => {
  const page = await open();
  expect(text(page)).toContain('待付款');
  expect(text(page)).toContain('请在 2026-11-23 14:30 前完成支付');
  expect(text(page)).toContain('订单已提交');
  expect(page.querySelector('.detail__pay')).toBeTruthy();
  expect(page.querySelector('.detail__cancel')).toBeTruthy();
  expect(page.querySelector('.detail__refund-button')).toBeFalsy();
});

test('pay again runs the pay flow to the result page', async () => {
  backend.on('payment.pay', () => ({ orderId: ID, prepayId: 'wx1', params: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 's' } }));
  const page = await open();
  await tap(page, '.detail__pay');
  await flush(5);
  await tap(page.querySelector('#cashier')!, '.cashier__pay');
  await flush(5);
  expect(wxMock.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}` });
});

test('cancel asks first, then cancels and shows the new state', async () => {
  backend.on('orders.cancel', () => orderView({ status: 'cancelled', can: { pay: false, cancel: false, requestRefund: false }, timeline: [{ at: 1, event: 'created' }, { at: 2, event: 'cancelled' }] }));
  const page = await open();
  await tap(page, '.detail__cancel');
  expect(page.instance.data.cancelConfirmVisible).toBe(true);
  expect(backend.count('orders.cancel')).toBe(0);
  await page.instance.onConfirmCancel();
  await flush();
  expect(backend.count('orders.cancel')).toBe(1);
  expect(text(page)).toContain('已取消');
  expect(text(page)).toContain('订单已取消');
  expect(page.querySelector('.detail__pay')).toBeFalsy();
});

test('a cancel refused by the backend (paid meanwhile) is shown and the order reloaded', async () => {
  backend.on('orders.cancel', () => fail('CONFLICT', '订单已支付，请申请退款'));
  const page = await open();
  backend.on('orders.get', () => paidOrder());
  await page.instance.onConfirmCancel();
  await flush();
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单已支付，请申请退款' }));
  expect(text(page)).toContain('已付款');
});

test('refund: a reason is required; one request id per request, reused by a retry', async () => {
  backend.on('orders.get', () => paidOrder());
  const refunding = paidOrder({ status: 'refunding', can: { pay: false, cancel: false, requestRefund: false }, refunds: [{ outRefundNo: 'R1', amountFen: 3980, reason: '不想要了', status: 'processing', requestedBy: 'user', createdAt: Date.now() }] });
  let attempts = 0;
  backend.on('orders.requestRefund', () => (++attempts === 1 ? fail('PAYMENT_PROVIDER_ERROR') : refunding));
  const page = await open();
  expect(page.querySelector('.detail__pay')).toBeFalsy();
  await tap(page, '.detail__refund-button');
  expect(page.instance.data.refundDialogVisible).toBe(true);
  await page.instance.onSubmitRefund();
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '请填写退款原因' }));
  page.instance.onReasonChange({ detail: { value: '不想要了' } });
  await page.instance.onSubmitRefund();
  expect(wxMock.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '微信支付暂时不可用，请稍后重试' }));
  await page.instance.onSubmitRefund();
  await flush();
  const ids = backend.calls.filter((c) => c.event.action === 'requestRefund').map((c) => c.event.requestId);
  expect(ids).toHaveLength(2);
  expect(ids[0]).toBe(ids[1]);
  expect(page.instance.data.refundDialogVisible).toBe(false);
  expect(text(page)).toContain('退款中');
  expect(text(page)).toContain('退款进度');
  expect(text(page)).toContain('¥39.80 · 退款处理中');
});

test('a refunded order shows the refund and nothing to do', async () => {
  backend.on('orders.get', () =>
    paidOrder({
      status: 'refunded',
      refundedFen: 3980,
      refundableFen: 0,
      can: { pay: false, cancel: false, requestRefund: false },
      refunds: [{ outRefundNo: 'R1', amountFen: 3980, reason: '不想要了', status: 'success', requestedBy: 'user', createdAt: 1, settledAt: 2 }],
      timeline: [{ at: 1, event: 'created' }, { at: 2, event: 'paid' }, { at: 3, event: 'refund_requested' }, { at: 4, event: 'refund_succeeded' }],
    }),
  );
  const page = await open();
  expect(text(page)).toContain('已退款');
  expect(text(page)).toContain('退款成功');
  expect(page.querySelector('.detail__refund-button')).toBeFalsy();
  expect(page.querySelector('.detail__cancel')).toBeFalsy();
});

test('an order that is not the user’s (NOT_FOUND) says so', async () => {
  backend.on('orders.get', () => fail('NOT_FOUND', '订单不存在'));
  const page = await open();
  expect(text(page)).toContain('订单加载失败');
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单不存在' }));
});
