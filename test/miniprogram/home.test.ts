import { FakeBackend, fail, flush, loadComponent, renderPage, resetClient, tap, text } from './harness';
import { products } from './fixtures';

let pageId: string;
let backend: FakeBackend;
let wxMock: ReturnType<typeof resetClient>;

beforeAll(() => {
  pageId = loadComponent('pages/home/index/index');
});
beforeEach(() => {
  backend = new FakeBackend().on('login', () => ({ openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 })).on('catalog.list', () => ({ products }));
  wxMock = resetClient(backend);
});
afterEach(() => jest.useRealTimers());

test('renders the catalogue with prices formatted from fen, and logs in', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(10);
  expect(text(page)).toContain('拿铁咖啡');
  expect(text(page)).toContain('¥19.90');
  expect(text(page)).toContain('¥12.00');
  expect(backend.count('login')).toBe(1);
  expect(page.instance.data.loginState).toBe('ok');
});

test('choosing quantities totals them; checkout sends product ids and quantities, never prices', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(10);
  const steppers = page.querySelectorAll('.product__stepper');
  expect(steppers).toHaveLength(2);
  steppers[0]!.dispatchEvent('change', { detail: { value: 2 } });
  steppers[1]!.dispatchEvent('change', { detail: { value: 1 } });
  await flush();
  expect(page.instance.data.count).toBe(3);
  expect(page.instance.data.totalText).toBe('¥51.80');
  await tap(page, '.checkout-bar__go');
  const url = (wxMock.navigateTo as jest.Mock).mock.calls[0][0].url as string;
  expect(url.startsWith('/pages/order/confirm/index?items=')).toBe(true);
  expect(JSON.parse(decodeURIComponent(url.split('items=')[1]!))).toEqual([
    { productId: 'latte', quantity: 2 },
    { productId: 'croissant', quantity: 1 },
  ]);
});

test('a failed login shows its state and can be retried', async () => {
  let attempts = 0;
  backend.on('login', () => (++attempts <= 3 ? fail('UNAVAILABLE', '登录服务不可用') : { openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 }));
  jest.useFakeTimers();
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await jest.advanceTimersByTimeAsync(3000);
  expect(page.instance.data.loginState).toBe('failed');
  expect(text(page)).toContain('登录失败');
  const tapped = tap(page, '.home__relogin');
  await jest.advanceTimersByTimeAsync(10);
  await tapped;
  expect(page.instance.data.loginState).toBe('ok');
  expect(attempts).toBe(4);
});

test('a catalogue that fails to load offers a reload', async () => {
  let calls = 0;
  backend.on('catalog.list', () => (++calls === 1 ? fail('INTERNAL') : { products }));
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(10);
  expect(text(page)).toContain('商品加载失败');
  page.instance.onReload();
  await flush(10);
  expect(text(page)).toContain('拿铁咖啡');
});
