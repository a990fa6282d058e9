/**
 * Loading pages in miniprogram-simulate with their real TDesign components, a scripted backend (the cloud functions),
 * and stand-ins for the platform the pages run on, in either backend mode:
 *   cloud — wx.cloud behaves like the platform: callFunction answers `{ errMsg, result, requestID }`, fails before
 *           wx.cloud.init, fails with -501000 for an unknown function and -504002 when a function throws; the app's
 *           own launch (app.ts) initialises it; wx.login gives codes; wx.requestPayment answers as WeChat's sheet.
 *   local — wx.request reaches a stand-in of the local cloud (its index, the local wx.login, /functions/<name>) and of
 *           the WeChat Pay simulator's cashier; the client uses its real local transport and cashier sheet.
 * In both, wx.requestSubscribeMessage answers as scripted, and only inside a tap, as WeChat requires.
 */
import { readFileSync } from 'node:fs';
import simulate from 'miniprogram-simulate';
import type { ApiError, ApiResult, OrderView } from '../../typings/api';
import { appConfig, type BackendMode, type EnvVersion } from '../../miniprogram/config';
import { setTransport, type Transport } from '../../miniprogram/services/transport';
import { resetLogin } from '../../miniprogram/services/auth';
import { resetPaymentCache } from '../../miniprogram/services/payment';
import { resetCatalog } from '../../miniprogram/services/catalog';
import { resetOrderListeners } from '../../miniprogram/services/orders';
import { resetClientLog } from '../../miniprogram/services/client-log';
import { resetSubscriptions } from '../../miniprogram/services/subscribe';
import { resetPrivacy } from '../../miniprogram/services/privacy';

export const MINIPROGRAM = `${__dirname}/../../miniprogram`;
export const TDESIGN = `${__dirname}/../../node_modules/tdesign-miniprogram/miniprogram_dist`;

const tdesignIds = new Map<string, string>();

function tdesign(component: string): string {
  let id = tdesignIds.get(component);
  if (!id) {
    // simulate registers a component by running its js; a module already required (as another TDesign component's
    // dependency) would not run again and leave the tag unregistered: each load gets fresh modules
    jest.isolateModules(() => {
      id = simulate.load(`${TDESIGN}/${component}`, { rootPath: TDESIGN, less: false });
    });
    tdesignIds.set(component, id!);
  }
  return id!;
}

function overrides(jsonPath: string): Record<string, string> {
  const json = JSON.parse(readFileSync(`${jsonPath}.json`, 'utf8')) as { usingComponents?: Record<string, string> };
  const map: Record<string, string> = {};
  for (const [tag, target] of Object.entries(json.usingComponents ?? {})) {
    if (target.startsWith('tdesign-miniprogram/')) map[tag] = tdesign(target.slice('tdesign-miniprogram/'.length));
    else if (target.startsWith('/')) map[tag] = loadComponent(target.slice(1), tag);
    else if (target.startsWith('.'))
      map[tag] = loadComponent(
        new URL(target, `file:///${jsonPath.slice(MINIPROGRAM.length + 1)}`).pathname.slice(1),
        tag,
      );
  }
  return map;
}

/** Loads a page or component of the mini-program (path from miniprogram/, without extension). */
export function loadComponent(path: string, tagName = ''): string {
  const full = `${MINIPROGRAM}/${path}`;
  return simulate.load(full, tagName, { rootPath: MINIPROGRAM, usingComponents: overrides(full), less: false });
}

/** A rendered page's instance: its data and methods, as loosely typed as the pages' own `this`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- page methods and data are looked up by name in tests
export type PageInstance = { data: Record<string, any>; [method: string]: any };

export interface Rendered {
  instance: PageInstance;
  dom: HTMLElement;
  querySelector(selector: string): Rendered | null;
  querySelectorAll(selector: string): Rendered[];
  dispatchEvent(name: string, options?: unknown): void;
  setData(data: Record<string, unknown>): void;
  attach(parent: Element): void;
}

export function renderPage(id: string): Rendered {
  const page = simulate.render(id) as unknown as Rendered;
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

// ---- the user's gestures ----------------------------------------------------------------------------------------

let tapDepth = 0;

/** Runs `fn` as a tap handler runs: APIs that need a user gesture (wx.requestSubscribeMessage) work inside it. */
export function inTap<T>(fn: () => T): T {
  tapDepth += 1;
  try {
    return fn();
  } finally {
    tapDepth -= 1;
  }
}

