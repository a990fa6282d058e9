/**
 * My orders in both backend modes: tabs and pages, pull-down refresh, per-card actions on unpaid orders, a list that
 * keeps its pages when shown again (changed orders updated in place), and unpaid orders whose payment was started
 * checked with WeChat Pay before they offer to be paid.
 */
import type { ListOrdersResponse } from '../../typings/api';
import { getOrder } from '../../miniprogram/services/orders';
import {
  FakeBackend,
  MODES,
  fail,
  flush,
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

beforeAll(() => {
  pageId = loadComponent('pages/mine/orders/index');
});

function pages(total: number, status?: string) {
  return (event: Record<string, unknown>): ListOrdersResponse => {
    // the fake's cursor is the offset of the next page; the page only hands it back
    const from = event.cursor === undefined ? 0 : Number(event.cursor);
    const size = event.pageSize as number;
    const all = Array.from({ length: total }, (_, i) =>
      status === 'paid' ? paidOrder({ id: `OPAID${i}` }) : orderView({ id: `O${String(i).padStart(3, '0')}` }),
    );
    const hasMore = from + size < total;
    return { orders: all.slice(from, from + size), hasMore, ...(hasMore ? { nextCursor: String(from + size) } : {}) };
  };
}

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let client: ReturnType<typeof resetClient>;

  beforeEach(() => {
    backend = new FakeBackend().on('orders.list', (e) => pages(e.status === 'paid' ? 2 : 23, e.status as string)(e));
    client = resetClient(backend, { mode });
  });

  async function open(query: Record<string, string> = {}): Promise<Rendered> {
    const page = renderPage(pageId);
    page.instance.onLoad(query);
    await until(() => !page.instance.data.loading);
    await flush(5);
    return page;
  }

  test('tabs, newest first as the server sends them, with status labels', async () => {
    const page = await open();
    expect(text(page)).toContain('全部');
    expect(text(page)).toContain('待付款');
    expect(text(page)).toContain('退款/售后');
    expect(page.instance.data.orders).toHaveLength(10);
    expect(text(page)).toContain('拿铁咖啡 × 2');
    expect(text(page)).toContain('¥39.80');
    const tabs = page.querySelectorAll('.tabs__item');
    expect(tabs).toHaveLength(4);
    tabs[2]!.dispatchEvent('tap');
    await until(() => page.instance.data.orders.length === 2);
    expect(backend.of('orders.list').at(-1)).toMatchObject({ action: 'list', status: 'paid' });
    expect(backend.of('orders.list').at(-1)).not.toHaveProperty('cursor');
    expect(text(page)).toContain('已付款');
    expect(text(page)).toContain('没有更多了');
  });

  test('pages load on reaching the bottom until there are no more', async () => {
    const page = await open();
    page.instance.onReachBottom();
    await until(() => page.instance.data.orders.length === 20);
    page.instance.onReachBottom();
    await until(() => page.instance.data.orders.length === 23);
    expect(page.instance.data.hasMore).toBe(false);
    page.instance.onReachBottom();
    await flush(20);
    expect(backend.count('orders.list')).toBe(3);
  });

  test('shown again, the list keeps its pages (and so its scroll position); an order changed elsewhere is updated in place', async () => {
    const page = await open();
    page.instance.onReachBottom();
    await until(() => page.instance.data.orders.length === 20);
    const calls = backend.count('orders.list');
    // the user opened O012, paid it on its detail page, and came back
    backend.on('orders.get', () => paidOrder({ id: 'O012' }));
    await getOrder('O012');
    page.instance.onShow?.();
    await flush(20);
    expect(backend.count('orders.list')).toBe(calls);
    expect(page.instance.data.orders).toHaveLength(20);
    const card = page.instance.data.orders[12];
    expect(card).toMatchObject({ id: 'O012', statusText: '已付款', can: { pay: false } });
    // an order that left this tab leaves the list
    const pendingTab = await open({ tab: 'pending_payment' });
    await getOrder('O012');
    expect(pendingTab.instance.data.orders.map((o: { id: string }) => o.id)).not.toContain('O012');
  });

  test("each next page starts at the server's cursor, and an order the server sends again is shown once", async () => {
    const page = await open();
    expect(backend.of('orders.list').at(-1)).not.toHaveProperty('cursor');
    // between the two pages an order moved: the second page repeats the first page's last card
    backend.on('orders.list', (e) => {
      const next = pages(23)({ ...e, cursor: String(Number(e.cursor) - 1) });
      return next;
    });
    page.instance.onReachBottom();
    await until(() => !page.instance.data.loading && backend.of('orders.list').length === 2);
    await flush(5);
    expect(backend.of('orders.list').at(-1)).toMatchObject({ cursor: '10' });
    const ids = page.instance.data.orders.map((o: { id: string }) => o.id);
    expect(ids).toHaveLength(19);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('pull-down refresh reloads from the first page and stops the spinner', async () => {
    const page = await open();
    page.instance.onReachBottom();
    await until(() => page.instance.data.orders.length === 20);
    await page.instance.onPullDownRefresh();
    expect(backend.of('orders.list').at(-1)).not.toHaveProperty('cursor');
    expect(page.instance.data.orders).toHaveLength(10);
    expect(client.stopPullDownRefresh).toHaveBeenCalled();
  });

  test('unpaid orders carry 付款 and 取消订单 on their card; paying from the card goes to the result page', async () => {
    backend.on('orders.list', () => ({
      orders: [orderView({ id: 'OUNPAID', expiresAt: Date.now() + 60_000 }), paidOrder({ id: 'OPAID' })],
      hasMore: false,
    }));
    backend.on('payment.pay', () => ({
      orderId: 'OUNPAID',
      prepayId: 'wx1',
      params: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 's' },
    }));
    const page = await open();
    expect(page.querySelectorAll('.order-card__pay')).toHaveLength(1);
    expect(page.querySelectorAll('.order-card__cancel')).toHaveLength(1);
    await payThrough(page, '.order-card__pay', 'ok', client.platform);
    expect(backend.of('payment.pay')).toEqual([{ action: 'pay', orderId: 'OUNPAID' }]);
    expect(client.redirectTo).toHaveBeenCalledWith({ url: '/pages/order/result/index?id=OUNPAID&paid=1' });
    expect(client.navigateTo).not.toHaveBeenCalled();
  });

  test('cancel from the card asks first; the card then shows the cancelled order', async () => {
    backend.on('orders.list', () => ({ orders: [orderView({ id: 'OUNPAID' })], hasMore: false }));
    backend.on('orders.cancel', () =>
      orderView({
        id: 'OUNPAID',
        status: 'cancelled',
        can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
      }),
    );
    const page = await open();
    await tap(page, '.order-card__cancel');
    expect(backend.count('orders.cancel')).toBe(0);
    expect(page.instance.data.cancelId).toBe('OUNPAID');
    await page.instance.onConfirmCancel();
    await flush(10);
    expect(backend.of('orders.cancel')).toEqual([{ action: 'cancel', orderId: 'OUNPAID' }]);
    expect(text(page)).toContain('已取消');
    expect(page.querySelector('.order-card__pay')).toBeFalsy();
  });

  test('an unpaid order whose payment was started is checked first: paid at WeChat Pay, it shows paid and no pay button', async () => {
    const started = orderView({
      id: 'OSTARTED',
      timeline: [
        { at: 1, event: 'created' },
        { at: 2, event: 'payment_started' },
      ],
    });
    let release: () => void = () => {};
    backend.on('orders.list', () => ({ orders: [started, orderView({ id: 'ONEVER' })], hasMore: false }));
    backend.on('payment.confirm', () => new Promise((r) => (release = () => r(paidOrder({ id: 'OSTARTED' })))));
    const page = renderPage(pageId);
    page.instance.onLoad({});
    await until(() => backend.count('payment.confirm') === 1);
    await flush(5);
    expect(text(page)).toContain('确认中');
    expect(page.querySelectorAll('.order-card__pay')).toHaveLength(1); // only the order never started
    release();
    await until(() => text(page).includes('已付款'));
    expect(backend.of('payment.confirm')).toEqual([{ action: 'confirm', orderId: 'OSTARTED' }]);
    expect(page.querySelectorAll('.order-card__pay')).toHaveLength(1);
  });

  test('tapping an order opens its detail; an error is shown and can be retried by pulling down', async () => {
    const page = await open();
    await tap(page, '.order-card');
    expect(client.navigateTo).toHaveBeenCalledWith({ url: '/pages/order/detail/index?id=O000' });
    backend.on('orders.list', () => fail('UNAVAILABLE'));
    await page.instance.onPullDownRefresh();
    expect(text(page)).toContain('加载失败');
    expect(client.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务暂时不可用，请稍后重试' }));
  });

  test('an empty list says so', async () => {
    backend.on('orders.list', () => ({ orders: [], hasMore: false }));
    const page = await open({ tab: 'refunds' });
    expect(backend.of('orders.list')[0]).toMatchObject({ status: 'refunds' });
    expect(text(page)).toContain('暂无订单');
  });
});
