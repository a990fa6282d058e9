/** The catalogue page in both backend modes. */
import { appConfig } from '../../miniprogram/config';
import { markOrderPlaced } from '../../miniprogram/utils/checkout';
import {
  FakeBackend,
  MODES,
  attr,
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
import { products } from './fixtures';

let pageId: string;

beforeAll(() => {
  pageId = loadComponent('pages/home/index/index');
});
afterEach(() => jest.useRealTimers());

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let client: ReturnType<typeof resetClient>;

  beforeEach(() => {
    backend = new FakeBackend()
      .on('login', () => ({ openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 }))
      .on('catalog.list', () => ({ products }));
    client = resetClient(backend, { mode, launch: false });
    // the app's launch is tested on its own (release-guard.test.ts); here only its wx.cloud.init
    if (mode === 'cloud') client.cloud.init({ env: appConfig.cloudEnv });
  });

  async function open(): Promise<Rendered> {
    const page = renderPage(pageId);
    page.instance.onLoad({});
    await until(() => !page.instance.data.loading && page.instance.data.loginState !== 'pending');
    await flush(5);
    return page;
  }

  test('renders the catalogue with prices formatted from fen, and logs in', async () => {
    const page = await open();
    expect(text(page)).toContain('拿铁咖啡');
    expect(text(page)).toContain('¥19.90');
    expect(text(page)).toContain('¥12.00');
    expect(backend.count('login')).toBe(1);
    expect(page.instance.data.loginState).toBe('ok');
  });

  test('choosing quantities totals them; checkout sends product ids and quantities, never prices', async () => {
    const page = await open();
    const steppers = page.querySelectorAll('.product__stepper');
    expect(steppers).toHaveLength(2);
    steppers[0]!.dispatchEvent('change', { detail: { value: 2 } });
    steppers[1]!.dispatchEvent('change', { detail: { value: 1 } });
    await flush();
    expect(page.instance.data.count).toBe(3);
    expect(page.instance.data.totalText).toBe('¥51.80');
    await tap(page, '.checkout-bar__go');
    const url = (client.navigateTo as jest.Mock).mock.calls[0][0].url as string;
    expect(url.startsWith('/pages/order/confirm/index?items=')).toBe(true);
    expect(JSON.parse(decodeURIComponent(url.split('items=')[1]!))).toEqual([
      { productId: 'latte', quantity: 2 },
      { productId: 'croissant', quantity: 1 },
    ]);
  });

  test('back on this page after an order was placed, the old quantities are gone (no invitation to order twice)', async () => {
    const page = await open();
    page.querySelectorAll('.product__stepper')[0]!.dispatchEvent('change', { detail: { value: 2 } });
    await flush();
    page.instance.onShow();
    expect(page.instance.data.count).toBe(2); // shown again without an order: kept
    markOrderPlaced(); // the confirm page made the order
    page.instance.onShow(); // Back from the result page
    await flush();
    expect(page.instance.data.count).toBe(0);
    expect(page.instance.data.products.every((p: { quantity: number }) => p.quantity === 0)).toBe(true);
    expect(page.instance.data.totalText).toBe('¥0.00');
  });

  test('quantity buttons are large enough to tap (TDesign large: 56rpx, not small: 40rpx)', async () => {
    const page = await open();
    const stepper = page.querySelectorAll('.product__stepper')[0]!;
    expect(stepper.instance.data.size).toBe('large');
  });

  test('product pictures: the local cloud serves them in local mode, cloud file ids in cloud mode; a placeholder until loaded or on error', async () => {
    backend.on('catalog.list', () => ({
      products: [
        { ...products[0]!, image: '/assets/products/latte.png' },
        { ...products[1]!, image: 'cloud://shop-prod-1a2b.7368-shop-prod/products/croissant.jpg' },
      ],
    }));
    const page = await open();
    // a picture this build can load is handed to <image>; the other is a placeholder (its first character) at once
    const hosts = page.querySelectorAll('.product__image');
    expect(hosts.map((h) => attr(h, 'src'))).toEqual(
      mode === 'local'
        ? [`${appConfig.localCloudUrl}/assets/products/latte.png`, '']
        : ['', 'cloud://shop-prod-1a2b.7368-shop-prod/products/croissant.jpg'],
    );
    // t-image shows its loading slot until the picture loads and its error slot when it fails (or has no src):
    // both are the product's placeholder, never an empty box
    for (const [i, host] of hosts.entries()) {
      expect(attr(host, 'loading')).toBe('slot');
      expect(attr(host, 'error')).toBe('slot');
      expect(host.dom.textContent).toContain(['拿', '黄'][i]);
    }
    // the loadable one is handed to <image>; when it fails to load, its placeholder stays and the image goes
    const loadable = hosts[mode === 'local' ? 0 : 1]!;
    const img = () => loadable.querySelector('.t-image__img');
    expect(attr(img()!, 'src')).toBe(attr(loadable, 'src'));
    img()!.dispatchEvent('error', { detail: { errMsg: 'GET 404' } });
    await flush(5);
    expect(img()).toBeFalsy();
    expect(loadable.querySelector('.t-image--failed')!.dom.textContent).toContain(mode === 'local' ? '拿' : '黄');
  });

  test('no products on sale: an empty state says so, with a refresh', async () => {
    backend.on('catalog.list', () => ({ products: [] }));
    const page = await open();
    expect(text(page)).toContain('今天的商品还没上架');
    expect(page.querySelector('.home__none')).toBeTruthy();
    backend.on('catalog.list', () => ({ products }));
    page.instance.onReload();
    await until(() => text(page).includes('拿铁咖啡'));
  });

  test('a failed login shows its state and can be retried', async () => {
    let attempts = 0;
    backend.on('login', () =>
      ++attempts <= 3
        ? fail('UNAVAILABLE', '登录服务不可用')
        : { openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 },
    );
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
    const page = await open();
    expect(text(page)).toContain('商品加载失败');
    page.instance.onReload();
    await until(() => text(page).includes('拿铁咖啡'));
  });
});
