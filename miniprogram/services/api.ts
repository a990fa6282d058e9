/**
 * Typed calls to the cloud functions: `callApi('orders.get', { orderId })` sends the action's request (typings/api/, the
 * `Actions` map) with the action named by the key, and answers the action's response, or throws ApiFailure.
 */
import type { Actions, ApiResult } from '../../typings/api';
import { ApiFailure } from './errors';
import { transport, TransportError } from './transport';

type Relogin = () => Promise<unknown>;
let relogin: Relogin | undefined;

/** auth.ts registers how to log in again when a session has lapsed (the local cloud restarted, say). */
export function onUnauthenticated(fn: Relogin | undefined): void {
  relogin = fn;
}

async function once<T>(fn: string, event: Record<string, unknown>): Promise<ApiResult<T>> {
  try {
    return await transport().callFunction<T>(fn, event);
  } catch (error) {
    if (error instanceof TransportError) throw new ApiFailure('NETWORK', '网络不给力，请检查网络后重试');
    throw error;
  }
}

export async function callFunction<T>(fn: string, event: Record<string, unknown>): Promise<T> {
  let result = await once<T>(fn, event);
  if (!result.ok && result.error.code === 'UNAUTHENTICATED' && relogin && fn !== 'login') {
    await relogin();
    result = await once<T>(fn, event);
  }
  if (!result.ok) throw new ApiFailure(result.error.code, result.error.message, result.error.field);
  return result.data;
}

/** `'orders.get'` calls the orders function with `{ action: 'get', ...request }`; `'login'` with the request alone. */
export function callApi<K extends keyof Actions>(
  key: K,
  request: Actions[K]['request'],
): Promise<Actions[K]['response']> {
  const [fn, action] = key.split('.') as [string, string?];
  return callFunction<Actions[K]['response']>(fn, action === undefined ? { ...request } : { action, ...request });
}
