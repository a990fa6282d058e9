/**
 * Navigation: the tab bar (点单 / 订单 / 我的) on every tab page, the tab pages in the main package, 我的's entries
 * (orders by status one tap away, 联系客服, the privacy guide, the merchant's entry for admins), and the catalogue
 * shared with the shop's name and a picture, its checkout bar only when something is on sale, and its login banner
 * only when login failed.
 */
import { readFileSync } from 'node:fs';
import { appConfig } from '../../miniprogram/config';
import { TABS } from '../../miniprogram/constants/tabs';
import {
  FakeBackend,
  MINIPROGRAM,
  attr,
  fail,
  flush,
  loadComponent,
  renderPage,
  resetClient,
  tap,
  text,
  until,
} from './harness';
import { orderView, products } from './fixtures';

const app = JSON.parse(readFileSync(`${MINIPROGRAM}/app.json`, 'utf8')) as {
  pages: string[];
  subpackages: { root: string }[];
  tabBar: { custom: boolean; list: { pagePath: string; text: string }[] };
};

let tabBarId: string;
let mineId: string;
let ordersId: string;
let homeId: string;

beforeAll(() => {
  tabBarId = loadComponent('custom-tab-bar/index');
  mineId = loadComponent('pages/mine/index/index');
  ordersId = loadComponent('pages/mine/orders/index');
  homeId = loadComponent('pages/home/index/index');
});

let backend: FakeBackend;
let client: ReturnType<typeof resetClient>;
beforeEach(() => {
  backend = new FakeBackend()
    .on('catalog.list', () => ({ products }))
    .on('orders.list', () => ({ orders: [orderView()], page: 1, hasMore: false }));
  client = resetClient(backend, { mode: 'local' });
});

test('app.json: a custom tab bar of 点单 / 订单 / 我的, its pages in the main package, in the order of constants/tabs.ts', () => {
  expect(app.tabBar.custom).toBe(true);
  expect(app.tabBar.list.map((t) => [`/${t.pagePath}`, t.text])).toEqual(TABS.map((t) => [t.url, t.label]));
  for (const tab of app.tabBar.list) {
    expect(app.pages).toContain(tab.pagePath);
    // WeChat: a tab page cannot be in a subpackage
    expect(app.subpackages.some((p) => tab.pagePath.startsWith(`${p.root}/`))).toBe(false);
  }
});

test('the tab bar switches tabs with wx.switchTab, and a tab page marks its own tab when shown', async () => {
  const bar = renderPage(tabBarId);
  expect(text(bar)).toContain('点单');
  expect(text(bar)).toContain('订单');
  expect(text(bar)).toContain('我的');
  bar.querySelector('.t-tab-bar')!;
  bar.instance.onChange({ detail: { value: 'orders' } });
  expect(client.switchTab).toHaveBeenCalledWith({ url: '/pages/mine/orders/index' });
  // the tab already shown: nothing
  (client.switchTab as jest.Mock).mockClear();
  bar.instance.onChange({ detail: { value: 'home' } });
  expect(client.switchTab).not.toHaveBeenCalled();

  const mine = renderPage(mineId);
  const setData = jest.fn();
  mine.instance.getTabBar = () => ({ setData });
  mine.instance.onShow();
  expect(setData).toHaveBeenCalledWith({ value: 'mine' });
});

test('我的: a status opens the 订单 tab on that status', async () => {
  const mine = renderPage(mineId);
  mine.instance.onLoad({});
  await flush(5);
  expect(text(mine)).toContain('待付款');
  expect(text(mine)).toContain('退款/售后');
  mine.querySelector('.mine__tab--refunds')!.dispatchEvent('tap');
  await flush(5);
  expect(client.switchTab).toHaveBeenCalledWith({ url: '/pages/mine/orders/index' });
  const orders = renderPage(ordersId);
  orders.instance.onLoad({});
  orders.instance.onShow();
  await flush(20);
  expect(orders.instance.data.tab).toBe('refunds');
  expect(backend.of('orders.list').at(-1)).toMatchObject({ status: 'refunds' });
});

