/**
 * `npm run screenshots`: every page in its main states as PNG files under docs/screenshots/.
 * Recipe: miniprogram-ci compiles the project offline (TDesign's ES modules become CommonJS); miniprogram-simulate
 * renders each page into jsdom on scripted backend data; the DOM and the collected styles become an HTML file that
 * Debian's headless Chromium photographs at 375×812, 2×. Needs `chromium` and `fonts-noto-cjk` (it says so if not).
 * What a picture cannot show: layout measured at run time, native components, animations; TDesign's icon font is
 * remote, so icons are drawn as text. Product pictures come from localcloud/assets (what the local cloud serves).
 * The clock is the fixtures' (14:12 on 2026-11-23), so countdowns read as they would then.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JSDOM } from 'jsdom';
import { compile, packNpm, ROOT } from '../release/miniprogram-ci';
import { requireScreenshotTools } from './screenshot-tools';

const out = (line: string) => writeSync(1, `${line}\n`);
const SHOTS_DIR = join(ROOT, 'docs', 'screenshots');


// ---- fixtures: what the scripted backend answers ---------------------------------------------------------------

const NOW = new Date(2026, 10, 23, 14, 0).getTime();
const MIN = 60_000;
/** the moment the pictures are taken: twelve minutes after the unpaid order was made */
const SHOT_AT = NOW + 12 * MIN;
const products = [
  { id: 'latte', title: '拿铁咖啡', description: '现磨浓缩与鲜牛奶，中杯', priceFen: 1990, maxPerOrder: 10, image: '/assets/products/latte.png' },
  { id: 'americano', title: '美式咖啡', description: '双份浓缩，中杯', priceFen: 1500, maxPerOrder: 10, image: '/assets/products/americano.png' },
  { id: 'croissant', title: '黄油可颂', description: '法国黄油，每日现烤', priceFen: 1200, maxPerOrder: 5, image: '/assets/products/croissant.png' },
  { id: 'beans-250g', title: '云南咖啡豆 250g', description: '中度烘焙，保山小粒', priceFen: 6800, maxPerOrder: 3, image: '/assets/products/beans-250g.png' },
  { id: 'class-latte-art', title: '拉花体验课', description: '周末小班课，含两杯咖啡', priceFen: 19900, maxPerOrder: 2, serviceStartsAt: NOW + 7 * 24 * 60 * MIN, image: '/assets/products/class-latte-art.png' },
  { id: 'sample-1fen', title: '一分钱测试商品', description: '用于联调支付流程（没有图片时显示占位）', priceFen: 1, maxPerOrder: 1 },
];
function order(overrides: Record<string, unknown> = {}) {
  return {
    id: 'O7F3A9C2B1D4E5F60718',
    status: 'pending_payment',
    items: [
      { productId: 'latte', title: '拿铁咖啡', unitPriceFen: 1990, quantity: 2, subtotalFen: 3980 },
      { productId: 'croissant', title: '黄油可颂', unitPriceFen: 1200, quantity: 1, subtotalFen: 1200 },
    ],
    totalFen: 5180,
    paidFen: 0,
    refundedFen: 0,
    refundableFen: 0,
    contact: { name: '张三', phone: '13800138000' },
    remark: '少冰，谢谢',
    createdAt: NOW,
    expiresAt: NOW + 30 * MIN,
    timeline: [{ at: NOW, event: 'created' }],
    refunds: [],
    can: { pay: true, cancel: true, requestRefund: false },
    ...overrides,
  };
}
const paid = (overrides: Record<string, unknown> = {}) =>
  order({
    status: 'paid',
    paidFen: 5180,
    refundableFen: 5180,
    paidAt: NOW + 2 * MIN,
    timeline: [
      { at: NOW, event: 'created' },
      { at: NOW + MIN, event: 'payment_started' },
      { at: NOW + 2 * MIN, event: 'paid' },
    ],
    can: { pay: false, cancel: false, requestRefund: true },
    ...overrides,
  });
