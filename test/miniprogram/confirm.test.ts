/**
 * The confirm page in both backend modes (the local cloud's cashier sheet, and wx.cloud with WeChat's payment
 * sheet): one tap from confirmation to the payment sheet, one order per request id, the payment-success message asked
 * in that tap, every payment failure in plain Chinese, and no internal ids when the catalogue cannot be read.
 */
import { appConfig } from '../../miniprogram/config';
import { ordersPlaced } from '../../miniprogram/utils/checkout';
import { UNKNOWN_PAY_FAILURE } from '../../miniprogram/constants/payment';
import {
  FakeBackend,
  MODES,
  fail,
  flush,
  inTap,
  loadComponent,
  payThrough,
  renderPage,
  resetClient,
  tap,
  text,
  type Rendered,
} from './harness';
import { orderView, products } from './fixtures';

let pageId: string;
const ITEMS = encodeURIComponent(JSON.stringify([{ productId: 'latte', quantity: 2 }]));
const ID = orderView().id;
const TEMPLATE = 'TPL_paid_0001';

beforeAll(() => {
  pageId = loadComponent('pages/order/confirm/index');
});

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let client: ReturnType<typeof resetClient>;

  beforeEach(() => {
    backend = new FakeBackend()
      .on('catalog.list', () => ({ products }))
      .on('orders.confirm', () => orderView({ expiresAt: Date.now() + 30 * 60_000 }))
      .on('payment.pay', () => ({
        orderId: ID,
        prepayId: 'wx2026prepay',
        params: {
          timeStamp: '1700000000',
          nonceStr: 'n',
          package: 'prepay_id=wx2026prepay',
          signType: 'RSA',
          paySign: 'sig',
        },
      }))
      .on('payment.subscribe', (e) => ({ orderId: e.orderId, templateId: e.templateId, acceptedAt: 1 }));
    client = resetClient(backend, { mode });
  });

  async function open(): Promise<Rendered> {
    const page = renderPage(pageId);
    await page.instance.onLoad({ items: ITEMS });
    await flush(5);
    return page;
  }

  async function fill(page: Rendered) {
    page.querySelector('.confirm__name')!.dispatchEvent('change', { detail: { value: '张三' } });
    page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '13800138000' } });
    await flush();
  }

  test('one tap makes the order and opens the payment sheet; paid → the result page', async () => {
    const page = await open();
    expect(text(page)).toContain('拿铁咖啡');
    expect(text(page)).toContain('¥19.90 × 2');
    expect(text(page)).toContain('合计 ¥39.80');
    await fill(page);
    const placed = ordersPlaced();
    await payThrough(page, '.confirm__submit', 'ok', client.platform);
    // one call from the tap to the sheet: the order made and prepaid together
    expect(backend.count('payment.orderAndPay')).toBe(1);
    expect(backend.count('orders.confirm') + backend.count('payment.pay')).toBe(0);
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}&paid=1` });
    expect(ordersPlaced()).toBe(placed + 1);
    if (mode === 'cloud') {
      expect(client.requestPayment).toHaveBeenCalledWith(
        expect.objectContaining({ package: 'prepay_id=wx2026prepay', signType: 'RSA', paySign: 'sig' }),
      );
      expect(client.request).not.toHaveBeenCalled();
    } else {
      expect(client.requestPayment).not.toHaveBeenCalled();
      expect(client.platform.requests).toContainEqual({
        url: 'http://127.0.0.1:9999/sim/cashier/pay',
        data: {
          appId: 'wxlocalapp',
          timeStamp: '1700000000',
          nonceStr: 'n',
          package: 'prepay_id=wx2026prepay',
          signType: 'RSA',
          paySign: 'sig',
        },
      });
    }
  });

  test('the request sends ids and quantities, never a price; a double tap is one order and one payment', async () => {
    let release: () => void = () => {};
    backend.on('orders.confirm', () => new Promise((resolve) => (release = () => resolve(orderView()))));
    const page = await open();
    await fill(page);
    client.platform.sheets.push('cancel');
    await Promise.all([tap(page, '.confirm__submit'), tap(page, '.confirm__submit')]);
    inTap(() => page.instance.onSubmit());
    release();
    await flush(20);
    expect(backend.count('payment.orderAndPay')).toBe(1);
    const event = backend.of('payment.orderAndPay')[0]!;
    expect(event).toEqual({
      action: 'orderAndPay',
      requestId: expect.stringMatching(/^checkout-/),
      items: [{ productId: 'latte', quantity: 2 }],
      contact: { name: '张三', phone: '13800138000' },
      remark: '',
    });
    expect(JSON.stringify(event)).not.toMatch(/price|Fen/i);
  });

  test('contact fields are validated before anything is sent', async () => {
    const page = await open();
    page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '12345' } });
    await flush();
    await tap(page, '.confirm__submit');
    expect(page.instance.data.errors).toEqual({ name: '请填写姓名', phone: '请填写正确的 11 位手机号' });
    expect(backend.count('payment.orderAndPay')).toBe(0);
  });

  test('a backend error is shown as a readable toast; a retry is the same order', async () => {
    let attempts = 0;
    backend.on('orders.confirm', () =>
      ++attempts === 1 ? fail('INVALID_ARGUMENT', '商品不存在或已下架') : orderView(),
    );
    const page = await open();
    await fill(page);
    await tap(page, '.confirm__submit');
    await flush(10);
    expect(client.showToast).toHaveBeenCalledWith(
      expect.objectContaining({ title: '商品不存在或已下架', icon: 'none' }),
    );
    expect(page.instance.data.order).toBeNull();
    expect(backend.count('payment.pay')).toBe(0);
    await payThrough(page, '.confirm__submit', 'ok', client.platform);
    const ids = backend.of('payment.orderAndPay').map((e) => e.requestId);
    expect(ids[0]).toBe(ids[1]);
  });

  test('cancel is a choice: the order stays here with its countdown, payable from the same button', async () => {
    const page = await open();
    await fill(page);
    await payThrough(page, '.confirm__submit', 'cancel', client.platform);
    expect(page.instance.data.cancelDialogVisible).toBe(true);
    expect(client.showToast).not.toHaveBeenCalled();
    expect(text(page)).toContain('订单已提交');
    expect(text(page)).toContain(`订单号 ${ID}`);
    expect(text(page)).toContain('剩余支付时间');
    expect(text(page)).toContain('继续支付');
    page.instance.onGiveUp();
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/detail/index?id=${ID}` });
    // paying again from the bar: the same order, a second payment attempt
    await payThrough(page, '.confirm__submit', 'ok', client.platform);
    expect(backend.count('payment.orderAndPay')).toBe(1);
    expect(backend.count('payment.pay')).toBe(1);
  });

  test('an unknown payment failure says so in Chinese and its raw text goes to the client log', async () => {
    const page = await open();
    await fill(page);
    await payThrough(
      page,
      '.confirm__submit',
      { errMsg: 'requestPayment:fail something nobody documented (-9)' },
      client.platform,
    );
    await flush(10);
    expect(page.instance.data.failDialogVisible).toBe(true);
    expect(page.instance.data.failReason).toBe(UNKNOWN_PAY_FAILURE);
    expect(text(page)).not.toContain('nobody documented');
    expect(backend.of('clientLog.report')).toEqual([
      expect.objectContaining({
        kind: 'pay_error',
        message: 'requestPayment:fail something nobody documented (-9)',
        page: 'pages/unknown',
      }),
    ]);
    expect(JSON.stringify(backend.of('clientLog.report'))).not.toContain(ID);
  });

  test('a known failure in English reads in Chinese and offers a retry', async () => {
    const page = await open();
    await fill(page);
    await payThrough(
      page,
      '.confirm__submit',
      { errMsg: 'requestPayment:fail jsapi has no permission, event=requestPayment' },
      client.platform,
    );
    expect(page.instance.data.failReason).toBe('商家暂未开通微信支付，请稍后再试或联系商家');
    expect(backend.count('clientLog.report')).toBe(0);
    page.instance.onRetryPay();
    await flush(20);
    // the retry pays the order the first tap made
    expect(backend.count('payment.orderAndPay')).toBe(1);
    expect(backend.count('payment.pay')).toBe(1);
  });

  test('"already paid" from the sheet goes to the result page, which asks the server', async () => {
    const page = await open();
    await fill(page);
    await payThrough(page, '.confirm__submit', { errMsg: 'requestPayment:fail 订单已支付' }, client.platform);
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}` });
  });

  test('the pay tap asks for no subscription: the sheet is the only dialog (the progress message is asked once paid)', async () => {
    appConfig.orderUpdateTemplateId = TEMPLATE;
    client.platform.subscribe.push('accept');
    const page = await open();
    await fill(page);
    await payThrough(page, '.confirm__submit', 'ok', client.platform);
    expect(client.requestSubscribeMessage).not.toHaveBeenCalled();
    expect(backend.count('payment.subscribe')).toBe(0);
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}&paid=1` });
  });

  test('an expired order: the backend’s ORDER_EXPIRED is shown', async () => {
    backend.on('payment.pay', () => fail('ORDER_EXPIRED', ''));
    const page = await open();
    await fill(page);
    await tap(page, '.confirm__submit');
    await flush(20);
    expect(client.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单已过期，请重新下单' }));
    expect(client.redirectTo).not.toHaveBeenCalled();
  });

  test('names and prices come from the catalogue the home page loaded; when it cannot be read, no internal ids are shown and nothing can be submitted', async () => {
    backend.on('catalog.list', () => fail('UNAVAILABLE'));
    const page = await open();
    expect(text(page)).not.toContain('latte');
    expect(text(page)).toContain('商品信息加载失败');
    await tap(page, '.confirm__submit');
    expect(backend.count('payment.orderAndPay')).toBe(0);
    backend.on('catalog.list', () => ({ products }));
    await tap(page, '.confirm__reload');
    await flush(10);
    expect(text(page)).toContain('拿铁咖啡');
  });
});

test('a product the kept catalogue does not know is read afresh, not shown as gone', async () => {
  const backend = new FakeBackend().on('catalog.list', () => ({ products: [] }));
  resetClient(backend);
  const { listProducts } = await import('../../miniprogram/services/catalog');
  await listProducts(); // the home page read an empty catalogue earlier
  backend.on('catalog.list', () => ({ products }));
  const page = renderPage(pageId);
  await page.instance.onLoad({ items: ITEMS });
  await flush(20);
  expect(text(page)).toContain('拿铁咖啡');
  expect(backend.count('catalog.list')).toBe(2);
});
