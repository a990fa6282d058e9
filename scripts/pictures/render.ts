/**
 * The pictures' studio: miniprogram-ci compiles the project offline (TDesign's ES modules become CommonJS);
 * miniprogram-simulate renders each page into jsdom on a scripted backend; the DOM and the collected styles become an
 * HTML file that Debian's headless Chromium (puppeteer-core) photographs as a phone shows it: 375×812 at 2×, the
 * status bar and the navigation bar with its title and WeChat's capsule, the tab bar on tab pages, the home indicator
 * over a 34 px safe area, 1 px lines kept (rpx is halved, px is not), native buttons in WeChat's default style, and
 * TDesign's icons (the SVGs its icon font is made of, in icons/, as the font itself is remote). Each page is taken at
 * its first screen (`<name>.png`) and its full height (`full/<name>.png`). The clock is frozen, so two runs give the
 * same pictures. What a picture cannot show: native components, animations. Product pictures come from
 * localcloud/assets (what the local cloud serves). Every tappable target is measured on the way (`smallTargets`).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JSDOM } from 'jsdom';
import puppeteer from 'puppeteer-core';
import { compile, packNpm, ROOT } from '../release/miniprogram-ci';

export const out = (line: string) => writeSync(1, `${line}\n`);

/** A page rendered by miniprogram-simulate. */
export interface Rendered {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- page methods are called by name
  instance: { data: Record<string, any>; [method: string]: any };
  dom: HTMLElement;
  attach(parent: Element): void;
}

/** What the scripted backend answers to `function.action` (or `function`); looked up at each call. */
export type Answer = (event: Record<string, unknown>) => unknown;

export interface StudioOptions {
  /** Chromium's path (requireScreenshotTools) */
  chromium: string;
  /** where the PNG files go */
  shotsDir: string;
  /** the backend: read at each call, so a shot list may change an answer between shots */
  answers: Record<string, Answer>;
  /** what Date.now() reads while the pages render (frozen: two runs give the same pictures) */
  clockAt: number;
}

/** A tappable element smaller than 88rpx (44 CSS px) in either direction. */
export interface SmallTarget {
  shot: string;
  what: string;
  width: number;
  height: number;
}

/** WeChat's minimum comfortable target, 88rpx, in CSS px at 375 wide. */
export const MIN_TARGET_PX = 44;

export interface Studio {
  /** renders a page, lets `prepare` bring it to the state to show, photographs it as `<name>.png` and `full/<name>.png` */
  shoot(name: string, pagePath: string, prepare: (page: Rendered) => Promise<void> | void): Promise<void>;
  /** the tappable targets under 88rpx met so far */
  smallTargets: SmallTarget[];
  /** a moment for the pages' asynchronous work */
  settle(): Promise<void>;
  /** a module of the compiled mini-program (path relative to its root, e.g. services/payment.js) */
  requireBuilt<T>(path: string): T;
  /** closes Chromium and removes the work folder (kept, and named, with KEEP_SCREENSHOT_HTML) */
  close(): Promise<void>;
}