const refunding = paid({
  status: 'refunding',
  refundableFen: 0,
  can: { pay: false, cancel: false, requestRefund: false },
  refunds: [{ outRefundNo: 'O7F3A9C2B1D4E5F60718R1A2B3C4D5E', amountFen: 5180, reason: '时间冲突，无法参加', status: 'processing', requestedBy: 'user', createdAt: NOW + 90 * MIN }],
  timeline: [
    { at: NOW, event: 'created' },
    { at: NOW + MIN, event: 'payment_started' },
    { at: NOW + 2 * MIN, event: 'paid' },
    { at: NOW + 90 * MIN, event: 'refund_requested' },
  ],
});
const review = order({
  status: 'review',
  can: { pay: false, cancel: false, requestRefund: false },
  timeline: [
    { at: NOW, event: 'created' },
    { at: NOW + MIN, event: 'payment_started' },
    { at: NOW + 2 * MIN, event: 'review' },
  ],
});
const listOrders = [
  order(),
  paid({ id: 'O1C2D3E4F5A6B7C8D9E0', items: [{ productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 }], totalFen: 6800, createdAt: NOW - 60 * MIN }),
  { ...refunding, id: 'O0A1B2C3D4E5F6A7B8C9', createdAt: NOW - 26 * 60 * MIN },
  order({ id: 'O9F8E7D6C5B4A3928170', status: 'closed', createdAt: NOW - 50 * 60 * MIN, can: { pay: false, cancel: false, requestRefund: false } }),
];

