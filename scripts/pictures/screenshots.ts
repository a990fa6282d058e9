/**
 * `npm run screenshots`: every page in its main states as PNG files under docs/screenshots/ — the shot list. How a
 * page becomes a picture (miniprogram-ci's offline compile, miniprogram-simulate in jsdom, Debian's headless Chromium
 * at 375×812, 2×) is render.ts; what the scripted backend answers is the pictures' part of test/miniprogram/fixtures.ts.
 * Needs `chromium` and `fonts-noto-cjk` (it says so if not). The clock is the fixtures' (14:12 on 2026-11-23), so
 * countdowns read as they would then.
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  SHOT_AT,
  NOW,
  MIN,
  shotAdminOrder as adminOrder,
  shotExceptions as exceptionsOpen,
  shotMetricsDay as metricsDay,
  shotOrder as order,
  shotOrderList as listOrders,
  shotPaid as paid,
  shotProducts as products,
  shotRefunding as refunding,
  shotReview as review,
  shotStatements as statements,
} from '../../test/miniprogram/fixtures';
import { ROOT } from '../release/miniprogram-ci';
import { openStudio, out, type Answer, type Rendered, type Studio } from './render';
import { requireScreenshotTools } from './screenshot-tools';

const SHOTS_DIR = join(ROOT, 'docs', 'screenshots');

const payAnswer = () => ({
  orderId: order().id,
  prepayId: 'wx23141200000001',
  params: {
    timeStamp: '1700000000',
    nonceStr: 'n',
    package: 'prepay_id=wx23141200000001',
    signType: 'RSA',
    paySign: 's',
  },
});

const answers: Record<string, Answer> = {
  login: () => ({ openid: 'o_local_alice', isAdmin: true, createdAt: NOW, lastLoginAt: NOW }),
  'catalog.list': () => ({ products }),
  'orders.confirm': () => order(),
  'orders.list': () => ({ orders: listOrders, page: 1, hasMore: false }),
  'payment.pay': () => payAnswer(),
  'payment.orderAndPay': () => ({ ...payAnswer(), order: order() }),
  'admin.listExceptions': (e) => ({
    exceptions: e.status === 'resolved' ? [] : exceptionsOpen,
    page: 1,
    hasMore: false,
  }),
  'admin.getException': (e) => exceptionsOpen.find((x) => x.id === e.id) ?? exceptionsOpen[0],
  'admin.searchOrders': () => ({
    matchedBy: 'phone',
    orders: [
      adminOrder,
      {
        ...paid({
          id: 'O1C2D3E4F5A6B7C8D9E0',
          createdAt: NOW - 60 * MIN,
          items: [
            { productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 },
          ],
          totalFen: 6800,
          paidFen: 6800,
        }),
      },
    ],
  }),
  'admin.getOrder': () => adminOrder,
  'books.listStatements': () => ({ statements, page: 1, hasMore: false }),
  'books.listMetrics': () => ({ metrics: Array.from({ length: 30 }, (_, i) => metricsDay(i)) }),
};

/** The pictures' studio on the shot list's backend and clock (also used by test/server/browser/pictures.test.ts). */
export function openShotStudio(chromium: string, shotsDir = SHOTS_DIR): Promise<Studio> {
  return openStudio({ chromium, shotsDir, answers, clockAt: SHOT_AT });
}

