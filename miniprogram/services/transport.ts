/**
 * The two ways to reach the backend, behind one interface: wx.cloud.callFunction (production) and wx.request to
 * the local cloud (development). `config.ts` chooses; a trial or release build always gets the cloud, and the local
 * transport refuses to work outside a develop build as well. Nothing else in the client calls the backend directly.
 */
import type { ApiResult } from '../../typings/api';
import { appConfig, backendModeFor, envVersion, type AppConfig } from '../config';

export interface Transport {
  /** a wx.login code for the login function (the local cloud mints one through its local wx.login) */
  loginCode(): Promise<string>;
  callFunction<T>(name: string, data: Record<string, unknown>): Promise<ApiResult<T>>;
}

/** The backend could not be reached or answered outside the contract. */
export class TransportError extends Error {}

export interface HttpReply<T> {
  statusCode: number;
  data: T;
}

export function wxRequest<T>(options: {
  url: string;
  method: 'GET' | 'POST';
  data?: unknown;
  header?: Record<string, string>;
}): Promise<HttpReply<T>> {
  return new Promise((resolve, reject) => {
    wx.request({
      url: options.url,
      method: options.method,
      data: options.data as WechatMiniprogram.IAnyObject,
      header: { 'content-type': 'application/json', ...options.header },
      timeout: 15000,
      success: (res) => resolve({ statusCode: res.statusCode, data: res.data as T }),
      fail: (err) => reject(new TransportError(err.errMsg)),
    });
  });
}

export const cloudTransport: Transport = {
  loginCode: () =>
    new Promise((resolve, reject) => {
      wx.login({
        success: (res) => (res.code ? resolve(res.code) : reject(new TransportError('wx.login returned no code'))),
        fail: (err) => reject(new TransportError(err.errMsg)),
      });
    }),
  async callFunction<T>(name: string, data: Record<string, unknown>): Promise<ApiResult<T>> {
    let result: unknown;
    try {
      result = (await wx.cloud.callFunction({ name, data })).result;
    } catch (error) {
      throw new TransportError((error as { errMsg?: string }).errMsg ?? String(error));
    }
    if (!result || typeof result !== 'object' || !('ok' in result))
      throw new TransportError(`${name} answered outside the contract`);
    return result as ApiResult<T>;
  },
};

/** The local cloud exists only on the developer's machine: a trial or release build never reaches it. */
export function assertDevelop(): void {
  if (envVersion() !== 'develop') throw new TransportError('the local cloud is only for develop builds');
}

export function localTransport(baseUrl: string, user: string): Transport {
  let session = '';
  return {
    async loginCode() {
      assertDevelop();
      const reply = await wxRequest<{ code?: string; session?: string }>({
        url: `${baseUrl}/wxapi/_local/login`,
        method: 'POST',
        data: { user },
      });
      if (reply.statusCode !== 200 || !reply.data.code || !reply.data.session)
        throw new TransportError(`local wx.login answered ${reply.statusCode}`);
      session = reply.data.session;
      return reply.data.code;
    },
    async callFunction<T>(name: string, data: Record<string, unknown>): Promise<ApiResult<T>> {
      assertDevelop();
      const reply = await wxRequest<{ result?: ApiResult<T>; errMsg?: string }>({
        url: `${baseUrl}/functions/${name}`,
        method: 'POST',
        data,
        header: { 'X-WX-Session': session },
      });
      if (reply.statusCode !== 200 || !reply.data.result)
        throw new TransportError(reply.data.errMsg ?? `${name} answered ${reply.statusCode}`);
      return reply.data.result;
    },
  };
}

let current: Transport | undefined;

export function transportFor(config: AppConfig): Transport {
  return backendModeFor(config) === 'cloud' ? cloudTransport : localTransport(config.localCloudUrl, config.localUser);
}

export function transport(): Transport {
  current ??= transportFor(appConfig);
  return current;
}

/** Tests swap the transport; the app never does. */
export function setTransport(next: Transport | undefined): void {
  current = next;
}
