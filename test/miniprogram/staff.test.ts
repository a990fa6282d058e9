/**
 * 店员工作台: the queue newest first as the backend sends it, read again every few seconds while on screen and on
 * show (the timer stops on hide), each move confirmed with the buyer's masked phone, hand-over by a typed or scanned
 * code, shipping with a company from WeChat's list and a tracking number, the backend's refusal shown in the dialog,
 * a non-staff caller told so, and 「新订单提醒」 subscribed from here.
 */
import type { StaffOrderView } from '../../typings/api';
import { appConfig } from '../../miniprogram/config';
import { QUEUE_REFRESH_MS } from '../../miniprogram/constants/staff';
import { FakeBackend, fail, loadComponent, renderPage, resetClient, tap, text, type Rendered } from './harness';
import { NOW } from './fixtures';

const none = {
  accept: false,
  decline: false,
  ready: false,
  handOver: false,
  ship: false,
  start: false,
  complete: false,
};
const staffOrder = (o: Partial<StaffOrderView> = {}): StaffOrderView => ({
  id: 'O1',
  status: 'paid',
  items: [{ productId: 'latte', title: '拿铁咖啡', unitPriceFen: 1990, quantity: 2, subtotalFen: 3980 }],
  totalFen: 3980,
  paidAt: NOW,
  contact: { name: '张三', phone: '138****8000' },
  remark: '少冰',
  fulfilment: { kind: 'pickup', state: 'awaiting', at: NOW, steps: [] },
  mine: false,
  can: { ...none, accept: true },
  ...o,
});

let pageId: string;
beforeAll(() => {
  pageId = loadComponent('pages/staff/queue/index');
});

let backend: FakeBackend;
let client: ReturnType<typeof resetClient>;
let queue: StaffOrderView[];
let mine: StaffOrderView[];
beforeEach(() => {
  jest.useFakeTimers();
  queue = [staffOrder({ id: 'O2', remark: '' }), staffOrder()];
  mine = [];
  backend = new FakeBackend()
    .on('staff.me', () => ({ name: '小王', services: [], credits: 0 }))
    .on('staff.queue', () => ({ orders: queue }))
    .on('staff.mine', () => ({ orders: mine }))
    .on('staff.deliveryCompanies', () => ({
      companies: [
        { id: 'SF', name: '顺丰速运' },
        { id: 'ZTO', name: '中通快递' },
      ],
    }));
  client = resetClient(backend, { mode: 'local' });
});
afterEach(() => jest.useRealTimers());

async function open(): Promise<Rendered> {
  const page = renderPage(pageId);
  page.instance.onLoad({});
  page.instance.onShow();
  await jest.advanceTimersByTimeAsync(10);
  return page;
}
async function tapNow(page: Rendered, selector: string) {
  const tapped = tap(page, selector);
  await jest.advanceTimersByTimeAsync(5);
  await tapped;
}
/** a handler's promise under fake timers: the backend answers on a timer */
async function settle(p: Promise<unknown>) {
  await jest.advanceTimersByTimeAsync(20);
  await p;
}
const act = (page: Rendered, id: string, action: string) =>
  settle(page.instance.onAction({ currentTarget: { dataset: { id, action } } }));

test('the queue in the order the backend sends (newest first), with the buyer masked and the remark', async () => {
  const page = await open();
  expect(text(page)).toContain('小王，你好');
  expect(text(page)).toContain('待接单 · 2');
  const cards = page.querySelectorAll('.staff-card');
  expect(cards).toHaveLength(2);
  expect(page.instance.data.sections[0].orders.map((o: { id: string }) => o.id)).toEqual(['O2', 'O1']);
  expect(cards[1]!.dom.textContent).toContain('张三 138****8000');
  expect(cards[1]!.dom.textContent).toContain('备注：少冰');
});

test('read again every few seconds while shown and on show; the timer stops when the page is hidden', async () => {
  const page = await open();
  const reads = () => backend.count('staff.queue');
  expect(reads()).toBe(1);
  await jest.advanceTimersByTimeAsync(QUEUE_REFRESH_MS * 2 + 10);
  expect(reads()).toBe(3);
  queue = [staffOrder({ id: 'O3' }), ...queue];
  await jest.advanceTimersByTimeAsync(QUEUE_REFRESH_MS);
  expect(text(page)).toContain('待接单 · 3');
  page.instance.onHide();
  const hidden = reads();
  await jest.advanceTimersByTimeAsync(QUEUE_REFRESH_MS * 3);
  expect(reads()).toBe(hidden);
  page.instance.onShow();
  await jest.advanceTimersByTimeAsync(5);
  expect(reads()).toBe(hidden + 1);
  page.instance.onUnload();
  await jest.advanceTimersByTimeAsync(QUEUE_REFRESH_MS * 3);
  expect(reads()).toBe(hidden + 1);
});