/** Compiles the project and sets the page world up: jsdom, wx, the clock, the backend. */
export async function openStudio(options: StudioOptions): Promise<Studio> {
  const { chromium, shotsDir, answers } = options;
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
  for (const key of [
    'window',
    'document',
    'navigator',
    'Node',
    'Element',
    'HTMLElement',
    'Event',
    'CustomEvent',
    'MouseEvent',
    'getComputedStyle',
    'requestAnimationFrame',
  ]) {
    g[key] = key === 'window' ? dom.window : (dom.window as unknown as Record<string, unknown>)[key];
  }
  g.getApp = () => ({ globalData: {} });
  // WeChat's own layer: what a user would tap beside the page (the capsule) is not the page's
  g.getCurrentPages = () => [];
  const noop = () => undefined;
  g.wx = {
    showToast: noop,
    navigateTo: noop,
    redirectTo: noop,
    reLaunch: noop,
    stopPullDownRefresh: noop,
    setClipboardData: noop,
    switchTab: noop,
    nextTick: (f: () => void) => setTimeout(f, 0),
    // a develop build on the local cloud: product pictures come from its /assets/
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } }),
  };
  // the fixtures' clock, frozen, so countdowns and "剩余支付时间" read as they would at clockAt, in every run
  Date.now = () => options.clockAt;

  // bare requires from the compiled tree (TDesign's "tslib") resolve to the nearest miniprogram_npm, as on a device
  const mod = Module as unknown as {
    _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;
  };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request, parent, ...rest) {
    if (
      parent?.filename?.startsWith(build) &&
      !request.startsWith('.') &&
      !request.startsWith('/') &&
      !request.startsWith('node:')
    ) {
      for (let dir = dirname(parent.filename); dir.startsWith(build); dir = dirname(dir)) {
        const candidate = join(dir, 'miniprogram_npm', request, 'index.js');
        if (existsSync(candidate)) return candidate;
      }
    }
    return original.call(this, request, parent, ...rest);
  };

  // simulate writes Nrpx as Npx (1:1); the styles keep rpx here, so the page can halve rpx and keep px (1 px lines)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('miniprogram-simulate/src/utils') as { transformRpx(style: string): string }).transformRpx = (style) =>
    style;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const simulate = require('miniprogram-simulate') as {
    load(path: string, options: Record<string, unknown>): string;
    render(id: string): Rendered;
    sleep(ms: number): Promise<void>;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const requireBuilt = <T>(path: string): T => require(join(build, path)) as T;
  const transport = requireBuilt<{ setTransport(t: unknown): void }>('services/transport.js');
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
        usingComponents[tag] = loadTree(
          target.startsWith('/') ? join(build, target.slice(1)) : join(dirname(path), target),
        );
        simulate.render(usingComponents[tag]!); // a separate load's styles are injected when it is rendered
      }
    }
    const id = simulate.load(path, { rootPath: build, usingComponents, less: false });
    ids.set(path, id);
    return id;
  };

  const appWxss = readFileSync(join(ROOT, 'miniprogram/app.wxss'), 'utf8');
  const appJson = JSON.parse(readFileSync(join(ROOT, 'miniprogram/app.json'), 'utf8')) as {
    window: { navigationBarTitleText?: string };
    tabBar?: { list: { pagePath: string }[] };
  };
  const tabPages = new Set((appJson.tabBar?.list ?? []).map((t) => t.pagePath));
  mkdirSync(join(shotsDir, 'full'), { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--font-render-hinting=none'],
  });
  const tab = await browser.newPage();
  await tab.setViewport({ width: 375, height: 812, deviceScaleFactor: 2 });
  const smallTargets: SmallTarget[] = [];

  const shoot = async (name: string, pagePath: string, prepare: (page: Rendered) => Promise<void> | void) => {
    const page = simulate.render(loadTree(join(build, pagePath)));
    const parent = dom.window.document.createElement('parent-wrapper');
    dom.window.document.body.innerHTML = '';
    dom.window.document.body.appendChild(parent);
    page.attach(parent);
    const route = pagePath.replace(/^\//, '');
    let tabBarHtml = '';
    if (tabPages.has(route)) {
      const bar = simulate.render(loadTree(join(build, 'custom-tab-bar/index')));
      const barParent = dom.window.document.createElement('tab-bar-wrapper');
      dom.window.document.body.appendChild(barParent);
      bar.attach(barParent);
      const value = (appJson.tabBar?.list ?? []).findIndex((t) => t.pagePath === route);
      bar.instance.setData({ value: bar.instance.data.tabs[value].value });
      tabBarHtml = bar.dom.outerHTML;
    }
    await prepare(page);
    await simulate.sleep(50);
    exposeNativeValues(dom.window.document);
    const pageJson = JSON.parse(readFileSync(join(build, `${route}.json`), 'utf8')) as {
      navigationBarTitleText?: string;
    };
    const title = pageJson.navigationBarTitleText ?? appJson.window.navigationBarTitleText ?? '';
    const html = pageHtml(dom.window.document, page.dom.outerHTML, tabBarHtml, appWxss, title);
    const htmlFile = join(work, `${name}.html`);
    writeFileSync(htmlFile, html);
    await tab.goto(`file://${htmlFile}`, { waitUntil: 'load' });
    await tab.evaluate(() => document.fonts.ready);
    const png = join(shotsDir, `${name}.png`);
    await tab.screenshot({ path: png as `${string}.png` });
    await tab.screenshot({ path: join(shotsDir, 'full', `${name}.png`) as `${string}.png`, fullPage: true });
    const small = await tab.evaluate((min: number) => {
      return (
        [...document.querySelectorAll('[data-tap]')]
          // what a finger meets is the outermost target (an icon inside a button is the button)
          .filter((el) => !el.parentElement?.closest('[data-tap]'))
          // an empty box (t-popup's close area without its icon) shows nothing to tap
          .filter((el) => el.children.length > 0 || (el.textContent ?? '').trim() !== '' || el.tagName === 'WX-BUTTON')
          .filter((el) => (el as HTMLElement).offsetParent !== null || getComputedStyle(el).position === 'fixed')
          .map((el) => {
            const r = el.getBoundingClientRect();
            return {
              what: `${el.getAttribute('data-tap')} "${(el.textContent ?? '').trim().slice(0, 16)}"`,
              width: r.width,
              height: r.height,
            };
          })
          .filter((t) => t.width > 0 && t.height > 0 && (t.width < min - 0.5 || t.height < min - 0.5))
      );
    }, MIN_TARGET_PX);
    smallTargets.push(...small.map((t) => ({ shot: name, ...t })));
    out(`  ${png.slice(ROOT.length + 1)}`);
  };

  return {
    shoot,
    smallTargets,
    settle: () => simulate.sleep(30),
    requireBuilt,
    close: async () => {
      await browser.close();
      if (process.env.KEEP_SCREENSHOT_HTML) out(`HTML kept in ${work}`);
      else rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * simulate renders <input>/<textarea>/<image> as bare elements: copy their value and placeholder to attributes CSS
 * can show, and an image's src to its background (the local cloud's /assets/ are read from localcloud/assets).
 */
function exposeNativeValues(document: Document): void {
  const propsOf = (el: Element) => {
    const attrs =
      (el as unknown as { __wxElement?: { _vt?: { attrs?: { name: string; value: unknown }[] } } }).__wxElement?._vt
        ?.attrs ?? [];
    return Object.fromEntries(attrs.map((a) => [a.name, a.value]));
  };
  for (const el of document.querySelectorAll('wx-input, wx-textarea')) {
    const props = propsOf(el);
    el.setAttribute('data-value', props.value === undefined || props.value === null ? '' : String(props.value));
    el.setAttribute('data-placeholder', typeof props.placeholder === 'string' ? props.placeholder : '');
  }
  // what a finger can tap: a tap handler in the template, or a native button (open-type ones have none)
  for (const el of document.querySelectorAll('*')) {
    const vt = (
      el as unknown as { __wxElement?: { _vt?: { event?: Record<string, { name: string; handler?: string }> } } }
    ).__wxElement?._vt;
    // TDesign binds a tap on every t-icon (onTap) and t-tag (handleClick) whether or not the page listens: not targets
    const tap = Object.values(vt?.event ?? {}).find(
      (e) => e.name === 'tap' && e.handler && e.handler !== 'onTap' && e.handler !== 'handleClick',
    );
    if (tap || el.tagName === 'WX-BUTTON') el.setAttribute('data-tap', tap?.handler ?? 'button');
  }
  for (const el of document.querySelectorAll('wx-image')) {
    const src = String(propsOf(el).src ?? '');
    const local = /^https?:\/\/[^/]+\/assets\/(.+)$/.exec(src);
    if (local)
      el.setAttribute(
        'style',
        `${el.getAttribute('style') ?? ''}; background-image: url('file://${join(ROOT, 'localcloud', 'assets', local[1]!)}')`,
      );
  }
}

/**
 * TDesign's icon font is remote (tdesign.gtimg.com): each icon a page shows is drawn from the SVG the font is made
 * of (icons/, from github.com/Tencent/tdesign-icons, MIT), as a mask in the text colour, so size and colour follow
 * the page's CSS as the font's glyph would. An icon missing there fails the run, naming it.
 */
const ICONS_DIR = join(__dirname, 'icons');

function iconCss(document: Document): string {
  // simulate prefixes a component's classes (`<component>--t-icon-shop`): one rule per class met
  const classes = new Map<string, string>();
  for (const el of document.querySelectorAll('[class*="t-icon-"]'))
    for (const c of el.getAttribute('class')!.split(/\s+/)) {
      const m = /(?:^|--)t-icon-([a-z0-9-]+)$/.exec(c);
      if (m && m[1] !== 'base') classes.set(c, m[1]!);
    }
  return [...classes]
    .sort()
    .map(([cls, name]) => {
      const file = join(ICONS_DIR, `${name}.svg`);
      if (!existsSync(file)) throw new Error(`TDesign icon ${name} is not in scripts/pictures/icons/: add ${name}.svg`);
      const url = `url("data:image/svg+xml;base64,${readFileSync(file).toString('base64')}")`;
      return `.${cls}::before { content: '' !important; display: inline-block; width: 1em; height: 1em; vertical-align: -0.125em; background: currentColor; -webkit-mask: ${url} center / contain no-repeat; mask: ${url} center / contain no-repeat; }`;
    })
    .join('\n');
}

/** WeChat's default <button> (its base library's style), for buttons the page leaves unstyled. */
const WECHAT_BUTTON = `
wx-button { position: relative; display: block; margin-left: auto; margin-right: auto; padding-left: 14px; padding-right: 14px; box-sizing: border-box; font-size: 18px; text-align: center; text-decoration: none; line-height: 2.55555556; border-radius: 5px; -webkit-tap-highlight-color: transparent; overflow: hidden; color: #000; background-color: #f8f8f8; width: 184px; font-weight: 700; }
wx-button::after { content: ' '; width: 200%; height: 200%; position: absolute; top: 0; left: 0; border: 1px solid rgba(0, 0, 0, 0.2); transform: scale(0.5); transform-origin: 0 0; box-sizing: border-box; border-radius: 10px; }
`;

/** The phone around the page: status bar, navigation bar with the capsule, home indicator (iPhone X class, 375×812). */
const STATUS_BAR_PX = 44;
const NAV_BAR_PX = 44;
const SAFE_BOTTOM_PX = 34;
const FRAME_CSS = `
.phone-top { position: fixed; top: 0; left: 0; right: 0; z-index: 1000; background: #fff; }
.phone-status { height: ${STATUS_BAR_PX}px; display: flex; align-items: center; justify-content: space-between; padding: 0 24px 0 32px; font-size: 15px; font-weight: 600; color: #000; }
.phone-status__right { display: flex; gap: 6px; align-items: center; }
.phone-status__battery { width: 24px; height: 11px; border: 1px solid #000; border-radius: 3px; position: relative; }
.phone-status__battery::after { content: ''; position: absolute; inset: 1px 4px 1px 1px; background: #000; border-radius: 1px; }
.phone-nav { height: ${NAV_BAR_PX}px; position: relative; display: flex; align-items: center; justify-content: center; font-size: 17px; font-weight: 500; color: #000; }
.phone-capsule { position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; box-sizing: border-box; border: 1px solid rgba(0, 0, 0, 0.12); border-radius: 16px; background: rgba(255, 255, 255, 0.6); display: flex; align-items: center; }
.phone-capsule__more, .phone-capsule__close { flex: 1; display: flex; align-items: center; justify-content: center; height: 100%; }
.phone-capsule__more { gap: 3px; }
.phone-capsule__more i { width: 4px; height: 4px; border-radius: 50%; background: #000; display: block; }
.phone-capsule__more i:nth-child(2) { width: 6px; height: 6px; }
.phone-capsule__split { width: 1px; height: 18px; background: rgba(0, 0, 0, 0.12); }
.phone-capsule__close i { width: 15px; height: 15px; border: 2px solid #000; border-radius: 50%; box-sizing: border-box; position: relative; display: block; }
.phone-capsule__close i::after { content: ''; position: absolute; width: 5px; height: 5px; border-radius: 50%; background: #000; top: 3px; left: 3px; }
.phone-page { padding-top: ${STATUS_BAR_PX + NAV_BAR_PX}px; min-height: 100vh; box-sizing: border-box; }
.phone-home { position: fixed; left: 0; right: 0; bottom: 0; height: ${SAFE_BOTTOM_PX}px; z-index: 1001; pointer-events: none; }
.phone-home::after { content: ''; position: absolute; left: 50%; bottom: 8px; width: 134px; height: 5px; margin-left: -67px; border-radius: 3px; background: #000; }
`;

function frame(title: string): { top: string; bottom: string } {
  return {
    top: `<div class="phone-top"><div class="phone-status"><span>9:41</span><span class="phone-status__right"><span>5G</span><span class="phone-status__battery"></span></span></div><div class="phone-nav">${title}<div class="phone-capsule"><span class="phone-capsule__more"><i></i><i></i><i></i></span><span class="phone-capsule__split"></span><span class="phone-capsule__close"><i></i></span></div></div></div>`,
    bottom: '<div class="phone-home"></div>',
  };
}

/**
 * The rendered DOM and its styles as a page Chromium can show like a device: 750rpx = 375 CSS px (px stays px, so
 * 1 px lines stay 1 px), the safe area 34 px at the bottom, the page below the status and navigation bars.
 */
function pageHtml(document: Document, body: string, tabBar: string, appWxss: string, title: string): string {
  const device = (css: string) =>
    css
      .replace(/(-?\d*\.?\d+)rpx/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`)
      .replace(/(?:env|constant)\(\s*safe-area-inset-bottom\s*\)/g, `${SAFE_BOTTOM_PX}px`)
      .replace(/(?:env|constant)\(\s*safe-area-inset-(?:top|left|right)\s*\)/g, '0px');
  const tags = (css: string) =>
    css.replace(/(^|[\s,{}>+~(])(view|text|button|image|input|textarea|scroll-view)(?=[\s,.:{[>+~)])/g, '$1wx-$2');
  const styles = [...document.head.querySelectorAll('style')].map((s) => tags(device(s.textContent ?? ''))).join('\n');
  const app = tags(device(appWxss.replace(/\bpage\b/g, 'body')));
  // inline styles reach the DOM with rpx already written as px (1:1): halved, both
  const inline = (html: string) =>
    html.replace(
      /style="([^"]*)"/g,
      (_m, css: string) =>
        `style="${device(css.replace(/(-?\d*\.?\d+)px/g, (_n, n: string) => `${+(Number(n) / 2).toFixed(3)}px`))}"`,
    );
  const phone = frame(title);
  return `<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; min-height: 100%; }
* { box-sizing: border-box; font-family: 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif !important; }
wx-view, wx-text, wx-label { display: block; }
wx-text { display: inline; }
${WECHAT_BUTTON}
wx-image { display: block; background-size: cover; background-position: center; }
wx-input, wx-textarea { display: block; min-height: 1.4em; }
wx-input::after, wx-textarea::after { content: attr(data-value); }
wx-input[data-value=""]::after, wx-textarea[data-value=""]::after { content: attr(data-placeholder); color: #bbb; }
${iconCss(document)}
parent-wrapper, tab-bar-wrapper { display: block; }
${FRAME_CSS}
${app}
${styles}
</style></head><body>${phone.top}<div class="phone-page">${inline(body)}</div>${inline(tabBar)}${phone.bottom}</body></html>`;
}
