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
 * A timer-triggered function. The platform's timer carries no user; a call that carries one came from a mini-program
 * user through callFunction and is refused without doing anything.
 */
export function timer<T>(runtime: Runtime, run: (deps: Deps, context: RuntimeContext) => Promise<T>) {
  return async (): Promise<T | ApiResult<never>> => {
    let log = jsonLogger;
    try {
      const context = await runtime();
      log = context.deps.log;
      // only the platform's timer (wx_trigger) runs it: a callFunction, even one with no user, or an HTTP request
      // (the local cloud's /http/<timer function>) is refused before anything runs
      if (context.caller.openid || context.source.split(',')[0] !== 'wx_trigger')
        return { ok: false, error: { code: 'FORBIDDEN', message: 'timer function: only its timer trigger runs it' } };
      return await run(context.deps, context);
    } catch (error) {
      return { ok: false, error: toApiError(error, log) };
    }
  };
}