/** Taps a TDesign button (through its inner `.t-button` node, so `disabled` is honoured) or a plain view. */
export async function tap(page: Rendered, selector: string): Promise<void> {
  const target = page.querySelector(selector);
  if (!target) throw new Error(`nothing matches ${selector}`);
  const inner = target.querySelector('.t-button');
  // simulate delivers the event one microtask later; the handler's synchronous part runs in that microtask
  tapDepth += 1;
  (inner ?? target).dispatchEvent('tap');
  await Promise.resolve();
  tapDepth -= 1;
  await simulate.sleep(0);
}

/** A template attribute of a rendered node (`open-type` is looked up as `openType`, as the template compiler keeps it). */
export function attr(node: Rendered, name: string): unknown {
  const camel = name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const attrs =
    (node.dom as unknown as { __wxElement?: { _vt?: { attrs?: { name: string; value: unknown }[] } } }).__wxElement?._vt
      ?.attrs ?? [];
  return attrs.find((a) => a.name === camel || a.name === name)?.value ?? node.dom.getAttribute(name) ?? undefined;
}

/** Whether a TDesign button (or anything rendering `.t-button--disabled`) is disabled. */
export const isDisabled = (page: Rendered, selector: string): boolean =>
  Boolean(page.querySelector(selector)?.querySelector('.t-button--disabled'));

/** Waits (real or fake timers alike, in small steps) until `condition` holds; fails after `ms`. */
export async function until(condition: () => boolean, ms = 2000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > ms) throw new Error('condition not met in time');
    await simulate.sleep(10);
  }
}

export const text = (page: Rendered) => page.dom.textContent?.replace(/\s+/g, ' ') ?? '';
export const flush = (ms = 0) => simulate.sleep(ms);

// ---- the backend ------------------------------------------------------------------------------------------------

export type Handler = (event: Record<string, unknown>) => unknown;

/** A scripted backend: `on('orders.get', handler)`; a handler returns data, or `fail(code)` for an error. */
export class FakeBackend implements Transport {
  readonly calls: { fn: string; event: Record<string, unknown> }[] = [];
  private readonly handlers = new Map<string, Handler>();

  constructor() {
    this.on('login', () => ({ openid: 'o-buyer', isAdmin: false, createdAt: 1, lastLoginAt: 1 }));
  }

  on(key: string, handler: Handler): this {
    this.handlers.set(key, handler);
    return this;
  }

  /** Whether a function by this name exists (any of its actions has a handler). */
  has(fn: string): boolean {
    return (
      [...this.handlers.keys()].some((key) => key === fn || key.startsWith(`${fn}.`)) ||
      ['login', 'catalog', 'orders', 'payment', 'admin', 'clientLog'].includes(fn)
    );
  }

  async loginCode(): Promise<string> {
    return 'code-1';
  }

  async callFunction<T>(fn: string, event: Record<string, unknown>): Promise<ApiResult<T>> {
    this.calls.push({ fn, event });
    const key = typeof event.action === 'string' ? `${fn}.${event.action}` : fn;
    const handler = this.handlers.get(key) ?? this.orderAndPay(key);
    if (!handler) {
      // the client log answers like the real function unless a test scripts it
      if (key === 'clientLog.report') return { ok: true, data: { accepted: true } as T };
      return { ok: false, error: { code: 'INTERNAL', message: `no handler for ${key}` } };
    }
    const value = await handler(event);
    if (value instanceof Failure) return { ok: false, error: value.error };
    return { ok: true, data: value as T };
  }

  /**
   * `payment.orderAndPay` as the backend answers it, from the scripted `orders.confirm` and `payment.pay` (the one call
   * runs the same code as those two), unless a test scripts it itself.
   */
  private orderAndPay(key: string): Handler | undefined {
    const confirm = this.handlers.get('orders.confirm');
    const pay = this.handlers.get('payment.pay');
    if (key !== 'payment.orderAndPay' || !confirm || !pay) return undefined;
    return async (event) => {
      const order = await confirm({ ...event, action: 'confirm' });
      if (order instanceof Failure) return order;
      const paid = await pay({ action: 'pay', orderId: (order as OrderView).id });
      return paid instanceof Failure ? paid : { ...(paid as object), order };
    };
  }

  count(key: string): number {
    return this.of(key).length;
  }

  /** The events sent for `fn.action` (or `fn`). */
  of(key: string): Record<string, unknown>[] {
    return this.calls
      .filter((c) => (typeof c.event.action === 'string' ? `${c.fn}.${c.event.action}` : c.fn) === key)
      .map((c) => c.event);
  }
}

