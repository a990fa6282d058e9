/**
 * `npm run screenshots`: every page in its main states as PNG files under docs/screenshots/.
 * Recipe: miniprogram-ci compiles the project offline (TDesign's ES modules become CommonJS); miniprogram-simulate
 * renders each page into jsdom on scripted backend data; the DOM and the collected styles become an HTML file that
 * Debian's headless Chromium photographs at 375×812, 2×. Needs `chromium` and `fonts-noto-cjk` (it says so if not).
 * What a picture cannot show: layout measured at run time, native components, animations; TDesign's icon font is
 * remote, so icons are left out.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JSDOM } from 'jsdom';
import { compile, packNpm, ROOT } from './miniprogram-ci';

const out = (line: string) => writeSync(1, `${line}\n`);
const SHOTS_DIR = join(ROOT, 'docs', 'screenshots');

function requireTools(): string {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  let fonts = '';
  try {
    fonts = execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' });
  } catch {
    fonts = '';
  }
  if (!chromium || !/Noto Sans CJK/i.test(fonts)) {
    writeSync(2, 'screenshots need Debian\'s Chromium and CJK fonts. Install them with:\n  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk\n');
    process.exit(2);
  }
  return chromium;
}

// ---- fixtures: what the scripted backend answers ---------------------------------------------------------------

const NOW = new Date(2026, 10, 23, 14, 0).getTime();
const MIN = 60_000;
const products = [
  { id: 'latte', title: '拿铁咖啡', description: '现磨浓缩与鲜牛奶，中杯', priceFen: 1990, maxPerOrder: 10 },
  { id: 'americano', title: '美式咖啡', description: '双份浓缩，中杯', priceFen: 1500, maxPerOrder: 10 },
  { id: 'croissant', title: '黄油可颂', description: '法国黄油，每日现烤', priceFen: 1200, maxPerOrder: 5 },
  { id: 'beans-250g', title: '云南咖啡豆 250g', description: '中度烘焙，保山小粒', priceFen: 6800, maxPerOrder: 3 },
  { id: 'class-latte-art', title: '拉花体验课', description: '周末小班课，含两杯咖啡', priceFen: 19900, maxPerOrder: 2, serviceStartsAt: NOW + 7 * 24 * 60 * MIN },
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
const listOrders = [
  order(),
  paid({ id: 'O1C2D3E4F5A6B7C8D9E0', items: [{ productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 }], totalFen: 6800, createdAt: NOW - 60 * MIN }),
  { ...refunding, id: 'O0A1B2C3D4E5F6A7B8C9', createdAt: NOW - 26 * 60 * MIN },
  order({ id: 'O9F8E7D6C5B4A3928170', status: 'closed', createdAt: NOW - 50 * 60 * MIN, can: { pay: false, cancel: false, requestRefund: false } }),
];

type Answer = (event: Record<string, unknown>) => unknown;
const answers: Record<string, Answer> = {
  login: () => ({ openid: 'o_local_alice', isAdmin: false, createdAt: NOW, lastLoginAt: NOW }),
  'catalog.list': () => ({ products }),
  'orders.confirm': () => order(),
  'orders.list': () => ({ orders: listOrders, page: 1, hasMore: false }),
};

// ---- rendering --------------------------------------------------------------------------------------------------

interface Rendered {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- page methods are called by name
  instance: { data: Record<string, any>; [method: string]: any };
  dom: HTMLElement;
  attach(parent: Element): void;
}

async function main(): Promise<void> {
  const chromium = requireTools();
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
  g.wx = { showToast: noop, navigateTo: noop, redirectTo: noop, reLaunch: noop, stopPullDownRefresh: noop, nextTick: (f: () => void) => setTimeout(f, 0) };

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
        if (!ids.has(p)) ids.set(p, simulate.load(p, { rootPath: tdesignRoot, compiler: 'official', less: false }));
        usingComponents[tag] = ids.get(p)!;
      } else if (target.startsWith('/')) {
        usingComponents[tag] = loadTree(join(build, target.slice(1)));
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
  await shoot('01-catalogue', 'pages/home/index/index', async (p) => {
    p.instance.onLoad({});
    await settle();
    const rows = (p.instance.data.products as { quantity: number }[]).map((r, i) => ({ ...r, quantity: i === 0 ? 2 : i === 2 ? 1 : 0 }));
    p.instance.setData({ products: rows });
    p.instance.recount();
  });
  const items = encodeURIComponent(JSON.stringify([{ productId: 'latte', quantity: 2 }, { productId: 'croissant', quantity: 1 }]));
  await shoot('02-confirm-items', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000', remark: '少冰，谢谢' });
  });
  await shoot('03-confirm-created', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    await p.instance.onSubmit();
  });
  await shoot('10-local-cashier', 'pages/order/confirm/index', async (p) => {
    await p.instance.onLoad({ items });
    p.instance.setData({ name: '张三', phone: '13800138000' });
    await p.instance.onSubmit();
    void (p.instance.selectComponent('#cashier') as { open(): Promise<unknown> }).open();
  });
  answers['orders.get'] = () => order();
  await shoot('04-result-checking', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id: 'O7F3A9C2B1D4E5F60718' });
    await settle();
    p.instance.onUnload();
  });
  await shoot('05-result-pending', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id: 'O7F3A9C2B1D4E5F60718' });
    await settle();
    p.instance.onUnload();
    p.instance.setData({ state: 'pending' });
  });
  answers['orders.get'] = () => paid();
  await shoot('06-result-paid', 'pages/order/result/index', async (p) => {
    p.instance.onLoad({ id: 'O7F3A9C2B1D4E5F60718' });
    await settle();
  });
  await shoot('07-order-list', 'pages/order/list/index', async (p) => {
    p.instance.onLoad({});
    await settle();
  });
  answers['orders.get'] = () => order();
  await shoot('08-order-detail-pending', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id: 'O7F3A9C2B1D4E5F60718' });
    await settle();
  });
  answers['orders.get'] = () => refunding;
  await shoot('09-order-detail-refunding', 'pages/order/detail/index', async (p) => {
    p.instance.onLoad({ id: 'O7F3A9C2B1D4E5F60718' });
    await settle();
  });
  if (process.env.KEEP_SCREENSHOT_HTML) out(`HTML kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/** simulate renders <input>/<textarea> as bare elements: copy their value and placeholder to attributes CSS can show. */
function exposeNativeValues(document: Document): void {
  for (const el of document.querySelectorAll('wx-input, wx-textarea')) {
    const attrs = (el as unknown as { __wxElement?: { _vt?: { attrs?: { name: string; value: unknown }[] } } }).__wxElement?._vt?.attrs ?? [];
    const props = Object.fromEntries(attrs.map((a) => [a.name, a.value]));
    el.setAttribute('data-value', props.value === undefined || props.value === null ? '' : String(props.value));
    el.setAttribute('data-placeholder', typeof props.placeholder === 'string' ? props.placeholder : '');
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
};
const iconCss = Object.entries(ICONS)
  .map(([name, glyph]) => `[class*="t-icon-${name} "]::before, [class$="t-icon-${name}"]::before { content: '${glyph}' !important; }`)
  .join('\n');

/** The rendered DOM and its styles as a page Chromium can show like a device: 750rpx = 375 CSS px. */
function pageHtml(document: Document, body: string, appWxss: string): string {
  const half = (css: string) => css.replace(/(-?\d*\.?\d+)px/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`);
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