// the merchant's side
const exceptionsOpen = [
  {
    id: 'amount_mismatch:O5D6E7F8A9B0C1D2E3F4P1',
    kind: 'amount_mismatch',
    status: 'open',
    orderId: 'O5D6E7F8A9B0C1D2E3F4',
    outTradeNo: 'O5D6E7F8A9B0C1D2E3F4P1',
    transactionId: '4200002026112314052288731190',
    expectedFen: 5180,
    actualFen: 4980,
    detail: 'WeChat Pay total 4980 fen, payment 5180 fen',
    firstSeenAt: NOW - 30 * MIN,
    lastSeenAt: NOW - 28 * MIN,
    occurrences: 2,
  },
  {
    id: 'abnormal_refund:O0A1B2C3D4E5F6A7B8C9R7F2E1D0C9B',
    kind: 'abnormal_refund',
    status: 'open',
    orderId: 'O0A1B2C3D4E5F6A7B8C9',
    outRefundNo: 'O0A1B2C3D4E5F6A7B8C9R7F2E1D0C9B',
    actualFen: 5180,
    detail: 'REFUND.ABNORMAL: the user’s bank card refused the refund',
    firstSeenAt: NOW - 3 * 60 * MIN,
    lastSeenAt: NOW - 5 * MIN,
    occurrences: 4,
  },
  {
    id: 'duplicate_charge:O3A4B5C6D7E8F9A0B1C2P2',
    kind: 'duplicate_charge',
    status: 'open',
    orderId: 'O3A4B5C6D7E8F9A0B1C2',
    outTradeNo: 'O3A4B5C6D7E8F9A0B1C2P2',
    actualFen: 1990,
    detail: 'a second successful payment for order O3A4B5C6D7E8F9A0B1C2 (paid): refunded in full automatically',
    firstSeenAt: NOW - 2 * 24 * 60 * MIN,
    lastSeenAt: NOW - 2 * 24 * 60 * MIN,
    occurrences: 1,
  },
];
const adminOrder = {
  ...refunding,
  openid: 'oLx3Kq9hN2vT8mP4rS6wY1zA5bC7d',
  payments: [
    { outTradeNo: 'O7F3A9C2B1D4E5F60718P1', status: 'closed', amountFen: 5180, createdAt: NOW + MIN },
    { outTradeNo: 'O7F3A9C2B1D4E5F60718P2', status: 'success', amountFen: 5180, paidTotalFen: 5180, transactionId: '4200002026112314052288731190', createdAt: NOW + 90_000, paidAt: NOW + 2 * MIN },
  ],
  refundableFen: 3190,
  status: 'partially_refunded',
  refundedFen: 1990,
  refunds: [{ outRefundNo: 'O7F3A9C2B1D4E5F60718R1A2B3C4D5E', amountFen: 1990, reason: '少做了一杯拿铁', status: 'success', requestedBy: 'admin', createdAt: NOW + 40 * MIN, settledAt: NOW + 41 * MIN }],
};
const statements = [
  {
    billDate: '2026-11-22',
    status: 'done',
    attempts: 1,
    bill: { paymentCount: 128, refundCount: 6, grossFen: 301_240, refundFen: 11_940, feeFen: 1807, netFen: 287_493, settlementFen: 301_240, feeMilliFen: 6000, rows: 134, sha1: '' },
    books: { paymentCount: 127, refundCount: 6, grossFen: 299_250, refundFen: 11_940, feeFen: 1796, netFen: 285_514 },
    differences: [
      { kind: 'missing_here', subject: 'payment', outTradeNo: 'O2B3C4D5E6F7A8B9C0D1P1', orderId: 'O2B3C4D5E6F7A8B9C0D1', billFen: 1990, billState: 'SUCCESS', booksState: 'prepaid', detail: 'paid at WeChat Pay, pending here', healed: '向微信支付查询后已记为已支付' },
      { kind: 'amount_differs', subject: 'payment', outTradeNo: 'O5D6E7F8A9B0C1D2E3F4P1', orderId: 'O5D6E7F8A9B0C1D2E3F4', billFen: 4980, booksFen: 5180, detail: 'amounts differ', exceptionId: 'amount_mismatch:O5D6E7F8A9B0C1D2E3F4P1' },
    ],
    differenceCount: 2,
    healedCount: 1,
    openCount: 1,
    runs: 1,
    updatedAt: NOW - 4 * 60 * MIN,
    completedAt: NOW - 4 * 60 * MIN,
  },
  { billDate: '2026-11-21', status: 'done', attempts: 1, differences: [], differenceCount: 0, healedCount: 0, openCount: 0, runs: 1, updatedAt: NOW - 28 * 60 * MIN,
    bill: { paymentCount: 96, refundCount: 2, grossFen: 215_600, refundFen: 3980, feeFen: 1294, netFen: 210_326, settlementFen: 215_600, feeMilliFen: 6000, rows: 98, sha1: '' },
    books: { paymentCount: 96, refundCount: 2, grossFen: 215_600, refundFen: 3980, feeFen: 1294, netFen: 210_326 } },
  { billDate: '2026-11-20', status: 'done', attempts: 2, differences: [], differenceCount: 0, healedCount: 0, openCount: 0, runs: 1, updatedAt: NOW - 52 * 60 * MIN },
];
function metricsDay(i: number) {
  const date = new Date(NOW - (i + 1) * 24 * 60 * MIN);
  const d = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  const weekend = date.getDay() === 0 || date.getDay() === 6;
  const paidCount = Math.round((weekend ? 140 : 95) + 25 * Math.sin(i / 2.3) - i);
  const refused = i === 9 ? 37 : i % 7 === 3 ? 2 : 0;
  return {
    date: d,
    rolledUpAt: NOW,
    orders: { created: paidCount + 18, paid: paidCount, expired: 11 + (i % 4), cancelled: 4 + (i % 3) },
    paidBy: { notification: paidCount - 3, query: 2, reconcile: 1, bill: i === 1 ? 1 : 0, unknown: 0 },
    prepayToPaid: { count: paidCount, buckets: [], p50Seconds: 14 + (i % 5), p90Seconds: 48 + (i % 9) * 3 },
    notifications: { total: paidCount + 9 + refused, byVerdict: { paid: paidCount, duplicate: 9, ...(refused ? { 'rejected:BAD_SIGNATURE': refused } : {}) } },
    refunds: { created: 3 + (i % 4), byStatus: { queued: 0, unknown: 0, processing: i === 0 ? 1 : 0, abnormal: i === 0 ? 1 : 0, success: 2 + (i % 4), closed: 0, failed: 0 }, openOver5Minutes: i === 0 ? 2 : 0, openOver3Days: 0 },
    exceptionsOpen: { amount_mismatch: 1, duplicate_charge: 1, abnormal_refund: 1, refund_unapplied: 0, refund_refused: 0, unknown_payment: 0, payment_mismatch: 0, bill_difference: 0 },
    bill: { status: 'done', differences: i === 0 ? 2 : 0, healed: i === 0 ? 1 : 0, open: i === 0 ? 1 : 0 },
  };
}

