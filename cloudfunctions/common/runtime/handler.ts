/**
 * Cloud function adapters: parse, authorise, call the domain, map errors to the typed codes of typings/api/errors.ts.
 * A function never throws to the platform: the client always gets `{ ok, data }` or `{ ok: false, error }`.
 */
import type { ApiError, ApiResult } from '../../../typings/api';
import { AppConfigError } from '../domain/config';
import type { Caller, Deps, Logger } from '../domain/deps';
import { DomainError, invalid } from '../domain/errors';
import { asObject } from '../domain/validate';
import { isHttpAccessEvent, type HttpRequestEvent, type HttpResponse } from '../http';
import { WechatPayApiError, WechatPayConfigError, WechatPayNetworkError } from '../wechatpay';
import type { Runtime, RuntimeContext } from './cloud';
import { jsonLogger } from './log';

export type Operation<T> = (deps: Deps, caller: Caller, event: unknown) => Promise<T>;

export function toApiError(error: unknown, log: Logger): ApiError {
  if (error instanceof DomainError) return error.toApiError();
  if (error instanceof WechatPayApiError || error instanceof WechatPayNetworkError) {
    return { code: 'PAYMENT_PROVIDER_ERROR', message: '微信支付暂时不可用，请稍后重试' };
  }
  if (error instanceof AppConfigError || error instanceof WechatPayConfigError) {
    log.error('service misconfigured', { problems: error.problems });
    return { code: 'INTERNAL', message: '服务配置错误' };
  }
  log.error('unexpected error', { error: (error as Error)?.stack ?? String(error) });
  return { code: 'INTERNAL', message: '服务繁忙，请稍后重试' };
}

/** The platform adds `userInfo` to callFunction events; identity comes from the context, so it is dropped. */
function withoutPlatformFields(event: unknown): unknown {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return event;
  const { userInfo: _userInfo, ...rest } = event as Record<string, unknown>;
  return rest;
}

export function callable<T>(runtime: Runtime, operation: Operation<T>) {
  return async (event: unknown): Promise<ApiResult<T>> => {
    let log = jsonLogger;
    try {
      const { deps, caller } = await runtime();
      log = deps.log;
      return { ok: true, data: await operation(deps, caller, withoutPlatformFields(event)) };
    } catch (error) {
      return { ok: false, error: toApiError(error, log) };
    }
  };
}

/** Routes `event.action` to one of several operations. */
export function byAction<T>(operations: Record<string, Operation<T>>): Operation<T> {
  return (deps, caller, event) => {
    const action = asObject(event).action;
    const operation = typeof action === 'string' && Object.hasOwn(operations, action) ? operations[action] : undefined;
    if (!operation) throw invalid('action', `action must be one of ${Object.keys(operations).join(', ')}`);
    return operation(deps, caller, event);
  };
}

/**
 * getWXContext's SOURCE values of a callFunction (the mini-program, the IDE, its local debugging, WeChat's crawler,
 * another cloud function: `scf` in the chain). Such a caller chooses the whole event, an HTTP-shaped one with its own
 * `requestContext.sourceIp` included, so an HTTP access function refuses them. The documented table:
 * developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/utils/Cloud.getWXContext.html
 */
const CALL_FUNCTION_SOURCES = new Set(['wx_client', 'wx_devtools', 'wx_localdebug', 'wx_crawler', 'scf']);
export const isCallFunctionSource = (source: string) =>
  source.split(',').some((part) => CALL_FUNCTION_SOURCES.has(part.trim()));

const refusal = (statusCode: number, message: string): HttpResponse => ({
  statusCode,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ code: 'FAIL', message }),
});

/**
 * An HTTP access endpoint (the WeChat Pay notify URL; the Native checkout's page and API with `methods`). It refuses,
 * before any work, anything that is not an HTTP access event or that carries a mini-program user's identity (a
 * callFunction from a client), and any method but `methods` (default POST only).
 */
