/** The result page polls the server with backoff and asks WeChat Pay (through confirm) when the notification is late. */
import { CONFIRM_AFTER_MS, POLL_DELAYS_MS } from '../../miniprogram/pages/order/result/poll';
import {
  FakeBackend,
  MODES,
  attr,
  fail,
  loadComponent,
  renderPage,
  resetClient,
  tap,
  text,
  type Rendered,
} from './harness';
import { orderView, paidOrder } from './fixtures';
import { appConfig } from '../../miniprogram/config';
import { formatTime } from '../../miniprogram/utils/time';

let pageId: string;
const ID = orderView().id;

beforeAll(() => {
  pageId = loadComponent('pages/order/result/index');
});

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let wxMock: ReturnType<typeof resetClient>;
  beforeEach(() => {
    jest.useFakeTimers();
    backend = new FakeBackend().on('orders.get', () => orderView()).on('payment.confirm', () => orderView());
    wxMock = resetClient(backend, { mode });
  });
  afterEach(() => jest.useRealTimers());

  /** taps under fake timers: the tap's own sleep needs the clock moved */
  async function tapNow(page: Rendered, selector: string): Promise<void> {
    const tapped = tap(page, selector);
    await jest.advanceTimersByTimeAsync(1);
    await tapped;
  }

  async function open(): Promise<Rendered> {
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID });
    await jest.advanceTimersByTimeAsync(0);
    return page;
  }

  test('already paid on the first look: paid, with the amount the server recorded', async () => {
    backend.on('orders.get', () => paidOrder());
    const page = await open();
    expect(page.instance.data.state).toBe('paid');
    expect(text(page)).toContain('支付成功');
    expect(text(page)).toContain('¥39.80');
    expect(backend.count('payment.confirm')).toBe(0);
  });

  test("reached from the sheet's ok (paid=1): WeChat Pay is asked at once, once; paid shows without the notification", async () => {
    let paidAtWechat = false;
    backend.on('orders.get', () => orderView()).on('payment.confirm', () => (paidAtWechat ? paidOrder() : orderView()));
    paidAtWechat = true;
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID, paid: '1' });
    await jest.advanceTimersByTimeAsync(0);
    expect(page.instance.data.state).toBe('paid');
    expect(backend.count('payment.confirm')).toBe(1);
    expect(backend.count('orders.get')).toBe(0);
  });

  test('paid=1 but WeChat Pay says not yet: one query only, then polling as usual', async () => {
    const page = renderPage(pageId);
    page.instance.onLoad({ id: ID, paid: '1' });
    await jest.advanceTimersByTimeAsync(0);
    expect(backend.count('payment.confirm')).toBe(1);
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[0]! + POLL_DELAYS_MS[1]! + 10);
    expect(backend.count('payment.confirm')).toBe(1);
    expect(backend.count('orders.get')).toBeGreaterThanOrEqual(2);
  });

  test('paid is a receipt: the amount, the merchant, the order number (copyable), the paid time, 微信支付, and what comes next', async () => {
    backend.on('orders.get', () => paidOrder());
    const page = await open();
    const shown = text(page);
    expect(shown).toContain('¥39.80');
    expect(page.querySelector('.receipt__amount')!.dom.textContent).toBe('¥39.80');
    expect(shown).toContain(appConfig.merchantName);
    expect(shown).toContain(ID);
    expect(shown).toContain(formatTime(paidOrder().paidAt!));
    expect(shown).toContain('微信支付');
    expect(shown).toContain('到店取餐');
    expect(attr(page.querySelector('.result__contact')!, 'open-type')).toBe('contact');
    await tapNow(page, '.receipt__copy');
    expect(wxMock.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: ID }));
    // no template configured: no subscription offered
    expect(page.querySelector('.result__subscribe')).toBeFalsy();
  });

  test('a service: its time on the receipt; shipping: the shipping step', async () => {
    const startsAt = paidOrder().createdAt + 3 * 24 * 3600_000;
    backend.on('orders.get', () =>
      paidOrder({ serviceStartsAt: startsAt, fulfilment: { kind: 'service', state: 'awaiting', at: 1, steps: [] } }),
    );
    const page = await open();
    expect(text(page)).toContain(`服务时间 ${formatTime(startsAt)}`);
    backend.on('orders.get', () =>
      paidOrder({ fulfilment: { kind: 'shipping', state: 'awaiting', at: 1, steps: [] } }),
    );
    const shipped = await open();
    expect(text(shipped)).toContain('快递发货');
  });

  test('the progress subscription is asked on the paid page in its own tap; an acceptance is recorded for the order', async () => {
    appConfig.orderUpdateTemplateId = 'TPL_progress_01';
    backend
      .on('orders.get', () => paidOrder())
      .on('payment.subscribe', (e) => ({ orderId: e.orderId, templateId: e.templateId, acceptedAt: 1 }));
    wxMock.platform.subscribe.push('accept');
    const page = await open();
    expect(wxMock.requestSubscribeMessage).not.toHaveBeenCalled();
    await tapNow(page.querySelector('.result__subscribe')!, '.t-cell');
    await jest.advanceTimersByTimeAsync(5);
    expect(wxMock.requestSubscribeMessage).toHaveBeenCalledWith(
      expect.objectContaining({ tmplIds: ['TPL_progress_01'] }),
    );
    expect(backend.of('payment.subscribe')).toEqual([
      { action: 'subscribe', orderId: ID, templateId: 'TPL_progress_01' },
    ]);
    expect(text(page)).toContain('已订阅进度提醒');
    expect(page.querySelector('.result__subscribe')).toBeFalsy();
  });

  test.each([['reject'], [{ errCode: 10002, errMsg: 'requestSubscribeMessage:fail network error' }]])(
    'a refused or failed subscription (%o) records nothing and leaves the receipt as it is',
    async (answer) => {
      appConfig.orderUpdateTemplateId = 'TPL_progress_01';
      backend.on('orders.get', () => paidOrder());
      wxMock.platform.subscribe.push(answer as never);
      const page = await open();
      await tapNow(page.querySelector('.result__subscribe')!, '.t-cell');
      await jest.advanceTimersByTimeAsync(5);
      expect(backend.count('payment.subscribe')).toBe(0);
      expect(page.instance.data.state).toBe('paid');
      expect(page.instance.data.subscribed).toBe(false);
    },
  );

  test('polls with backoff; still pending after a few seconds, it asks the backend to query WeChat Pay, once', async () => {
    let confirmCalls = 0;
    backend.on('payment.confirm', () => (++confirmCalls, paidOrder()));
    const page = await open();
    expect(page.instance.data.state).toBe('checking');
    expect(text(page)).toContain('正在确认支付结果');
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[0]!);
    expect(backend.count('orders.get')).toBe(2);
    expect(confirmCalls).toBe(0);
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[1]! + POLL_DELAYS_MS[2]! + 50);
    expect((Date.now() - page.instance.data.startedAt) as number).toBeGreaterThanOrEqual(CONFIRM_AFTER_MS);
    expect(confirmCalls).toBe(1);
    expect(page.instance.data.state).toBe('paid');
  });

  test('never confirmed: shows pending with "I have paid" and refresh', async () => {
    const page = await open();
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS.reduce((a, b) => a + b, 0) + 100);
    expect(page.instance.data.state).toBe('pending');
    expect(text(page)).toContain('暂未确认到支付');
    expect(backend.count('payment.confirm')).toBe(1);
    const total = backend.calls.length;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(backend.calls.length).toBe(total);
    // "I have paid": the server is asked; still unpaid → a toast, no "paid"
    const tapped = tap(page, '.result__confirm');
    await jest.advanceTimersByTimeAsync(1);
    await tapped;
    expect(backend.count('payment.confirm')).toBe(2);
    expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '微信支付暂未确认到付款' }));
    expect(page.instance.data.state).toBe('pending');
    backend.on('payment.confirm', () => paidOrder());
    const again = tap(page, '.result__confirm');
    await jest.advanceTimersByTimeAsync(1);
    await again;
    expect(page.instance.data.state).toBe('paid');
  });

  test('refresh checks again', async () => {
    const page = await open();
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS.reduce((a, b) => a + b, 0) + 100);
    backend.on('orders.get', () => paidOrder());
    const tapped = tap(page, '.result__refresh');
    await jest.advanceTimersByTimeAsync(1);
    await tapped;
    expect(page.instance.data.state).toBe('paid');
  });

  test('a closed or cancelled order is not paid, and says how to buy again', async () => {
    backend.on('orders.get', () =>
      orderView({
        status: 'closed',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    const page = await open();
    expect(page.instance.data.state).toBe('failed');
    expect(text(page)).toContain('订单已关闭，如需购买请重新下单');
  });

  test('an amount under review is a payment received, not a failure, with customer service on the page', async () => {
    backend.on('orders.get', () =>
      orderView({
        status: 'review',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    const page = await open();
    expect(page.instance.data.state).toBe('review');
    expect(text(page)).toContain('已收到付款，金额核对中');
    expect(text(page)).toContain('请不要重复支付');
    expect(text(page)).not.toContain('支付未完成');
    const contact = page.querySelector('.result__contact');
    expect(contact).toBeTruthy();
    expect(attr(contact!, 'open-type')).toBe('contact');
  });

  test('polls that cannot reach the backend end in "no network" with a retry, not in "not confirmed"', async () => {
    backend
      .on('orders.get', () => Promise.reject(new Error('unreachable')))
      .on('payment.confirm', () => Promise.reject(new Error('unreachable')));
    if (mode === 'cloud') {
      wxMock.cloud.callFunction.mockRejectedValue({ errMsg: 'cloud.callFunction:fail request:fail timeout' });
    } else {
      (wxMock.request as jest.Mock).mockImplementation((o: { fail(e: unknown): void }) =>
        setTimeout(() => o.fail({ errMsg: 'request:fail timeout' }), 0),
      );
    }
    const page = await open();
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS.reduce((a, b) => a + b, 0) + 100);
    expect(page.instance.data.state).toBe('offline');
    expect(text(page)).toContain('网络不给力');
    expect(text(page)).not.toContain('暂未确认到支付');
    // the network is back and the order was paid
    wxMock.cloud.callFunction.mockReset();
    backend.on('orders.get', () => paidOrder());
    resetClient(backend, { mode });
    const tapped = tap(page, '.result__retry');
    await jest.advanceTimersByTimeAsync(10);
    await tapped;
    expect(page.instance.data.state).toBe('paid');
  });

  test('a backend that answers with an error (not the network) still ends in "not confirmed"', async () => {
    backend.on('orders.get', () => fail('UNAVAILABLE')).on('payment.confirm', () => fail('UNAVAILABLE'));
    const page = await open();
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS.reduce((a, b) => a + b, 0) + 100);
    expect(page.instance.data.state).toBe('pending');
  });

  test('poll errors are retried on schedule; leaving the page stops polling', async () => {
    let n = 0;
    backend.on('orders.get', () => (++n === 1 ? Promise.reject(new Error('boom')) : orderView()));
    const page = await open();
    await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[0]!);
    expect(n).toBe(2);
    page.instance.onUnload();
    const calls = backend.calls.length;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(backend.calls.length).toBe(calls);
  });
});
