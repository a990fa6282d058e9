import { appConfig } from '../../miniprogram/config';
import { FakeBackend, fail, flush, loadComponent, renderPage, resetClient, tap, text, type Rendered } from './harness';
import { orderView, products } from './fixtures';

let pageId: string;
let backend: FakeBackend;
let wxMock: ReturnType<typeof resetClient>;
const ITEMS = encodeURIComponent(JSON.stringify([{ productId: 'latte', quantity: 2 }]));

beforeAll(() => {
  pageId = loadComponent('pages/order/confirm/index');
});
beforeEach(() => {
  appConfig.mode = 'local';
  backend = new FakeBackend()
    .on('catalog.list', () => ({ products }))
    .on('orders.confirm', () => orderView())
    .on('payment.pay', () => ({ orderId: orderView().id, prepayId: 'wx2026prepay', params: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx2026prepay', signType: 'RSA', paySign: 'sig' } }));
  wxMock = resetClient(backend);
  (wxMock.request as jest.Mock).mockImplementation((options: { url: string; success: (r: unknown) => void }) => {
    if (options.url === `${appConfig.localCloudUrl}/`) options.success({ statusCode: 200, data: { wechatpay: 'http://127.0.0.1:9999', appid: 'wxlocal' } });
    else options.success({ statusCode: 200, data: { result: 'ok' } });
  });
});
afterAll(() => {
  appConfig.mode = 'local';
});

async function open(): Promise<Rendered> {
  const page = renderPage(pageId);
  await page.instance.onLoad({ items: ITEMS });
  await flush();
  return page;
}

async function fillAndSubmit(page: Rendered) {
  page.querySelector('.confirm__name')!.dispatchEvent('change', { detail: { value: '张三' } });
  page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '13800138000' } });
  page.querySelector('.confirm__remark')!.dispatchEvent('change', { detail: { value: '少冰' } });
  await flush();
  await tap(page, '.confirm__submit');
  await flush(5);
}

test('shows the chosen items and an estimate; the total shown after submit is the server’s', async () => {
  const page = await open();
  expect(text(page)).toContain('拿铁咖啡');
  expect(text(page)).toContain('¥19.90 × 2');
  expect(text(page)).toContain('预估 ¥39.80');
  backend.on('orders.confirm', () => orderView({ totalFen: 3500 }));
  await fillAndSubmit(page);
  expect(text(page)).toContain('应付金额');
  expect(text(page)).toContain('¥35.00');
  expect(text(page)).toContain('请在此时间前支付');
  expect(text(page)).toContain('2026-11-23 14:30');
});

test('contact fields are validated before anything is sent', async () => {
  const page = await open();
  page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '12345' } });
  await flush();
  await tap(page, '.confirm__submit');
  expect(page.instance.data.errors).toEqual({ name: '请填写姓名', phone: '请填写正确的 11 位手机号' });
  expect(backend.count('orders.confirm')).toBe(0);
});

test('the request sends ids and quantities, never a price; a double tap makes one call', async () => {
  let release: () => void = () => {};
  backend.on('orders.confirm', () => new Promise((resolve) => (release = () => resolve(orderView()))));
  const page = await open();
  page.querySelector('.confirm__name')!.dispatchEvent('change', { detail: { value: '张三' } });
  page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '13800138000' } });
  await flush();
  await Promise.all([tap(page, '.confirm__submit'), tap(page, '.confirm__submit')]);
  page.instance.onSubmit();
  release();
  await flush(5);
  expect(backend.count('orders.confirm')).toBe(1);
  const event = backend.calls.find((c) => c.event.action === 'confirm')!.event;
  expect(event).toEqual({ action: 'confirm', requestId: expect.stringMatching(/^checkout-/), items: [{ productId: 'latte', quantity: 2 }], contact: { name: '张三', phone: '13800138000' }, remark: '' });
  expect(JSON.stringify(event)).not.toMatch(/price|Fen/i);
});

test('a backend error is shown as a readable toast', async () => {
  backend.on('orders.confirm', () => fail('INVALID_ARGUMENT', '商品不存在或已下架'));
  const page = await open();
  await fillAndSubmit(page);
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '商品不存在或已下架', icon: 'none' }));
  expect(page.instance.data.order).toBeNull();
  backend.on('orders.confirm', () => fail('INTERNAL', 'stack trace'));
  await tap(page, '.confirm__submit');
  await flush(5);
  expect(wxMock.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '服务繁忙，请稍后重试' }));
});

