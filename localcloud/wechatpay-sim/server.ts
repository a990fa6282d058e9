/**
 * The simulator's HTTP server: routes each /v3/ request to the room that answers it, authenticates it as WeChat
 * Pay does (401 SIGN_ERROR), applies injected faults and the refund API's error-rate limit, then signs 2xx JSON
 * answers with the key the signing mode picks. Bytes a room answers raw (a bill download) go out unsigned, as
 * WeChat Pay sends them. /sim/ requests go to the control API, unsigned.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, parseJsonBody, readBody, refuseOtherSites, sendJson } from '../http';
import { authenticate, type Merchant } from './auth';
import type { Answer, Room, SimContext } from './context';
import type { ApiFaultKind } from './faults';

export type ControlHandler = (
  method: string,
  path: string,
  body: unknown,
  url: URL,
) => Promise<{ status: number; body: unknown }>;

export class SimServer {
  private readonly rooms: Room[] = [];
  private readonly merchant: Merchant;
  /** business times of the refund API's recent error answers */
  private refundErrors: number[] = [];
  private server?: Server;
  baseUrl = '';

  constructor(
    private readonly ctx: SimContext,
    private readonly control: ControlHandler,
  ) {
    this.merchant = {
      mchid: ctx.keys.mchid,
      serialNo: ctx.keys.merchantSerialNo,
      key: createPublicKey(ctx.keys.merchantCertificatePem),
    };
  }

  /** Adds a room; the first room that routes a request answers it. */
  plug(room: Room): void {
    this.rooms.push(room);
  }

  async listen(host: string, port: number): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${address.address}:${address.port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: string | undefined;
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://sim');
      const method = req.method ?? 'GET';
      // the console's rule: the control API (pay an order, faults, the clock) only for local pages and the CLI
      refuseOtherSites(req, 'the WeChat Pay simulator', url.pathname.startsWith('/sim/') ? raw : undefined);
      if (url.pathname.startsWith('/sim/')) {
        const answer = await this.control(method, url.pathname, method === 'POST' ? parseJsonBody(raw) : {}, url);
        return sendJson(res, answer.status, answer.body);
      }
      const route = this.route(method, url.pathname);
      if (!route) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '请求的资源不存在');
      target = route.target;
      authenticate(req, raw, this.merchant, this.ctx.clock.wall());
      this.checkErrorRate(target);
      const fault = this.ctx.faults.take(target);
      const phase = fault && (fault.phase ?? (fault.kind === 'TIMEOUT' ? 'after' : 'before'));
      if (fault?.kind === 'SLOW') await this.ctx.timers.sleep(fault.delayMs ?? 1000);
      else if (fault && phase === 'before') {
        if (fault.kind === 'TIMEOUT') return void (await this.ctx.timers.sleep(fault.delayMs ?? 10_000), res.destroy());
        throw faultError(fault.kind);
      }
      const outcome = await route.run(url, raw, req).then(
        (answer) => ({ answer }),
        (error: unknown) => ({ error }),
      );
      if (fault && fault.kind !== 'SLOW' && phase === 'after') {
        // processed, but the answer is lost: the caller must retry idempotently
        if (fault.kind === 'TIMEOUT') return void (await this.ctx.timers.sleep(fault.delayMs ?? 10_000), res.destroy());
        throw faultError(fault.kind);
      }
      if ('error' in outcome) throw outcome.error;
      this.reply(req, res, outcome.answer);
    } catch (error) {
      if (target === 'refund') this.recordRefundError();
      if (error instanceof HttpError) {
        this.reply(req, res, {
          status: error.status,
          body: {
            code: error.code,
            message: error.message,
            ...(error.detail !== undefined ? { detail: error.detail } : {}),
          },
        });
      } else {
        this.ctx.log?.(`[wechatpay-sim] internal error: ${(error as Error).stack}`);
        this.reply(req, res, { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统错误' } });
      }
    }
  }

  private route(method: string, path: string) {
    for (const room of this.rooms) {
      const route = room.route(method, path);
      if (route) return route;
    }
    return undefined;
  }

  /**
   * "错误或无效请求频率限制：6qps": once the refund API has answered that many errors within a second (business
   * time), it answers 429 FREQUENCY_LIMITED, itself an error answer. Off when the limit is 0.
   */
  private checkErrorRate(target: string): void {
    const limit = this.ctx.settings.refundErrorLimitPerSecond;
    if (target !== 'refund' || !(limit > 0)) return;
    if (this.recentRefundErrors().length >= limit)
      throw new HttpError(429, 'FREQUENCY_LIMITED', '异常或错误的退款申请请求超过频率限制，请降低频率后重试');
  }

  private recentRefundErrors(): number[] {
    const since = this.ctx.clock.now() - 1000;
    this.refundErrors = this.refundErrors.filter((t) => t > since);
    return this.refundErrors;
  }

  private recordRefundError(): void {
    this.recentRefundErrors().push(this.ctx.clock.now());
  }

  private reply(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
    const headers: Record<string, string> = { 'Request-ID': requestId() };
    if ('raw' in answer) return void res.writeHead(answer.status, { ...answer.headers, ...headers }).end(answer.raw);
    const body = answer.body === undefined ? '' : JSON.stringify(answer.body);
    if (body) headers['Content-Type'] = 'application/json';
    if (answer.status >= 200 && answer.status < 300) {
      const serial = req.headers['wechatpay-serial'];
      Object.assign(headers, this.ctx.signing.answerHeaders(typeof serial === 'string' ? serial : undefined, body));
    }
    res.writeHead(answer.status, headers).end(body);
  }
}

function requestId(): string {
  return randomUUID().replace(/-/g, '').toUpperCase();
}

export function faultError(kind: ApiFaultKind): HttpError {
  if (kind === 'FREQUENCY_LIMITED') return new HttpError(429, 'FREQUENCY_LIMITED', '频率超限');
  if (kind === 'NOT_ENOUGH') return new HttpError(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起');
  if (kind === 'USER_ACCOUNT_ABNORMAL')
    return new HttpError(403, 'USER_ACCOUNT_ABNORMAL', '退款请求失败，用户帐号已注销');
  return new HttpError(500, 'SYSTEM_ERROR', '系统错误');
}
