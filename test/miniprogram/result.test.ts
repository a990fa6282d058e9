/** The result page polls the server with backoff and asks WeChat Pay (through confirm) when the notification is late. */
import { CONFIRM_AFTER_MS, POLL_DELAYS_MS } from '../../miniprogram/pages/order/result/poll';
import { FakeBackend, loadComponent, renderPage, resetClient, tap, text, type Rendered } from './harness';
import { orderView, paidOrder } from './fixtures';

let pageId: string;
let backend: FakeBackend;
let wxMock: ReturnType<typeof resetClient>;
const ID = orderView().id;

beforeAll(() => {
  pageId = loadComponent('pages/order/result/index');
});
beforeEach(() => {
  jest.useFakeTimers();
  backend = new FakeBackend().on('orders.get', () => orderView()).on('payment.confirm', () => orderView());
  wxMock = resetClient(backend);
});
afterEach(() => jest.useRealTimers());

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

test('polls with backoff; still pending after a few seconds, it asks the backend to query WeChat Pay, once', async () => {
  let confirmCalls = 0;
  backend.on('payment.confirm', () => (++confirmCalls, paidOrder()));
  const page = await open();
  expect(page.instance.data.state).toBe('checking');
  expect(text(page)).toContain('正在确认支付结果');
  await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[0]!);
  expect(backend.count('orders.get')).toBe(2);
  expect(confirmCalls).toBe(0);
  await jest.advanceTimersByTimeAsync(POLL_DELAYS_MS[1]! + POLL_DELAYS_MS[2]!);
  expect(Date.now() - page.instance.data.startedAt as number).toBeGreaterThanOrEqual(CONFIRM_AFTER_MS);
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

test('a closed or cancelled order is a failure; an amount in review says so', async () => {
  backend.on('orders.get', () => orderView({ status: 'closed', can: { pay: false, cancel: false, requestRefund: false } }));
  let page = await open();
  expect(page.instance.data.state).toBe('failed');
  expect(text(page)).toContain('订单已关闭');
  backend.on('orders.get', () => orderView({ status: 'review' }));
  page = await open();
  expect(text(page)).toContain('支付金额待核对');
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