async function payWith(page: Rendered, choice: 'pay' | 'cancel' | 'fail') {
  await tap(page, '.confirm__pay');
  await flush(5);
  expect(page.querySelector('#cashier')!.instance.data.visible).toBe(true);
  await tap(page.querySelector('#cashier')!, `.cashier__${choice}`);
  await flush(5);
}

test('local cashier: pay → redirectTo the result page (never "paid" here)', async () => {
  const page = await open();
  await fillAndSubmit(page);
  await payWith(page, 'pay');
  // everything wx.requestPayment would hand WeChat: its parameters and the app's appId
  expect(wxMock.request).toHaveBeenCalledWith(
    expect.objectContaining({
      url: 'http://127.0.0.1:9999/sim/cashier/pay',
      data: { appId: 'wxlocal', timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx2026prepay', signType: 'RSA', paySign: 'sig' },
    }),
  );
  expect(wxMock.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${orderView().id}` });
  expect(text(page)).not.toContain('支付成功');
});

test('cancel is a choice: continue paying, or give up and keep the order payable', async () => {
  const page = await open();
  await fillAndSubmit(page);
  await payWith(page, 'cancel');
  expect(page.instance.data.cancelDialogVisible).toBe(true);
  expect(wxMock.showToast).not.toHaveBeenCalled();
  page.instance.onContinuePaying();
  await flush(5);
  expect(backend.count('payment.pay')).toBe(2);
  await tap(page.querySelector('#cashier')!, '.cashier__cancel');
  await flush(5);
  page.instance.onGiveUp();
  expect(wxMock.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/detail/index?id=${orderView().id}` });
});

test('a failure shows its reason and offers a retry', async () => {
  const page = await open();
  await fillAndSubmit(page);
  await payWith(page, 'fail');
  expect(page.instance.data.failDialogVisible).toBe(true);
  expect(page.instance.data.failReason).toBe('余额不足（模拟）');
  page.instance.onRetryPay();
  await flush(5);
  expect(backend.count('payment.pay')).toBe(2);
});

test('an expired order: the backend’s ORDER_EXPIRED is shown', async () => {
  backend.on('payment.pay', () => fail('ORDER_EXPIRED', ''));
  const page = await open();
  await fillAndSubmit(page);
  await tap(page, '.confirm__pay');
  await flush(5);
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单已过期，请重新下单' }));
  expect(wxMock.redirectTo).not.toHaveBeenCalled();
});

describe('cloud mode: wx.requestPayment', () => {
  beforeEach(() => {
    appConfig.mode = 'cloud';
  });

  test('success → result page; the parameters are the backend’s', async () => {
    (wxMock.requestPayment as jest.Mock).mockImplementation((o: { success: () => void }) => o.success());
    const page = await open();
    await fillAndSubmit(page);
    await tap(page, '.confirm__pay');
    await flush(5);
    expect(wxMock.requestPayment).toHaveBeenCalledWith(expect.objectContaining({ package: 'prepay_id=wx2026prepay', signType: 'RSA', paySign: 'sig', timeStamp: '1', nonceStr: 'n' }));
    expect(wxMock.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${orderView().id}` });
  });

  test('fail cancel → the continue/give-up dialog; other failures → reason and retry', async () => {
    (wxMock.requestPayment as jest.Mock).mockImplementationOnce((o: { fail: (e: unknown) => void }) => o.fail({ errMsg: 'requestPayment:fail cancel' }));
    const page = await open();
    await fillAndSubmit(page);
    await tap(page, '.confirm__pay');
    await flush(5);
    expect(page.instance.data.cancelDialogVisible).toBe(true);
    (wxMock.requestPayment as jest.Mock).mockImplementationOnce((o: { fail: (e: unknown) => void }) => o.fail({ errMsg: 'requestPayment:fail 余额不足' }));
    page.instance.onContinuePaying();
    await flush(5);
    expect(page.instance.data.failDialogVisible).toBe(true);
    expect(page.instance.data.failReason).toBe('余额不足');
  });
});
