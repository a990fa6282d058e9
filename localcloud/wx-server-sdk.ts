/**
 * The local cloud's `wx-server-sdk`: the same names the project's cloud functions use (init, database, getWXContext,
 * openapi.subscribeMessage.send, DYNAMIC_CURRENT_ENV), backed by the embedded database and the WeChat API simulator.
 * The function host resolves `require('wx-server-sdk')` here (resolve-sdk.ts; jest maps it in jest.config.js).
 *
 * The platform gives each invocation its own context (OPENID, APPID) through environment variables of a
 * one-request-at-a-time instance; the local host runs invocations concurrently in one process, so the context is
 * carried by AsyncLocalStorage instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ServerDate } from './db/commands';
import type { DatabaseConfig, LocalDatabaseEngine } from './db/database';

export interface WXContext {
  OPENID?: string;
  APPID?: string;
  UNIONID?: string;
  ENV?: string;
  SOURCE?: string;
}

export interface LocalPlatform {
  engine: LocalDatabaseEngine;
  envId: string;
  sendSubscribeMessage(params: unknown, context: WXContext): Promise<unknown>;
  /** another cloud call (`wxa.sec.order.uploadShippingInfo`, …), answered by the WeChat API simulator */
  callOpenApi(api: string, data: unknown, context: WXContext): Promise<unknown>;
}

interface Invocation {
  platform: LocalPlatform;
  context: WXContext;
}

const invocations = new AsyncLocalStorage<Invocation>();
let boundPlatform: LocalPlatform | undefined;

/** The platform used outside an invocation (module-level code in a function). */
export function bindPlatform(platform: LocalPlatform | undefined): void {
  boundPlatform = platform;
}

export function runInvocation<T>(platform: LocalPlatform, context: WXContext, fn: () => Promise<T>): Promise<T> {
  return invocations.run({ platform, context }, fn);
}

function platform(): LocalPlatform {
  const current = invocations.getStore()?.platform ?? boundPlatform;
  if (!current) throw new Error('wx-server-sdk (local cloud): no local cloud is running in this process');
  return current;
}

export const DYNAMIC_CURRENT_ENV = Symbol.for('DYNAMIC_CURRENT_ENV');

export function init(_config?: unknown): void {}

/** Resolved at each use, so a handle kept across invocations follows the running local cloud. */
export function database(config: DatabaseConfig = {}) {
  const db = () => platform().engine.database(config);
  return {
    collection: (name: string) => db().collection(name),
    get command() {
      return db().command;
    },
    serverDate: (options: { offset?: number } = {}) => new ServerDate(options.offset ?? 0),
    runTransaction: <T>(fn: Parameters<ReturnType<typeof db>['runTransaction']>[0], retries?: number) =>
      db().runTransaction(fn as never, retries) as Promise<T>,
  };
}

export function getWXContext(): WXContext {
  const invocation = invocations.getStore();
  return { ...invocation?.context, ENV: invocation?.platform.envId ?? boundPlatform?.envId };
}

/**
 * `cloud.openapi`: subscribeMessage.send, and any other API by its path (wxa.sec.order.getOrder …), as wx-server-sdk's
 * generic proxy. Called as a function (`cloud.openapi({ convertCase: false })`) it answers the same proxy; the local
 * simulator takes WeChat's snake_case bodies, which is what convertCase: false sends (the project always uses it).
 * A non-zero errcode is thrown with errCode and errMsg, as the SDK does.
 */
function apiProxy(paths: string[]): unknown {
  const call = async (data: unknown) => {
    const context = invocations.getStore()?.context ?? {};
    const api = paths.join('.');
    if (api === 'subscribeMessage.send') return platform().sendSubscribeMessage(data, context);
    const answer = (await platform().callOpenApi(api, data, context)) as { errcode?: number; errmsg?: string };
    if (answer.errcode) {
      const error = new Error(`openapi.${api}:fail ${answer.errcode} ${answer.errmsg ?? ''}`) as Error & {
        errCode: number;
        errMsg: string;
      };
      error.errCode = answer.errcode;
      error.errMsg = answer.errmsg ?? '';
      throw error;
    }
    return answer;
  };
  return new Proxy(paths.length === 0 ? () => apiProxy([]) : call, {
    get: (_target, property) =>
      property === 'then' || typeof property === 'symbol' ? undefined : apiProxy([...paths, property]),
  });
}

export const openapi = apiProxy([]) as {
  subscribeMessage: { send(params: unknown): Promise<unknown> };
} & ((options?: { convertCase?: boolean }) => unknown);