class Failure {
  constructor(readonly error: ApiError) {}
}
export const fail = (code: ApiError['code'], message = '') => new Failure({ code, message });

// ---- the platform -----------------------------------------------------------------------------------------------

/** What the payment sheet does next: pay, cancel, or fail with WeChat's errMsg. */
export type PaySheet = 'ok' | 'cancel' | { errMsg: string };
/** What the subscribe dialog answers next: a choice for the template, or a failure. */
export type SubscribeScript = 'accept' | 'reject' | 'ban' | { errCode: number; errMsg: string };

export const LOCAL_SIMULATOR = 'http://127.0.0.1:9999';
export const LOCAL_APPID = 'wxlocalapp';

type Mock = jest.Mock;
export interface WxMock {
  [api: string]: Mock | Record<string, Mock>;
  cloud: { init: Mock; callFunction: Mock };
}

export interface Platform {
  mode: BackendMode;
  wx: WxMock;
  /** the next payment sheets, in order */
  sheets: PaySheet[];
  /** the next subscribe dialog answers, in order (default: reject) */
  subscribe: SubscribeScript[];
  /** calls that reached the local cloud or the simulator (local mode) */
  requests: { url: string; data: unknown }[];
  /** the app's launch (app.ts onLaunch) ran */
  launched: boolean;
}

const g = globalThis as unknown as { wx: Record<string, unknown>; App?: (options: { onLaunch(): void }) => void };

let appOptions: { onLaunch(): void } | undefined;

