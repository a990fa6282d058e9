/**
 * The pictures' studio: miniprogram-ci compiles the project offline (TDesign's ES modules become CommonJS);
 * miniprogram-simulate renders each page into jsdom on a scripted backend; the DOM and the collected styles become an
 * HTML file that Debian's headless Chromium photographs at 375×812, 2×. What a picture cannot show: layout measured
 * at run time, native components, animations; TDesign's icon font is remote, so icons are drawn as text. Product
 * pictures come from localcloud/assets (what the local cloud serves).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JSDOM } from 'jsdom';
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
  /** what Date.now() reads when the pages start (the clock then runs on) */
  clockAt: number;
}

export interface Studio {
  /** renders a page, lets `prepare` bring it to the state to show, photographs it as `<name>.png` */
  shoot(name: string, pagePath: string, prepare: (page: Rendered) => Promise<void> | void): Promise<void>;
  /** a moment for the pages' asynchronous work */
  settle(): Promise<void>;
  /** a module of the compiled mini-program (path relative to its root, e.g. services/payment.js) */
  requireBuilt<T>(path: string): T;
  /** removes the work folder (kept, and named, with KEEP_SCREENSHOT_HTML) */
  close(): void;
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
  // the fixtures' clock, so countdowns and "剩余支付时间" read as they would at clockAt
  const realNow = Date.now.bind(Date);
  const started = realNow();
  Date.now = () => options.clockAt + (realNow() - started);

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
  mkdirSync(shotsDir, { recursive: true });

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
    const png = join(shotsDir, `${name}.png`);
    execFileSync(
      chromium,
      [
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
      ],
      { stdio: 'ignore' },
    );
    out(`  ${png.slice(ROOT.length + 1)}`);
  };

  return {
    shoot,
    settle: () => simulate.sleep(30),
    requireBuilt,
    close: () => {
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
  .map(
    ([name, glyph]) =>
      `[class*="t-icon-${name} "]::before, [class$="t-icon-${name}"]::before { content: '${glyph}' !important; }`,
  )
  .join('\n');

/** The rendered DOM and its styles as a page Chromium can show like a device: 750rpx = 375 CSS px. */
function pageHtml(document: Document, body: string, appWxss: string): string {
  const half = (css: string) =>
    css.replace(/(-?\d*\.?\d+)(px|rpx)/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`);
  const tags = (css: string) =>
    css.replace(/(^|[\s,{}>+~(])(view|text|button|image|input|textarea|scroll-view)(?=[\s,.:{[>+~)])/g, '$1wx-$2');
  const styles = [...document.head.querySelectorAll('style')].map((s) => tags(half(s.textContent ?? ''))).join('\n');
  const app = tags(
    appWxss
      .replace(/\bpage\b/g, 'body')
      .replace(/(-?\d*\.?\d+)rpx/g, (_m, n: string) => `${+(Number(n) / 2).toFixed(3)}px`),
  );
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
