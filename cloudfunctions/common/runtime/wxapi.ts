/** jscode2session over fetch (api.weixin.qq.com, or the local WeChat API simulator at WX_API_BASE_URL). */
import type { AppConfig } from '../domain/config';
import type { WxApi, WxSession } from '../domain/deps';
import { DomainError } from '../domain/errors';

const TIMEOUT_MS = 3000;

export function httpWxApi(config: AppConfig, fetchImpl: typeof fetch = fetch): WxApi {
  return {
    async code2session(code: string): Promise<WxSession> {
      const query = new URLSearchParams({
        appid: config.appid,
        secret: config.appSecret,
        js_code: code,
        grant_type: 'authorization_code',
      });
      let body: { openid?: string; session_key?: string; unionid?: string; errcode?: number; errmsg?: string };
      try {
        const response = await fetchImpl(`${config.wxApiBaseUrl}/sns/jscode2session?${query}`, {
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        body = (await response.json()) as typeof body;
      } catch {
        throw new DomainError('UNAVAILABLE', '微信登录服务暂时不可用，请重试');
      }
      if (body.errcode) {
        if (body.errcode === 40029) throw new DomainError('UNAUTHENTICATED', '登录凭证无效或已过期，请重新登录');
        if (body.errcode === 40163) throw new DomainError('UNAUTHENTICATED', '登录凭证已被使用，请重新登录');
        if (body.errcode === 45011) throw new DomainError('UNAVAILABLE', '登录太频繁，请稍后再试');
        throw new DomainError('UNAVAILABLE', `微信登录失败（${body.errcode}）`);
      }
      if (!body.openid || !body.session_key) throw new DomainError('UNAVAILABLE', '微信登录返回不完整');
      return { openid: body.openid, sessionKey: body.session_key, ...(body.unionid ? { unionid: body.unionid } : {}) };
    },
  };
}