/** Every page in its main states. */
export async function takeShots(studio: Studio): Promise<void> {
  const { shoot, settle, requireBuilt } = studio;
  const id = 'O7F3A9C2B1D4E5F60718';
  /** t-image shows its picture once <image> reports it loaded */
  const picturesLoaded = (p: Rendered) => {
    for (const host of (
      p as unknown as {
        querySelectorAll(
          s: string,
        ): { querySelector(s: string): { dispatchEvent(n: string, o: unknown): void } | null }[];
      }
    ).querySelectorAll('.product__image')) {
      host.querySelector('.t-image__img')?.dispatchEvent('load', { detail: { width: 320, height: 320 } });
    }
  };
  const payment = requireBuilt<{ describePayFailure(errMsg: string): { message: string } }>('services/payment.js');

  // ---- the buyer
  await shoot('01-catalogue', 'pages/home/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
    const rows = (p.instance.data.products as { quantity: number }[]).map((r, i) => ({
      ...r,
      quantity: i === 0 ? 2 : i === 2 ? 1 : 0,
    }));
    p.instance.setData({ products: rows });
    p.instance.recount();
    await settle();
    picturesLoaded(p);
  });
  answers['catalog.list'] = () => ({ products: [] });
  await shoot('11-catalogue-empty', 'pages/home/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
  answers['catalog.list'] = () => ({ products });
  const items = encodeURIComponent(
    JSON.stringify([
      { productId: 'latte', quantity: 2 },
      { productId: 'croissant', quantity: 1 },
    ]),
  );
  await shoot('02-confirm-items', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000', remark: '少冰，谢谢' });
  });
  await shoot('03-confirm-created', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000', remark: '少冰，谢谢' });
    p.instance.onOrderPlaced(order()); // made by the one tap; the payment sheet was then closed
  });
  await shoot('10-local-cashier', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    p.instance.onOrderPlaced(order());
    void (p.instance.selectComponent('#cashier') as { open(): Promise<unknown> }).open();
  });
  await shoot('14-confirm-pay-failed', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    p.instance.onOrderPlaced(order());
    p.instance.setData({
      failDialogVisible: true,
      failReason: payment.describePayFailure('requestPayment:fail jsapi has no permission').message,
    });
  });
  answers['orders.get'] = () => order();
  await shoot('04-result-checking', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
    p.instance.onUnload();
  });
  await shoot('05-result-pending', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
    p.instance.onUnload();
    p.instance.setData({ state: 'pending' });
  });
  await shoot('13-result-offline', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
    p.instance.onUnload();
    p.instance.setData({ state: 'offline' });
  });
  answers['orders.get'] = () => review;
  await shoot('12-result-review', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  answers['orders.get'] = () => paid();
  await shoot('06-result-paid', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  await shoot('07-order-list', 'pages/mine/orders/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
  answers['orders.get'] = () => order();
  await shoot('08-order-detail-pending', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  answers['orders.get'] = () => refunding;
  await shoot('09-order-detail-refunding', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  answers['orders.get'] = () => paid();
  await shoot('15-order-detail-refund-reasons', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
    p.instance.onOpenRefund();
    p.instance.setData({ refundChoice: '时间冲突，无法参加' });
  });
  answers['orders.get'] = () => review;
  await shoot('16-order-detail-review', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  const can = { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: true };
  answers['orders.get'] = () =>
    paid({
      can,
      fulfilment: {
        kind: 'pickup',
        state: 'ready',
        at: SHOT_AT - 2 * MIN,
        pickupCode: '4821',
        staffName: '小王',
        steps: [
          { state: 'accepted', at: SHOT_AT - 8 * MIN, by: '小王' },
          { state: 'ready', at: SHOT_AT - 2 * MIN, by: '小王' },
        ],
      },
    });
  await shoot('17-order-detail-pickup-ready', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  answers['orders.get'] = () =>
    paid({
      can: { ...can, confirmReceipt: true },
      items: [
        { productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 },
      ],
      fulfilment: {
        kind: 'shipping',
        state: 'shipped',
        at: SHOT_AT - 30 * MIN,
        shipping: { expressCompany: 'SF', expressName: '顺丰速运', trackingNo: 'SF1402938475610' },
        address: {
          userName: '王小明',
          telNumber: '13900139000',
          provinceName: '上海市',
          cityName: '上海市',
          countyName: '徐汇区',
          detailInfo: '漕溪北路 88 号 6 楼',
        },
        steps: [
          { state: 'accepted', at: SHOT_AT - 90 * MIN, by: '小王' },
          { state: 'shipped', at: SHOT_AT - 30 * MIN, by: '小王' },
        ],
      },
    });
  await shoot('18-order-detail-shipped', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  answers['orders.get'] = () =>
    paid({
      can: { ...can, requestAfterSale: false },
      fulfilment: { kind: 'pickup', state: 'accepted', at: SHOT_AT - 5 * MIN, staffName: '小王', steps: [] },
      afterSale: { status: 'requested', reason: '点错了口味，想换成美式', at: SHOT_AT - 1 * MIN },
    });
  await shoot('19-order-detail-after-sale', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  await shoot('30-mine', 'pages/mine/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
    p.instance.setData({ isAdmin: true, isStaff: true });
  });
  const staffOrder = (o: Record<string, unknown>) => ({
    id: 'O7F3A9C2B1D4E5F60718',
    status: 'paid',
    items: [{ productId: 'latte', title: '拿铁咖啡', unitPriceFen: 1990, quantity: 2, subtotalFen: 3980 }],
    totalFen: 3980,
    paidAt: SHOT_AT - 3 * MIN,
    contact: { name: '张三', phone: '138****8000' },
    remark: '少冰',
    fulfilment: { kind: 'pickup', state: 'awaiting', at: SHOT_AT - 3 * MIN, steps: [] },
    mine: false,
    can: { accept: true, decline: false, ready: false, handOver: false, ship: false, start: false, complete: false },
    ...o,
  });
  answers['staff.me'] = () => ({ name: '小王', services: [], credits: 3 });
  answers['staff.queue'] = () => ({
    orders: [
      staffOrder({ id: 'O8A1', remark: '', paidAt: SHOT_AT - 1 * MIN }),
      staffOrder({
        id: 'O8A2',
        items: [
          { productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 },
        ],
        totalFen: 6800,
        remark: '',
        contact: { name: '王小明', phone: '139****9000' },
        fulfilment: { kind: 'shipping', state: 'awaiting', at: SHOT_AT - 2 * MIN, steps: [] },
      }),
    ],
  });
  answers['staff.mine'] = () => ({
    orders: [
      staffOrder({
        id: 'O8A3',
        mine: true,
        fulfilment: { kind: 'pickup', state: 'accepted', at: SHOT_AT - 6 * MIN, steps: [] },
        can: {
          accept: false,
          decline: false,
          ready: true,
          handOver: false,
          ship: false,
          start: false,
          complete: false,
        },
      }),
      staffOrder({
        id: 'O8A4',
        mine: true,
        remark: '',
        contact: { name: '李四', phone: '137****1111' },
        fulfilment: { kind: 'pickup', state: 'ready', at: SHOT_AT - 2 * MIN, steps: [] },
        can: {
          accept: false,
          decline: false,
          ready: false,
          handOver: true,
          ship: false,
          start: false,
          complete: false,
        },
      }),
    ],
  });
  answers['staff.deliveryCompanies'] = () => ({
    companies: [
      { id: 'SF', name: '顺丰速运' },
      { id: 'ZTO', name: '中通快递' },
      { id: 'YTO', name: '圆通速递' },
      { id: 'JD', name: '京东物流' },
    ],
  });
  await shoot('40-staff-queue', 'pages/staff/queue/index', async (p) => {
    p.instance.onLoad({});
    await p.instance.refresh();
    await settle();
  });
  await shoot('41-staff-hand-over', 'pages/staff/queue/index', async (p) => {
    p.instance.onLoad({});
    await p.instance.refresh();
    await p.instance.onAction({ currentTarget: { dataset: { id: 'O8A4', action: 'handOver' } } });
    p.instance.setData({ code: '4821' });
    await settle();
  });
  await shoot('42-staff-ship', 'pages/staff/queue/index', async (p) => {
    p.instance.onLoad({});
    await p.instance.refresh();
    await p.instance.onAction({ currentTarget: { dataset: { id: 'O8A2', action: 'ship' } } });
    p.instance.setData({ company: 'SF', trackingNo: 'SF1402938475610' });
    await settle();
  });

  // ---- the merchant
  await shoot('20-admin-home', 'pages/admin/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
  await shoot('21-admin-exceptions', 'pages/admin/exceptions/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
  await shoot('22-admin-exception-review', 'pages/admin/exception/index', async (p) => {
    p.instance.onLoad({ id: encodeURIComponent(exceptionsOpen[0]!.id) });
    await settle();
  });
  await shoot('23-admin-abnormal-refund-card', 'pages/admin/exception/index', async (p) => {
    p.instance.onLoad({ id: encodeURIComponent(exceptionsOpen[1]!.id) });
    await settle();
    p.instance.onAction({ currentTarget: { dataset: { action: 'userCard' } } });
    p.instance.setData({ bankType: 'CMB_DEBIT', bankAccount: '6214830000001234', realName: '李四' });
  });
  await shoot('24-admin-order-search', 'pages/admin/orders/index', async (p) => {
    p.instance.onQuery({ detail: { value: '13800138000' } });
    await p.instance.onSearch();
  });
  await shoot('25-admin-order', 'pages/admin/order/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
  });
  await shoot('26-admin-order-refund', 'pages/admin/order/index', async (p) => {
    p.instance.onLoad({ id });
    await settle();
    p.instance.onOpenRefund();
    p.instance.setData({ refundAmount: '12.00', refundReason: '可颂售罄，退一份' });
  });
  await shoot('27-admin-statements', 'pages/admin/statements/index', async (p) => {
    p.instance.onLoad({});
    await settle();
    p.instance.setData({ expanded: '2026-11-22' });
  });
  await shoot('28-admin-metrics', 'pages/admin/metrics/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
}

/**
 * PICTURES_DIR: where the PNG files go (default docs/screenshots); PICTURES_ONLY: the shots to take, by name, comma
 * separated (the others are skipped, their preparations too). The tests use both.
 */
async function main(): Promise<void> {
  const dir = process.env.PICTURES_DIR || SHOTS_DIR;
  const studio = await openShotStudio(requireScreenshotTools(), dir);
  const only = process.env.PICTURES_ONLY ? new Set(process.env.PICTURES_ONLY.split(',')) : undefined;
  out(`${dir.startsWith(ROOT) ? dir.slice(ROOT.length + 1) : dir}:`);
  await takeShots(
    only ? { ...studio, shoot: (n, p, f) => (only.has(n) ? studio.shoot(n, p, f) : Promise.resolve()) } : studio,
  );
  for (const t of studio.smallTargets)
    out(`  small target in ${t.shot}: ${t.what} ${t.width.toFixed(0)}×${t.height.toFixed(0)} px (under 44 px, 88rpx)`);
  await studio.close();
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      writeSync(2, `${String((error as Error)?.stack ?? error)}\n`);
      process.exit(1);
    },
  );
