/**
 * The WeChat API simulator (api.weixin.qq.com): jscode2session with codes minted by the local wx.login flow (single
 * use, 5-minute life, errcodes 40029 and 40163), and subscribeMessage.send recorded for inspection. It also keeps the
 * local sessions that stand in for the platform's identity: a callFunction carrying a session's token runs with that
 * user's OPENID in its context.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, parseJsonBody, sendJson } from './http';
import type { WXContext } from './wx-server-sdk';

export const CODE_LIFETIME_MS = 5 * 60 * 1000;

export interface SubscribeRecord {
  at: number;
  touser: string;
  templateId: string;
  page?: string;
  data: unknown;
  fromOpenid?: string;
}

export class WechatApiSimulator {
  private readonly codes = new Map<string, { openid: string; expiresAt: number; used: boolean }>();
  private readonly sessions = new Map<string, { openid: string; user: string }>();
  readonly subscribeMessages: SubscribeRecord[] = [];

  constructor(private readonly options: { appid: string; appSecret: string; clock?: () => number }) {}

  private get now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** A stable openid per local user name, shaped like WeChat's (28 characters). */
  /** A user's openid in a mini-program (this one by default): one user has a different openid in each. */
  openidFor(user: string, appid = this.options.appid): string {
    return `o${createHash('sha256').update(`${appid}:${user}`).digest('base64url').slice(0, 27)}`;
  }

  /** The local wx.login: a fresh code for jscode2session and a session token for callFunction. */
  login(user: string): { code: string; session: string; openid: string } {
    const openid = this.openidFor(user);
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { openid, expiresAt: this.now + CODE_LIFETIME_MS, used: false });
    const session = randomBytes(24).toString('base64url');
    this.sessions.set(session, { openid, user });
    return { code, session, openid };
  }

  /** The local sessions by user, for the console (the session tokens themselves stay here). */
  listSessions(): { user: string; openid: string; sessions: number }[] {
    const byUser = new Map<string, { user: string; openid: string; sessions: number }>();
    for (const { user, openid } of this.sessions.values()) {
      const entry = byUser.get(user) ?? { user, openid, sessions: 0 };
      entry.sessions += 1;
      byUser.set(user, entry);
    }
    return [...byUser.values()];
  }

  /** The context a callFunction gets: OPENID only for a valid session, as on the platform. */
  contextFor(session: string | undefined): WXContext {
    const found = session ? this.sessions.get(session) : undefined;
    return found
      ? { OPENID: found.openid, APPID: this.options.appid, SOURCE: 'wx_client' }
      : { APPID: this.options.appid, SOURCE: 'wx_client' };
  }

  code2session(params: URLSearchParams): Record<string, unknown> {
    if (params.get('appid') !== this.options.appid) return { errcode: 40013, errmsg: 'invalid appid' };
    if (params.get('secret') !== this.options.appSecret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40097, errmsg: 'invalid args' };
    const entry = this.codes.get(params.get('js_code') ?? '');
    if (!entry || entry.expiresAt <= this.now) return { errcode: 40029, errmsg: 'invalid code' };
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    entry.used = true;
    return { openid: entry.openid, session_key: randomBytes(16).toString('base64') };
  }

  recordSubscribeMessage(params: unknown, context: WXContext): { errCode: number; errMsg: string } {
    const p = (params ?? {}) as Record<string, unknown>;
    if (typeof p.touser !== 'string' || typeof p.templateId !== 'string' || typeof p.data !== 'object') {
      const error = new Error('openapi.subscribeMessage.send:fail missing touser, templateId or data') as Error & {
        errCode: number;
      };
      error.errCode = 47003;
      throw error;
    }
    this.subscribeMessages.push({
      at: this.now,
      touser: p.touser,
      templateId: p.templateId,
      data: p.data,
      ...(typeof p.page === 'string' ? { page: p.page } : {}),
      ...(context.OPENID ? { fromOpenid: context.OPENID } : {}),
    });
    return { errCode: 0, errMsg: 'openapi.subscribeMessage.send:ok' };
  }

  /** Routes under /wxapi. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const path = url.pathname.replace(/^\/wxapi/, '');
    if (req.method === 'GET' && path === '/sns/jscode2session')
      return sendJson(res, 200, this.code2session(url.searchParams));
    if (req.method === 'POST' && path === '/_local/login') {
      const body = parseJsonBody(raw) as { user?: unknown };
      const user = body.user === undefined ? 'tester' : body.user;
      if (typeof user !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(user))
        throw new HttpError(400, 'INVALID_REQUEST', 'user: 1-32 letters, digits, _ or -');
      return sendJson(res, 200, this.login(user));
    }
    if (req.method === 'GET' && path === '/_local/subscribe-messages')
      return sendJson(res, 200, this.subscribeMessages);
    throw new HttpError(404, 'NOT_FOUND', `no WeChat API ${req.method} ${path}`);
  }
}