type Answer = (event: Record<string, unknown>) => unknown;
const answers: Record<string, Answer> = {
  login: () => ({ openid: 'o_local_alice', isAdmin: true, createdAt: NOW, lastLoginAt: NOW }),
  'catalog.list': () => ({ products }),
  'orders.confirm': () => order(),
  'orders.list': () => ({ orders: listOrders, page: 1, hasMore: false }),
  'payment.pay': () => ({ orderId: order().id, prepayId: 'wx23141200000001', params: { timeStamp: '1700000000', nonceStr: 'n', package: 'prepay_id=wx23141200000001', signType: 'RSA', paySign: 's' } }),
  'admin.listExceptions': (e) => ({ exceptions: e.status === 'resolved' ? [] : exceptionsOpen, page: 1, hasMore: false }),
  'admin.getException': (e) => exceptionsOpen.find((x) => x.id === e.id) ?? exceptionsOpen[0],
  'admin.searchOrders': () => ({ matchedBy: 'phone', orders: [adminOrder, { ...paid({ id: 'O1C2D3E4F5A6B7C8D9E0', createdAt: NOW - 60 * MIN, items: [{ productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 }], totalFen: 6800, paidFen: 6800 }) }] }),
  'admin.getOrder': () => adminOrder,
  'admin.listStatements': () => ({ statements, page: 1, hasMore: false }),
  'admin.listMetrics': () => ({ metrics: Array.from({ length: 30 }, (_, i) => metricsDay(i)) }),
};

// ---- rendering --------------------------------------------------------------------------------------------------

interface Rendered {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- page methods are called by name
  instance: { data: Record<string, any>; [method: string]: any };
  dom: HTMLElement;
  attach(parent: Element): void;
}