test('接单 asks first, naming the buyer; confirmed, the backend is called once and the queue read again', async () => {
  backend.on('staff.accept', () => staffOrder({ mine: true }));
  const page = await open();
  await act(page, 'O1', 'accept');
  expect(page.instance.data.pending.text).toContain('张三 138****8000');
  expect(backend.count('staff.accept')).toBe(0);
  const before = backend.count('staff.queue');
  await settle(page.instance.onConfirm());
  expect(backend.of('staff.accept')).toEqual([{ action: 'accept', orderId: 'O1' }]);
  expect(page.instance.data.pending).toBeNull();
  await jest.advanceTimersByTimeAsync(5);
  expect(backend.count('staff.queue')).toBe(before + 1);
});

test("taken by someone else meanwhile: the backend's words in the dialog", async () => {
  backend.on('staff.accept', () => fail('CONFLICT', '这单已被小李接走'));
  const page = await open();
  await act(page, 'O1', 'accept');
  await settle(page.instance.onConfirm());
  expect(page.instance.data.pending).not.toBeNull();
  expect(page.instance.data.formError).toBe('这单已被小李接走');
});

test('交付 needs a 4–6 digit code, typed or scanned', async () => {
  mine = [
    staffOrder({
      id: 'O9',
      mine: true,
      fulfilment: { kind: 'pickup', state: 'ready', at: NOW, steps: [] },
      can: { ...none, handOver: true },
    }),
  ];
  backend.on('staff.handOver', () => staffOrder({ id: 'O9' }));
  const page = await open();
  await act(page, 'O9', 'handOver');
  await settle(page.instance.onConfirm());
  expect(backend.count('staff.handOver')).toBe(0);
  expect(page.instance.data.formError).toContain('取餐码');
  client.scanCode = jest.fn((o: { success(r: unknown): void }) => o.success({ result: '4821', scanType: 'QR_CODE' }));
  Object.assign((globalThis as unknown as { wx: Record<string, unknown> }).wx, { scanCode: client.scanCode });
  await tapNow(page, '.staff__scan');
  expect(page.instance.data.code).toBe('4821');
  await settle(page.instance.onConfirm());
  expect(backend.of('staff.handOver')).toEqual([{ action: 'handOver', orderId: 'O9', pickupCode: '4821' }]);
});

test("发货 picks a company from WeChat's list and needs a tracking number", async () => {
  mine = [
    staffOrder({
      id: 'O7',
      mine: true,
      fulfilment: { kind: 'shipping', state: 'accepted', at: NOW, steps: [] },
      can: { ...none, ship: true },
    }),
  ];
  backend.on('staff.ship', () => staffOrder({ id: 'O7' }));
  const page = await open();
  await act(page, 'O7', 'ship');
  expect(text(page)).toContain('顺丰速运');
  await settle(page.instance.onConfirm());
  expect(page.instance.data.formError).toContain('快递');
  page.instance.onCompany({ currentTarget: { dataset: { id: 'SF' } } });
  page.instance.onTracking({ detail: { value: ' SF1234567890 ' } });
  await settle(page.instance.onConfirm());
  expect(backend.of('staff.ship')).toEqual([
    { action: 'ship', orderId: 'O7', expressCompany: 'SF', trackingNo: 'SF1234567890' },
  ]);
});

test('a caller who is not staff is told so and the timer stops', async () => {
  backend.on('staff.me', () => fail('FORBIDDEN')).on('staff.queue', () => fail('FORBIDDEN'));
  const page = await open();
  expect(text(page)).toContain('你不是本店店员');
  const reads = backend.count('staff.queue');
  await jest.advanceTimersByTimeAsync(QUEUE_REFRESH_MS * 3);
  expect(backend.count('staff.queue')).toBe(reads);
});

test('「新订单提醒」: an acceptance in the tap is recorded', async () => {
  appConfig.staffOrderTemplateId = 'TPL_new_order';
  backend.on('staff.subscribe', () => ({ credits: 1 }));
  client.platform.subscribe.push('accept');
  const page = await open();
  await tapNow(page, '.staff__subscribe');
  await jest.advanceTimersByTimeAsync(5);
  expect(backend.of('staff.subscribe')).toEqual([{ action: 'subscribe', accepted: 1 }]);
  appConfig.staffOrderTemplateId = '';
});