export function httpAccess(
  runtime: Runtime,
  handle: (deps: Deps, event: HttpRequestEvent, context: RuntimeContext) => Promise<HttpResponse>,
  options: { methods?: readonly string[] } = {},
) {
  const methods = options.methods ?? ['POST'];
  return async (event: unknown): Promise<HttpResponse> => {
    try {
      if (!isHttpAccessEvent(event)) return refusal(400, 'not an HTTP access event');
      if (!methods.includes(event.httpMethod.toUpperCase())) return refusal(405, `${methods.join(', ')} only`);
      const context = await runtime();
      if (context.caller.openid || isCallFunctionSource(context.source))
        return refusal(403, 'HTTP access only: not callable through callFunction');
      return await handle(context.deps, event, context);
    } catch (error) {
      jsonLogger.error('http handler failed', { error: (error as Error)?.stack ?? String(error) });
      return {
        statusCode: 500,
        headers: { 'Content-Type': 'application/json' },
        body: '{"code":"FAIL","message":"temporarily unavailable"}',
      };
    }
  };
}

/**
 * Only the platform's timer (SOURCE wx_trigger, no user) runs a timer's job: a callFunction, even one with no user, or
 * an HTTP request (the local cloud's /http/<timer function>) never does.
 */
const fromTimerTrigger = (context: RuntimeContext): boolean =>
  !context.caller.openid && context.source.split(',')[0] === 'wx_trigger';

/**
 * A timer-triggered function. The platform's timer carries no user; a call that carries one came from a mini-program
 * user through callFunction and is refused without doing anything.
 */
export function timer<T>(runtime: Runtime, run: (deps: Deps, context: RuntimeContext) => Promise<T>) {
  return async (): Promise<T | ApiResult<never>> => {
    let log = jsonLogger;
    try {
      const context = await runtime();
      log = context.deps.log;
      if (!fromTimerTrigger(context))
        return { ok: false, error: { code: 'FORBIDDEN', message: 'timer function: only its timer trigger runs it' } };
      return await run(context.deps, context);
    } catch (error) {
      return { ok: false, error: toApiError(error, log) };
    }
  };
}

/**
 * A timer-triggered function that also answers the merchant's pages: the platform's timer runs the job; any other call
 * (a callFunction from the mini-program) is routed to `operation`, which authorises the caller itself. The job runs
 * for exactly what `timer` runs it for.
 */
export function timerWithActions<T, R>(
  runtime: Runtime,
  run: (deps: Deps, context: RuntimeContext) => Promise<T>,
  operation: Operation<R>,
) {
  return async (event: unknown): Promise<T | ApiResult<R>> => {
    let log = jsonLogger;
    try {
      const context = await runtime();
      log = context.deps.log;
      if (fromTimerTrigger(context)) return await run(context.deps, context);
      return { ok: true, data: await operation(context.deps, context.caller, withoutPlatformFields(event)) };
    } catch (error) {
      return { ok: false, error: toApiError(error, log) };
    }
  };
}

/** The sources of a callFunction made by the mini-program (or DevTools on its behalf). */
const CLIENT_SOURCES = ['wx_client', 'wx_devtools'];

/**
 * The message-push function (消息推送 → 云函数): WeChat Cloud calls it with the pushed event as its event. WeChat's
 * page for it replies to the sender with the context's OPENID, so a push may carry the sender's openid; what a push
 * never is, is a callFunction from the mini-program: a call whose SOURCE is the client's (wx_client, wx_devtools), or
 * whose OPENID is not the event's FromUserName, is refused without doing anything. 'success' tells WeChat the event
 * was taken; anything else and WeChat delivers it again.
 */
export function messagePush<T>(runtime: Runtime, handle: (deps: Deps, event: unknown) => Promise<T>) {
  return async (event: unknown): Promise<'success' | ApiResult<never>> => {
    let log = jsonLogger;
    try {
      const context = await runtime();
      log = context.deps.log;
      const from = (event as { FromUserName?: unknown } | null)?.FromUserName;
      const { openid, source } = context.caller;
      if ((source && CLIENT_SOURCES.includes(source)) || (openid && openid !== from))
        return { ok: false, error: { code: 'FORBIDDEN', message: 'message push: not callable by users' } };
      const outcome = await handle(context.deps, withoutPlatformFields(event));
      log.info('message push handled', { outcome });
      return 'success';
    } catch (error) {
      return { ok: false, error: toApiError(error, log) };
    }
  };
}