async function main(): Promise<void> {
  const chromium = requireScreenshotTools();
  const work = mkdtempSync(join(tmpdir(), 'shots-'));
  await packNpm(ROOT);
  const files = await compile(ROOT);
  rmSync(join(ROOT, '.compiled.zip'), { force: true });
  const build = join(work, 'build');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(build, path)), { recursive: true });
    writeFileSync(join(build, path), content);
  }

  // jsdom as the page's world; its Event types replace node's so taps and events are accepted
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
  const g = globalThis as Record<string, unknown>;
  for (const key of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'MouseEvent', 'getComputedStyle', 'requestAnimationFrame']) {
    g[key] = key === 'window' ? dom.window : (dom.window as unknown as Record<string, unknown>)[key];
  }
  g.getApp = () => ({ globalData: {} });
  g.getCurrentPages = () => [];
  const noop = () => undefined;
  g.wx = {
    showToast: noop,
    navigateTo: noop,
    redirectTo: noop,
    reLaunch: noop,
    stopPullDownRefresh: noop,
    setClipboardData: noop,
    nextTick: (f: () => void) => setTimeout(f, 0),
    // a develop build on the local cloud: product pictures come from its /assets/
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
  };
  // the fixtures' clock, so countdowns and "剩余支付时间" read as they would at SHOT_AT
  const realNow = Date.now.bind(Date);
  const started = realNow();
  Date.now = () => SHOT_AT + (realNow() - started);

  // bare requires from the compiled tree (TDesign's "tslib") resolve to the nearest miniprogram_npm, as on a device
  const mod = Module as unknown as { _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request, parent, ...rest) {
    if (parent?.filename?.startsWith(build) && !request.startsWith('.') && !request.startsWith('/') && !request.startsWith('node:')) {
      for (let dir = dirname(parent.filename); dir.startsWith(build); dir = dirname(dir)) {
        const candidate = join(dir, 'miniprogram_npm', request, 'index.js');
        if (existsSync(candidate)) return candidate;
      }
    }
    return original.call(this, request, parent, ...rest);
  };

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const simulate = require('miniprogram-simulate') as { load(path: string, options: Record<string, unknown>): string; render(id: string): Rendered; sleep(ms: number): Promise<void> };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const transport = require(join(build, 'services/transport.js')) as { setTransport(t: unknown): void };
  transport.setTransport({
    loginCode: async () => 'code',
    callFunction: async (fn: string, event: Record<string, unknown>) => {
      const key = typeof event.action === 'string' ? `${fn}.${event.action}` : fn;
      const answer = answers[key];
      return answer ? { ok: true, data: answer(event) } : { ok: false, error: { code: 'INTERNAL', message: key } };
    },
  });

  const tdesignRoot = join(build, 'miniprogram_npm/tdesign-miniprogram');
  const ids = new Map<string, string>();
  const loadTree = (path: string): string => {
    if (ids.has(path)) return ids.get(path)!;
    const json = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { usingComponents?: Record<string, string> };
    const usingComponents: Record<string, string> = {};
    for (const [tag, target] of Object.entries(json.usingComponents ?? {})) {
      if (target.startsWith('tdesign-miniprogram/')) {
        const p = join(tdesignRoot, target.slice('tdesign-miniprogram/'.length));
        if (!ids.has(p)) {
          // simulate registers a component by running its js: one already required as another TDesign component's
          // dependency (t-image under t-empty) would not run again, so TDesign's modules are required afresh
          for (const key of Object.keys(require.cache)) if (key.startsWith(tdesignRoot)) delete require.cache[key];
          ids.set(p, simulate.load(p, { rootPath: tdesignRoot, compiler: 'official', less: false }));
        }
        usingComponents[tag] = ids.get(p)!;
      } else if (target.startsWith('/') || target.startsWith('.')) {
        usingComponents[tag] = loadTree(target.startsWith('/') ? join(build, target.slice(1)) : join(dirname(path), target));
        simulate.render(usingComponents[tag]!); // a separate load's styles are injected when it is rendered
      }
    }
    const id = simulate.load(path, { rootPath: build, usingComponents, less: false });
    ids.set(path, id);
    return id;
  };

  const appWxss = readFileSync(join(ROOT, 'miniprogram/app.wxss'), 'utf8');
  mkdirSync(SHOTS_DIR, { recursive: true });

  const shoot = async (name: string, pagePath: string, prepare: (page: Rendered) => Promise<void> | void) => {
    const page = simulate.render(loadTree(join(build, pagePath)));
    const parent = dom.window.document.createElement('parent-wrapper');
    dom.window.document.body.innerHTML = '';
    dom.window.document.body.appendChild(parent);
    page.attach(parent);
    await prepare(page);
    await simulate.sleep(50);
    exposeNativeValues(dom.window.document);
    const html = pageHtml(dom.window.document, page.dom.outerHTML, appWxss);
    const htmlFile = join(work, `${name}.html`);
    writeFileSync(htmlFile, html);
    const png = join(SHOTS_DIR, `${name}.png`);
    execFileSync(chromium, [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(work, 'chrome')}`,
      '--hide-scrollbars',
      '--force-device-scale-factor=2',
      '--window-size=375,812',
      `--screenshot=${png}`,
      `file://${htmlFile}`,
    ], { stdio: 'ignore' });
    out(`  ${png.slice(ROOT.length + 1)}`);
  };
  const settle = () => simulate.sleep(30);

  out('docs/screenshots:');
  const id = 'O7F3A9C2B1D4E5F60718';
  /** t-image shows its picture once <image> reports it loaded */
  const picturesLoaded = (p: Rendered) => {
    for (const host of (p as unknown as { querySelectorAll(s: string): { querySelector(s: string): { dispatchEvent(n: string, o: unknown): void } | null }[] }).querySelectorAll('.product__image')) {
      host.querySelector('.t-image__img')?.dispatchEvent('load', { detail: { width: 320, height: 320 } });
    }
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const payment = require(join(build, 'services/payment.js')) as { describePayFailure(errMsg: string): { message: string } };

  // ---- the buyer
  await shoot('01-catalogue', 'pages/home/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
    const rows = (p.instance.data.products as { quantity: number }[]).map((r, i) => ({ ...r, quantity: i === 0 ? 2 : i === 2 ? 1 : 0 }));
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
  const items = encodeURIComponent(JSON.stringify([{ productId: 'latte', quantity: 2 }, { productId: 'croissant', quantity: 1 }]));
  await shoot('02-confirm-items', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000', remark: '少冰，谢谢' });
  });
  await shoot('03-confirm-created', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000', remark: '少冰，谢谢' });
    await p.instance.ensureOrder(); // made by the one tap; the payment sheet was then closed
  });
  await shoot('10-local-cashier', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    await p.instance.ensureOrder();
    void (p.instance.selectComponent('#cashier') as { open(): Promise<unknown> }).open();
  });
  await shoot('14-confirm-pay-failed', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    await p.instance.ensureOrder();
    p.instance.setData({ failDialogVisible: true, failReason: payment.describePayFailure('requestPayment:fail jsapi has no permission').message });
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
  await shoot('07-order-list', 'pages/order/list/index', async (p) => {
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
  if (process.env.KEEP_SCREENSHOT_HTML) out(`HTML kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/**
 * simulate renders <input>/<textarea>/<image> as bare elements: copy their value and placeholder to attributes CSS
 * can show, and an image's src to its background (the local cloud's /assets/ are read from localcloud/assets).
 */
function exposeNativeValues(document: Document): void {
  const propsOf = (el: Element) => {
    const attrs = (el as unknown as { __wxElement?: { _vt?: { attrs?: { name: string; value: unknown }[] } } }).__wxElement?._vt?.attrs ?? [];
    return Object.fromEntries(attrs.map((a) => [a.name, a.value]));
  };
  for (const el of document.querySelectorAll('wx-input, wx-textarea')) {
    const props = propsOf(el);
    el.setAttribute('data-value', props.value === undefined || props.value === null ? '' : String(props.value));
    el.setAttribute('data-placeholder', typeof props.placeholder === 'string' ? props.placeholder : '');
  }
  for (const el of document.querySelectorAll('wx-image')) {
    const src = String(propsOf(el).src ?? '');
    const local = /^https?:\/\/[^/]+\/assets\/(.+)$/.exec(src);
    if (local) el.setAttribute('style', `${el.getAttribute('style') ?? ''}; background-image: url('file://${join(ROOT, 'localcloud', 'assets', local[1]!)}')`);
  }
}

/** TDesign's icon font is remote: the icons these pages use, as text glyphs. */
const ICONS: Record<string, string> = {
  add: '+',
  remove: '−',
  'check-circle': '✓',
  'check-circle-filled': '✓',
  'error-circle': '!',
  'error-circle-filled': '!',
  'close-circle': '✕',
  'close-circle-filled': '✕',
  'info-circle': 'i',
  'chevron-right': '›',
  close: '✕',
  check: '✓',
  'time-filled': '◷',
  time: '◷',
};
const iconCss = Object.entries(ICONS)
  .map(([name, glyph]) => `[class*="t-icon-${name} "]::before, [class$="t-icon-${name}"]::before { content: '${glyph}' !important; }`)
  .join('\n');

/** The rendered DOM and its styles as a page Chromium can show like a device: 750rpx = 375 CSS px. */
function pageHtml(document: Document, body: string, appWxss: string): string {
  const half = (css: string) => css.replace(/(-?\d*\.?\d+)(px|rpx)/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`);
  const tags = (css: string) => css.replace(/(^|[\s,{}>+~(])(view|text|button|image|input|textarea|scroll-view)(?=[\s,.:{[>+~)])/g, '$1wx-$2');
  const styles = [...document.head.querySelectorAll('style')].map((s) => tags(half(s.textContent ?? ''))).join('\n');
  const app = tags(appWxss.replace(/\bpage\b/g, 'body').replace(/(-?\d*\.?\d+)rpx/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`));
  const inlineHalved = body.replace(/style="([^"]*)"/g, (_m, css: string) => `style="${half(css)}"`);
  return `<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; min-height: 100%; }
* { box-sizing: border-box; font-family: 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif !important; }
wx-view, wx-text, wx-label { display: block; }
wx-text { display: inline; }
wx-button { display: block; }
wx-image { display: block; background-size: cover; background-position: center; }
wx-input, wx-textarea { display: block; min-height: 1.4em; }
wx-input::after, wx-textarea::after { content: attr(data-value); }
wx-input[data-value=""]::after, wx-textarea[data-value=""]::after { content: attr(data-placeholder); color: #bbb; }
${iconCss}
parent-wrapper { display: block; }
${app}
${styles}
</style></head><body>${inlineHalved}</body></html>`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    writeSync(2, `${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
