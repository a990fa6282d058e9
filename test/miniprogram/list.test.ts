import type { ListOrdersResponse } from '../../typings/api';
import { FakeBackend, fail, flush, loadComponent, renderPage, resetClient, tap, text } from './harness';
import { orderView, paidOrder } from './fixtures';

let pageId: string;
let backend: FakeBackend;
let wxMock: ReturnType<typeof resetClient>;

beforeAll(() => {
  pageId = loadComponent('pages/order/list/index');
});

function pages(total: number, status?: string) {
  return (event: Record<string, unknown>): ListOrdersResponse => {
    const page = event.page as number;
    const size = event.pageSize as number;
    const all = Array.from({ length: total }, (_, i) => (status === 'paid' ? paidOrder({ id: `OPAID${i}` }) : orderView({ id: `O${String(i).padStart(3, '0')}` })));
    return { orders: all.slice((page - 1) * size, page * size), page, hasMore: page * size < total };
  };
}

beforeEach(() => {
  backend = new FakeBackend().on('orders.list', (e) => pages(e.status === 'paid' ? 2 : 23, e.status as string)(e));
  wxMock = resetClient(backend);
});

test('tabs, newest first as the server sends them, with status labels', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(5);
  expect(text(page)).toContain('全部');
  expect(text(page)).toContain('待付款');
  expect(text(page)).toContain('退款/售后');
  expect(page.instance.data.orders).toHaveLength(10);
  expect(text(page)).toContain('拿铁咖啡 等 2 件');
  expect(text(page)).toContain('¥39.80');
  const tabs = page.querySelectorAll('.tabs__item');
  expect(tabs).toHaveLength(4);
  tabs[2]!.dispatchEvent('tap');
  await flush(5);
  expect(backend.calls.at(-1)!.event).toMatchObject({ action: 'list', status: 'paid', page: 1 });
  expect(page.instance.data.orders).toHaveLength(2);
  expect(text(page)).toContain('已付款');
  expect(text(page)).toContain('没有更多了');
});

test('pages load on reaching the bottom until there are no more', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(5);
  page.instance.onReachBottom();
  await flush(5);
  page.instance.onReachBottom();
  await flush(5);
  expect(page.instance.data.orders).toHaveLength(23);
  expect(page.instance.data.hasMore).toBe(false);
  page.instance.onReachBottom();
  await flush(5);
  expect(backend.count('orders.list')).toBe(3);
});

test('pull-down refresh reloads from the first page and stops the spinner', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(5);
  page.instance.onReachBottom();
  await flush(5);
  await page.instance.onPullDownRefresh();
  expect(backend.calls.at(-1)!.event).toMatchObject({ page: 1 });
  expect(page.instance.data.orders).toHaveLength(10);
  expect(wxMock.stopPullDownRefresh).toHaveBeenCalled();
});

test('tapping an order opens its detail; an error is shown and can be retried by pulling down', async () => {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  await flush(5);
  await tap(page, '.order-card');
  expect(wxMock.navigateTo).toHaveBeenCalledWith({ url: '/pages/order/detail/index?id=O000' });
  backend.on('orders.list', () => fail('UNAVAILABLE'));
  await page.instance.onPullDownRefresh();
  expect(text(page)).toContain('加载失败');
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '服务暂时不可用，请稍后重试' }));
});

test('an empty list says so', async () => {
  backend.on('orders.list', () => ({ orders: [], page: 1, hasMore: false }));
  const page = renderPage(pageId);
  page.instance.onLoad({ tab: 'refunds' });
  await flush(5);
  expect(backend.calls[0]!.event).toMatchObject({ status: 'refunds' });
  expect(text(page)).toContain('暂无订单');
});