/** Runs app.ts's onLaunch as WeChat does when the app starts. */
export function launchApp(): void {
  if (!appOptions) {
    g.App = (options) => {
      appOptions = options;
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the app entry registers itself with App()
    require('../../miniprogram/app');
  }
  appOptions!.onLaunch();
}

export interface ClientOptions {
  mode?: BackendMode;
  envVersion?: EnvVersion;
  /** run app.ts's launch (default: in cloud mode, where it initialises wx.cloud) */
  launch?: boolean;
}

/** Fresh platform stand-ins, transport and service state for each test. */
export function resetClient(backend: FakeBackend, options: ClientOptions = {}): WxMock & { platform: Platform } {
  const mode = options.mode ?? 'local';
  appConfig.mode = mode;
  appConfig.cloudEnv = mode === 'cloud' ? 'shop-prod-1a2b' : '';
  appConfig.orderUpdateTemplateId = '';
  appConfig.alertTemplateId = '';
  appConfig.staffOrderTemplateId = '';
  const platform: Platform = {
    mode,
    wx: undefined as unknown as WxMock,
    sheets: [],
    subscribe: [],
    requests: [],
    launched: false,
  };
  let cloudInitialised = false;
  let requestSeq = 0;

  const payOutcome = (): PaySheet => platform.sheets.shift() ?? 'ok';
  const mocks: WxMock = {
    showToast: jest.fn(),
    navigateTo: jest.fn(),
    redirectTo: jest.fn(),
    reLaunch: jest.fn(),
    switchTab: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    setClipboardData: jest.fn(),
    getAccountInfoSync: jest.fn(() => ({
      miniProgram: { appId: LOCAL_APPID, envVersion: options.envVersion ?? 'develop', version: '' },
    })),
    login: jest.fn((o: { success(r: unknown): void }) =>
      o.success({ errMsg: 'login:ok', code: `code-${++requestSeq}` }),
    ),
    requestPayment: jest.fn((o: Record<string, unknown> & { success(r: unknown): void; fail(e: unknown): void }) => {
      for (const name of ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) {
        if (typeof o[name] !== 'string')
          return o.fail({ errMsg: `requestPayment:fail parameter error: parameter.${name} should be String` });
      }
      const sheet = payOutcome();
      if (sheet === 'ok') o.success({ errMsg: 'requestPayment:ok' });
      else o.fail({ errMsg: sheet === 'cancel' ? 'requestPayment:fail cancel' : sheet.errMsg });
    }),
    requestSubscribeMessage: jest.fn((o: { tmplIds: string[]; success(r: unknown): void; fail(e: unknown): void }) => {
      if (tapDepth === 0)
        return o.fail({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' });
      const answer = platform.subscribe.shift() ?? 'reject';
      if (typeof answer === 'object') return o.fail(answer);
      o.success({ errMsg: 'requestSubscribeMessage:ok', ...Object.fromEntries(o.tmplIds.map((id) => [id, answer])) });
    }),
    request: jest.fn(
      (o: { url: string; method: string; data?: unknown; success(r: unknown): void; fail(e: unknown): void }) => {
        platform.requests.push({ url: o.url, data: o.data });
        const reply = (statusCode: number, data: unknown) =>
          setTimeout(() => o.success({ statusCode, data, header: {} }), 0);
        const cloud = appConfig.localCloudUrl;
        if (o.url === `${cloud}/`)
          return reply(200, { functions: `${cloud}/functions`, wechatpay: LOCAL_SIMULATOR, appid: LOCAL_APPID });
        if (o.url === `${cloud}/wxapi/_local/login`)
          return reply(200, { code: `code-${++requestSeq}`, session: 'session-1', openid: 'o-buyer' });
        const fn = o.url.startsWith(`${cloud}/functions/`) ? o.url.slice(`${cloud}/functions/`.length) : undefined;
        if (fn !== undefined) {
          if (!backend.has(fn))
            return reply(404, { errCode: -501000, errMsg: `FunctionName parameter could not be found: ${fn}` });
          void backend.callFunction(fn, JSON.parse(JSON.stringify(o.data ?? {}))).then(
            (result) => reply(200, { result }),
            (error: Error) => reply(500, { errCode: -504002, errMsg: `functions execute fail: ${error.message}` }),
          );
          return;
        }
        const cashier = /^http:\/\/127\.0\.0\.1:9999\/sim\/cashier\/(pay|cancel|fail)$/.exec(o.url);
        if (cashier) {
          const sheet = payOutcome();
          if (cashier[1] === 'pay' && sheet !== 'ok' && sheet !== 'cancel')
            return reply(400, { code: 'FAIL', message: sheet.errMsg });
          return reply(200, { result: cashier[1] });
        }
        setTimeout(() => o.fail({ errMsg: 'request:fail url not in domain list' }), 0);
      },
    ),
    cloud: {
      init: jest.fn(() => {
        cloudInitialised = true;
      }),
      callFunction: jest.fn(async ({ name, data }: { name: string; data: Record<string, unknown> }) => {
        if (!cloudInitialised)
          throw {
            errMsg:
              'cloud.callFunction:fail 请先调用 wx.cloud.init() 完成初始化后再调用其他云 API。init 方法可传入一个对象用于设置默认配置，详见文档。',
          };
        if (!backend.has(name))
          throw {
            errCode: -501000,
            errMsg:
              'cloud.callFunction:fail -501000 | errMsg: [ResourceNotFound] FunctionName parameter could not be found.',
          };
        let result: unknown;
        try {
          result = await backend.callFunction(name, JSON.parse(JSON.stringify(data ?? {})));
        } catch (error) {
          throw {
            errCode: -504002,
            errMsg: `cloud.callFunction:fail -504002 functions execute fail | errMsg: ${(error as Error).message}`,
          };
        }
        return { errMsg: 'cloud.callFunction:ok', result, requestID: `req-${++requestSeq}` };
      }),
    },
  };
  platform.wx = mocks;
  Object.assign(g.wx, mocks);
  setTransport(undefined);
  resetLogin();
  resetPaymentCache();
  resetCatalog();
  resetOrderListeners();
  resetClientLog();
  resetSubscriptions();
  resetPrivacy();
  if (options.launch ?? mode === 'cloud') {
    launchApp();
    platform.launched = true;
  }
  return Object.assign(mocks, { platform });
}

/**
 * Pays through whichever sheet the mode shows: taps `selector` (a pay button) with the sheet scripted to `sheet`;
 * in local mode it then makes the same choice on the local cashier sheet, as the user would.
 */
export async function payThrough(page: Rendered, selector: string, sheet: PaySheet, platform: Platform): Promise<void> {
  platform.sheets.push(sheet);
  await tap(page, selector);
  if (platform.mode === 'local') {
    const cashier = () => page.querySelector('#cashier');
    await until(() => cashier()?.instance.data.visible === true).catch(() => {
      throw new Error('the local cashier sheet did not open');
    });
    await tap(cashier()!, sheet === 'cancel' ? '.cashier__cancel' : '.cashier__pay');
  }
  // the pay flow has finished (redirected, or a dialog shown) when the page is no longer paying
  await until(() => page.instance.data.paying !== true);
  await flush(5);
}

export const MODES: BackendMode[] = ['local', 'cloud'];
