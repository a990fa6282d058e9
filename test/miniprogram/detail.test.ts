/**
 * The order detail page in both backend modes: an unpaid order that was paid meanwhile is checked with WeChat Pay
 * before it asks to be paid again, a live countdown, copyable order number, masked phone, preset refund reasons, an
 * action bar only when there is something to do, pull-down refresh, and an amount under review explained.
 */
import { readFileSync } from 'node:fs';
import { CHECK_INTERVAL_MS } from '../../miniprogram/services/payment';
import {
  FakeBackend,
  MINIPROGRAM,
  MODES,
  attr,
  fail,
  flush,
  isDisabled,
  loadComponent,
  payThrough,
  renderPage,
  resetClient,
  tap,
  text,
  until,
  type Rendered,
} from './harness';
import { orderView, paidOrder } from './fixtures';

let pageId: string;
const ID = orderView().id;
/** an unpaid order whose payment was started (the sheet was opened) */
const started = (overrides = {}) =>
  orderView({
    expiresAt: Date.now() + 10 * 60_000,
    timeline: [
      { at: 1, event: 'created' },
      { at: 2, event: 'payment_started' },
    ],
    ...overrides,
  });

beforeAll(() => {
  pageId = loadComponent('pages/order/detail/index');
});
afterEach(() => jest.useRealTimers());

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let client: ReturnType<typeof resetClient>;

  beforeEach(() => {
    backend = new FakeBackend().on('orders.get', () => orderView()).on('payment.confirm', () => started());
    client = resetClient(backend, { mode });
  });

  async function open(): Promise<Rendered> {
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID });
    await flush(20);
    return page;
  }

  test('paid at WeChat Pay while the stored order says unpaid: opening it asks the backend to check, and it shows paid with nothing to pay', async () => {
    backend.on('orders.get', () => started()).on('payment.confirm', () => paidOrder());
    const page = await open();
    await until(() => text(page).includes('已付款'));
    expect(backend.count('payment.confirm')).toBe(1);
    expect(text(page)).not.toContain('待付款');
    expect(page.querySelector('.detail__pay')).toBeFalsy();
  });

  test('while the check runs the pay button cannot be tapped; an order never started is not checked', async () => {
    let release: () => void = () => {};
    backend
      .on('orders.get', () => started())
      .on('payment.confirm', () => new Promise((r) => (release = () => r(started()))));
    const page = await open();
    expect(text(page)).toContain('正在向微信支付确认付款结果');
    expect(isDisabled(page, '.detail__pay')).toBe(true);
    release();
    await until(() => !isDisabled(page, '.detail__pay'));
    backend.on('orders.get', () => orderView({ expiresAt: Date.now() + 60_000 }));
    const fresh = await open();
    expect(backend.count('payment.confirm')).toBe(1);
    expect(fresh.querySelector('.detail__pay')).toBeTruthy();
  });

  test('shown again (back from the payment sheet or another app) a pending order is checked again, at most every 15 s', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    backend.on('orders.get', () => started());
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID });
    await jest.advanceTimersByTimeAsync(20);
    expect(backend.count('payment.confirm')).toBe(1);
    page.instance.onShow();
    await jest.advanceTimersByTimeAsync(20);
    expect(backend.count('orders.get')).toBe(2);
    expect(backend.count('payment.confirm')).toBe(1);
    await jest.advanceTimersByTimeAsync(CHECK_INTERVAL_MS);
    backend.on('payment.confirm', () => paidOrder());
    page.instance.onShow();
    await jest.advanceTimersByTimeAsync(20);
    expect(backend.count('payment.confirm')).toBe(2);
    expect(text(page)).toContain('已付款');
  });

  test('a live countdown to the expiry; at zero the order is read again', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    backend.on('orders.get', () => orderView({ expiresAt: Date.now() + 65_000 }));
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID });
    await jest.advanceTimersByTimeAsync(50);
    expect(text(page)).toMatch(/剩余支付时间 01 ?: ?0\d/);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(text(page)).toMatch(/剩余支付时间 00 ?: ?5[45]/);
    backend.on('orders.get', () =>
      orderView({
        status: 'closed',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    await jest.advanceTimersByTimeAsync(60_000);
    expect(text(page)).toContain('已关闭');
    expect(page.querySelector('.detail__pay')).toBeFalsy();
  });

  test('pay runs the pay flow to the result page', async () => {
    backend.on('orders.get', () => orderView({ expiresAt: Date.now() + 60_000 }));
    backend.on('payment.pay', () => ({
      orderId: ID,
      prepayId: 'wx1',
      params: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 's' },
    }));
    const page = await open();
    await payThrough(page, '.detail__pay', 'ok', client.platform);
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}&paid=1` });
  });

  test('the order number is copyable; the phone number is masked; amounts are not in grey', async () => {
    const page = await open();
    await tap(page, '.detail__copy');
    expect(client.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: ID }));
    expect(text(page)).toContain('张三 138****8000');
    expect(text(page)).not.toContain('13800138000');
    const amounts = page.querySelectorAll('.amount').map((a) => a.dom.textContent ?? '');
    expect(amounts).toEqual(expect.arrayContaining(['¥19.90 × 2', '¥39.80']));
  });

  test('no fixed action bar (nor room for one) when there is nothing to do', async () => {
    backend.on('orders.get', () =>
      paidOrder({
        status: 'refunded',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    const page = await open();
    expect(page.querySelector('.detail__actions')).toBeFalsy();
    expect(page.querySelector('.detail--with-actions')).toBeFalsy();
    backend.on('orders.get', () => paidOrder());
    const refundable = await open();
    expect(refundable.querySelector('.detail__actions')).toBeTruthy();
    expect(refundable.querySelector('.detail--with-actions')).toBeTruthy();
  });

  test('pull-down refresh is enabled and reloads', async () => {
    const json = JSON.parse(readFileSync(`${MINIPROGRAM}/pages/order/detail/index.json`, 'utf8')) as {
      enablePullDownRefresh?: boolean;
    };
    expect(json.enablePullDownRefresh).toBe(true);
    const page = await open();
    backend.on('orders.get', () => paidOrder());
    await page.instance.onPullDownRefresh();
    expect(text(page)).toContain('已付款');
    expect(client.stopPullDownRefresh).toHaveBeenCalled();
  });

  test('cancel asks first, then cancels and shows the new state', async () => {
    backend.on('orders.cancel', () =>
      orderView({
        status: 'cancelled',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
        timeline: [
          { at: 1, event: 'created' },
          { at: 2, event: 'cancelled' },
        ],
      }),
    );
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
    await flush(10);
    expect(client.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单已支付，请申请退款' }));
    expect(text(page)).toContain('已付款');
  });

  test('refund: a preset reason is chosen (其他原因 needs words); one request id per request, reused by a retry', async () => {
    backend.on('orders.get', () => paidOrder());
    const refunding = paidOrder({
      status: 'refunding',
      can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      refunds: [
        {
          outRefundNo: 'R1',
          amountFen: 3980,
          reason: '买错了',
          status: 'processing',
          requestedBy: 'user',
          createdAt: Date.now(),
        },
      ],
    });
    let attempts = 0;
    backend.on('orders.requestRefund', () => (++attempts === 1 ? fail('PAYMENT_PROVIDER_ERROR') : refunding));
    const page = await open();
    await tap(page, '.detail__refund-button');
    expect(page.instance.data.refundDialogVisible).toBe(true);
    expect(text(page)).toContain('不想要了');
    expect(text(page)).toContain('时间冲突，无法参加');
    await page.instance.onSubmitRefund();
    expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请选择退款原因' }));
    page.querySelector('.detail__reasons')!.dispatchEvent('change', { detail: { value: '其他原因' } });
    await flush();
    await page.instance.onSubmitRefund();
    expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请写下退款原因' }));
    page.querySelector('.detail__reasons')!.dispatchEvent('change', { detail: { value: '买错了' } });
    await flush();
    await page.instance.onSubmitRefund();
    expect(client.showToast).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: '微信支付暂时不可用，请稍后重试' }),
    );
    await page.instance.onSubmitRefund();
    await flush();
    const events = backend.of('orders.requestRefund');
    expect(events.map((e) => e.reason)).toEqual(['买错了', '买错了']);
    expect(events[0]!.requestId).toBe(events[1]!.requestId);
    expect(page.instance.data.refundDialogVisible).toBe(false);
    expect(text(page)).toContain('退款中');
    expect(text(page)).toContain('¥39.80 · 退款处理中');
  });

  test('an amount under review: explained as paid and being checked, with customer service', async () => {
    backend.on('orders.get', () =>
      orderView({
        status: 'review',
        paidFen: 0,
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    const page = await open();
    expect(text(page)).toContain('核对中');
    expect(text(page)).toContain('我们已收到你的付款');
    const contact = page.querySelector('.detail__contact');
    expect(contact).toBeTruthy();
    expect(attr(contact!, 'open-type')).toBe('contact');
    expect(page.querySelector('.detail__pay')).toBeFalsy();
  });

  test('an order that is not the user’s (NOT_FOUND) says so', async () => {
    backend.on('orders.get', () => fail('NOT_FOUND', '订单不存在'));
    const page = await open();
    expect(text(page)).toContain('订单加载失败');
    expect(client.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '订单不存在' }));
  });
});
