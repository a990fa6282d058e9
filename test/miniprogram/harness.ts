/**
 * Loading pages in miniprogram-simulate with their real TDesign components, a scripted backend behind the
 * services' transport, and jest mocks for the wx APIs pages call.
 */
import { readFileSync } from 'node:fs';
import simulate from 'miniprogram-simulate';
import type { ApiError, ApiResult } from '../../typings/api';
import { setTransport, type Transport } from '../../miniprogram/services/transport';
import { resetLogin } from '../../miniprogram/services/auth';
import { resetPaymentCache } from '../../miniprogram/services/payment';


export const MINIPROGRAM = `${__dirname}/../../miniprogram`;
export const TDESIGN = `${__dirname}/../../node_modules/tdesign-miniprogram/miniprogram_dist`;

const tdesignIds = new Map<string, string>();

function tdesign(component: string): string {
  let id = tdesignIds.get(component);
  if (!id) {
    id = simulate.load(`${TDESIGN}/${component}`, { rootPath: TDESIGN, less: false });
    tdesignIds.set(component, id);
  }
  return id;
}

function overrides(jsonPath: string): Record<string, string> {
  const json = JSON.parse(readFileSync(`${jsonPath}.json`, 'utf8')) as { usingComponents?: Record<string, string> };
  const map: Record<string, string> = {};
  for (const [tag, target] of Object.entries(json.usingComponents ?? {})) {
    if (target.startsWith('tdesign-miniprogram/')) map[tag] = tdesign(target.slice('tdesign-miniprogram/'.length));
    else if (target.startsWith('/')) map[tag] = loadComponent(target.slice(1), tag);
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

/** Taps a TDesign button (through its inner `.t-button` node, so `disabled` is honoured) or a plain view. */
export async function tap(page: Rendered, selector: string): Promise<void> {
  const target = page.querySelector(selector);
  if (!target) throw new Error(`nothing matches ${selector}`);
  const inner = target.querySelector('.t-button');
  (inner ?? target).dispatchEvent('tap');
  await simulate.sleep(0);
}

export const text = (page: Rendered) => page.dom.textContent?.replace(/\s+/g, ' ') ?? '';
export const flush = (ms = 0) => simulate.sleep(ms);

export type Handler = (event: Record<string, unknown>) => unknown;

/** A scripted backend: `on('orders.get', handler)`; a handler returns data, or `fail(code)` for an error. */
export class FakeBackend implements Transport {
  readonly calls: { fn: string; event: Record<string, unknown> }[] = [];
  private readonly handlers = new Map<string, Handler>();

  on(key: string, handler: Handler): this {
    this.handlers.set(key, handler);
    return this;
  }

  async loginCode(): Promise<string> {
    return 'code-1';
  }

  async callFunction<T>(fn: string, event: Record<string, unknown>): Promise<ApiResult<T>> {
    this.calls.push({ fn, event });
    const key = typeof event.action === 'string' ? `${fn}.${event.action}` : fn;
    const handler = this.handlers.get(key);
    if (!handler) return { ok: false, error: { code: 'INTERNAL', message: `no handler for ${key}` } };
    const value = await handler(event);
    if (value instanceof Failure) return { ok: false, error: value.error };
    return { ok: true, data: value as T };
  }

  count(key: string): number {
    return this.calls.filter((c) => (typeof c.event.action === 'string' ? `${c.fn}.${c.event.action}` : c.fn) === key).length;
  }
}

class Failure {
  constructor(readonly error: ApiError) {}
}
export const fail = (code: ApiError['code'], message = '') => new Failure({ code, message });

type WxMock = Record<string, jest.Mock | Record<string, jest.Mock>>;

/** Fresh wx mocks, transport and service state for each test. */
export function resetClient(backend: FakeBackend): WxMock {
  const g = globalThis as unknown as { wx: Record<string, unknown> };
  const mocks: WxMock = {
    showToast: jest.fn(),
    navigateTo: jest.fn(),
    redirectTo: jest.fn(),
    reLaunch: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    requestPayment: jest.fn(),
    request: jest.fn(),
    login: jest.fn(),
    cloud: { callFunction: jest.fn(), init: jest.fn() },
  };
  Object.assign(g.wx, mocks);
  setTransport(backend);
  resetLogin();
  resetPaymentCache();
  return mocks;
}