test("我的: 联系客服 is WeChat's contact button, the guide opens wx.openPrivacyContract, the merchant entry for admins only", async () => {
  (globalThis as unknown as { wx: Record<string, unknown> }).wx.openPrivacyContract = client.openPrivacyContract =
    jest.fn();
  const buyer = renderPage(mineId);
  buyer.instance.onLoad({});
  await flush(10);
  expect(attr(buyer.querySelector('.mine__contact')!, 'open-type')).toBe('contact');
  expect(buyer.querySelector('.mine__admin')).toBeFalsy();
  await tap(buyer.querySelector('.mine__privacy')!, '.t-cell');
  expect(client.openPrivacyContract).toHaveBeenCalled();

  backend.on('login', () => ({ openid: 'o-admin', isAdmin: true, createdAt: 1, lastLoginAt: 1 }));
  client = resetClient(backend, { mode: 'local' });
  const admin = renderPage(mineId);
  admin.instance.onLoad({});
  const { ensureLogin } = await import('../../miniprogram/services/auth');
  await ensureLogin();
  await until(() => admin.instance.data.isAdmin === true);
  await tap(admin.querySelector('.mine__admin')!, '.t-cell');
  expect(client.navigateTo).toHaveBeenCalledWith({ url: '/pages/admin/index/index' });
});

test('an empty 订单 tab says so with an icon and a way to the catalogue', async () => {
  backend.on('orders.list', () => ({ orders: [], page: 1, hasMore: false }));
  const orders = renderPage(ordersId);
  orders.instance.onLoad({});
  await flush(20);
  expect(text(orders)).toContain('暂无订单');
  expect(orders.querySelector('.orders__empty')!.instance.data.iconName).toBe('file-paste');
  await tap(orders, '.orders__go');
  expect(client.switchTab).toHaveBeenCalledWith({ url: '/pages/home/index/index' });
});

describe('the catalogue', () => {
  async function openHome() {
    const page = renderPage(homeId);
    page.instance.onLoad({});
    await until(() => !page.instance.data.loading);
    await flush(5);
    return page;
  }

  test("shares to a chat and to Moments with the shop's name and the first picture", async () => {
    backend.on('catalog.list', () => ({
      products: [{ ...products[0]!, image: '/assets/products/latte.png' }, products[1]!],
    }));
    const page = await openHome();
    expect(page.instance.onShareAppMessage()).toEqual({
      title: `${appConfig.merchantName} · 今日供应`,
      imageUrl: `${appConfig.localCloudUrl}/assets/products/latte.png`,
      path: '/pages/home/index/index',
    });
    expect(page.instance.onShareTimeline()).toEqual({
      title: `${appConfig.merchantName} · 今日供应`,
      imageUrl: `${appConfig.localCloudUrl}/assets/products/latte.png`,
    });
  });

  test('nothing on sale: no checkout bar; something on sale: the bar', async () => {
    backend.on('catalog.list', () => ({ products: [] }));
    const empty = await openHome();
    expect(empty.querySelector('.checkout-bar')).toBeFalsy();
    backend.on('catalog.list', () => ({ products }));
    const full = await openHome();
    expect(full.querySelector('.checkout-bar')).toBeTruthy();
  });

  test('the login banner shows only when login failed', async () => {
    const ok = await openHome();
    expect(ok.querySelector('.home__login')).toBeFalsy();
    backend.on('login', () => fail('INTERNAL'));
    client = resetClient(backend, { mode: 'local' });
    const page = renderPage(homeId);
    page.instance.onLoad({});
    expect(page.querySelector('.home__login')).toBeFalsy(); // logging in: no banner
    await until(() => page.instance.data.loginState === 'failed', 10_000);
    expect(text(page)).toContain('登录失败');
  }, 15_000);
});
