/**
 * The control API under /sim/ (loopback, unsigned): what a tester does that WeChat Pay has no endpoint for.
 *   GET  /sim/state                      keys' ids, settings, clock
 *   POST /sim/config                     signingMode, timeFactor, refundDelayMs, refundIntervalMs,
 *                                        refundErrorLimitPerSecond, migrationStartedAt, migrationDurationMs, publicKeyShare
 *   GET|POST|DELETE /sim/clock           business time: {advanceMs} or {now}; DELETE back to the wall clock
 *   POST /sim/cashier/{pay|cancel|fail|userpaying}   the wx.requestPayment parameters (checked), or {prepay_id}
 *   GET  /sim/transactions[/{out_trade_no}], GET /sim/refunds, POST /sim/refunds/{out_refund_no}/settle {status?}
 *   GET  /sim/notifications[?outTradeNo&state&eventType], GET /sim/notifications/{id}, POST …/{id}/replay
 *   GET|POST|DELETE /sim/faults
 * and whatever plugged rooms add (a bills room: /sim/bills/…).
 */
import { HttpError } from '../http';
import { CASHIER_ACTIONS, type Cashier, type CashierAction, type RequestPaymentInput } from './cashier';
import { chinaTime } from './clock';
import type { Room, SimContext } from './context';
import { parseFaultRule } from './faults';
import type { RefundsApi } from './refunds';
import { configurePartner, partnerLedger } from './partner';
import { refundView } from './refunds';
import { SIGNING_MODES, type SigningMode } from './signing';
import { transactionView } from './transactions';
import { isObj } from './validate';

export interface ControlDeps {
  ctx: SimContext;
  cashier: Cashier;
  refunds: RefundsApi;
  /** plugged rooms, asked in turn for control paths the API does not know */
  rooms: () => readonly Room[];
  /** the fault targets plugged rooms answer to */
  roomTargets: () => readonly string[];
}

type Reply = { status: number; body: unknown };
const ok = (body: unknown): Reply => ({ status: 200, body });
const bad = (message: string) => new HttpError(400, 'INVALID_REQUEST', message);

export class ControlApi {
  constructor(private readonly deps: ControlDeps) {}

  async handle(method: string, path: string, body: unknown, url: URL): Promise<Reply> {
    const { ctx } = this.deps;
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/sim/state') return ok(this.state());
    if (method === 'POST' && path === '/sim/config') return ok(this.configure(body));
    if (path === '/sim/clock' && ['GET', 'POST', 'DELETE'].includes(method)) return ok(this.moveClock(method, body));
    if (
      method === 'POST' &&
      (m = path.match(/^\/sim\/cashier\/([a-z]+)$/)) &&
      CASHIER_ACTIONS.includes(m[1] as CashierAction)
    ) {
      // the wx.requestPayment parameters (checked as the payment sheet checks them), or a bare prepay_id (unchecked)
      const checked = isObj(body) && body.package !== undefined;
      return ok(
        await this.deps.cashier.act(
          m[1] as CashierAction,
          checked ? (body as unknown as RequestPaymentInput) : param(body, 'prepay_id'),
        ),
      );
    }
    if (method === 'GET' && path === '/sim/transactions')
      return ok((await ctx.ledger.listTransactions()).map(transactionView));
    if (method === 'GET' && (m = path.match(/^\/sim\/transactions\/([^/]+)$/))) {
      const tx = await ctx.ledger.getTransaction(decodeURIComponent(m[1]!));
      if (!tx) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
      return ok({
        ...transactionView(tx),
        refunds: (await ctx.ledger.listRefunds({ outTradeNo: tx._id })).map(refundView),
      });
    }
    if (method === 'GET' && path === '/sim/refunds') return ok((await ctx.ledger.listRefunds()).map(refundView));
    if (method === 'GET' && path === '/sim/partner') return ok(await partnerLedger(ctx));
    if (method === 'POST' && path === '/sim/partner') {
      configurePartner(ctx.settings.partner, body);
      return ok(await partnerLedger(ctx));
    }
    if (method === 'POST' && (m = path.match(/^\/sim\/refunds\/([^/]+)\/settle$/))) {
      const status = isObj(body) ? body.status : undefined;
      if (status !== undefined && !['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(status as string))
        throw bad('status: SUCCESS, ABNORMAL or CLOSED');
      const refund = await this.deps.refunds.settle(decodeURIComponent(m[1]!), status as 'SUCCESS' | undefined);
      if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
      return ok(refundView(refund));
    }
    if (method === 'GET' && path === '/sim/notifications') {
      const filter: Record<string, string> = {};
      for (const key of ['outTradeNo', 'state', 'eventType']) {
        const v = url.searchParams.get(key);
        if (v) filter[key] = v;
      }
      return ok(await ctx.notifier.list(filter));
    }
    if (method === 'GET' && (m = path.match(/^\/sim\/notifications\/([^/]+)$/))) {
      const delivery = await ctx.notifier.get(decodeURIComponent(m[1]!));
      if (!delivery) throw new HttpError(404, 'NOT_FOUND', 'no such notification');
      return ok(delivery);
    }
    if (method === 'POST' && (m = path.match(/^\/sim\/notifications\/([^/]+)\/replay$/))) {
      const delivery = await ctx.notifier.replay(decodeURIComponent(m[1]!));
      if (!delivery) throw new HttpError(404, 'NOT_FOUND', 'no such notification');
      return ok(delivery);
    }
    if (path === '/sim/faults') {
      if (method === 'GET') return ok(ctx.faults.list());
      if (method === 'DELETE') return (ctx.faults.clear(), ok([]));
      if (method === 'POST') {
        const rule = parseFaultRule(body, this.deps.roomTargets());
        if (typeof rule === 'string') throw bad(rule);
        ctx.faults.add(rule);
        return ok(ctx.faults.list());
      }
    }
    for (const room of this.deps.rooms()) {
      const answer = await room.control?.(method, path, body, url);
      if (answer) return answer;
    }
    throw new HttpError(404, 'NOT_FOUND', `no control endpoint ${method} ${path}`);
  }

  state() {
    const { keys } = this.deps.ctx;
    return {
      mchid: keys.mchid,
      appid: keys.appid,
      ...this.config(),
      clock: this.clockView(),
      publicKeyId: keys.publicKeyId,
      platformCertificateSerial: keys.platformCertificateSerial,
      merchantSerialNo: keys.merchantSerialNo,
    };
  }

  /** The settings /sim/config changes. */
  config() {
    const { settings, signing } = this.deps.ctx;
    return {
      signingMode: settings.signingMode,
      timeFactor: settings.timeFactor,
      refundDelayMs: settings.refundDelayMs,
      refundIntervalMs: settings.refundIntervalMs,
      refundErrorLimitPerSecond: settings.refundErrorLimitPerSecond,
      migrationStartedAt: chinaTime(settings.migration.startedAt),
      migrationDurationMs: settings.migration.durationMs,
      publicKeyShare: settings.publicKeyShare ?? null,
      notificationPublicKeyShare: signing.publicKeyShare(),
    };
  }

  clockView() {
    const { clock } = this.deps.ctx;
    const now = clock.now();
    return { now, time: chinaTime(now), offsetMs: clock.offset };
  }

  /** Validates every field first, then applies them all: a bad request changes nothing. */
  private configure(body: unknown) {
    const { settings } = this.deps.ctx;
    if (!isObj(body)) throw bad('body must be an object');
    const nonNegativeInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    if (body.signingMode !== undefined && !SIGNING_MODES.includes(body.signingMode as SigningMode))
      throw bad('signingMode: publicKey, certificate or both');
    if (
      body.timeFactor !== undefined &&
      (typeof body.timeFactor !== 'number' || !(body.timeFactor > 0) || body.timeFactor > 10)
    )
      throw bad('timeFactor: a number in (0, 10]');
    for (const key of [
      'refundDelayMs',
      'refundIntervalMs',
      'refundErrorLimitPerSecond',
      'migrationDurationMs',
    ] as const) {
      if (body[key] !== undefined && !nonNegativeInteger(body[key])) throw bad(`${key}: a non-negative integer`);
    }
    if (body.migrationDurationMs === 0) throw bad('migrationDurationMs: a positive integer');
    if (body.migrationStartedAt !== undefined && parseTime(body.migrationStartedAt) === undefined)
      throw bad('migrationStartedAt: ms since the epoch or RFC 3339');
    if (
      body.publicKeyShare !== undefined &&
      body.publicKeyShare !== null &&
      !(typeof body.publicKeyShare === 'number' && body.publicKeyShare >= 0 && body.publicKeyShare <= 1)
    ) {
      throw bad('publicKeyShare: a number in [0, 1], or null for the migration ramp');
    }
    if (body.signingMode !== undefined) settings.signingMode = body.signingMode as SigningMode;
    if (body.timeFactor !== undefined) settings.timeFactor = body.timeFactor as number;
    if (body.refundDelayMs !== undefined) settings.refundDelayMs = body.refundDelayMs as number;
    if (body.refundIntervalMs !== undefined) settings.refundIntervalMs = body.refundIntervalMs as number;
    if (body.refundErrorLimitPerSecond !== undefined)
      settings.refundErrorLimitPerSecond = body.refundErrorLimitPerSecond as number;
    if (body.migrationStartedAt !== undefined) settings.migration.startedAt = parseTime(body.migrationStartedAt)!;
    if (body.migrationDurationMs !== undefined) settings.migration.durationMs = body.migrationDurationMs as number;
    if (body.publicKeyShare !== undefined)
      settings.publicKeyShare = body.publicKeyShare === null ? undefined : (body.publicKeyShare as number);
    return this.config();
  }

  private moveClock(method: string, body: unknown) {
    const { clock } = this.deps.ctx;
    if (method === 'POST') {
      if (!isObj(body) || (body.advanceMs === undefined) === (body.now === undefined))
        throw bad('give one of advanceMs (ms) or now (ms since the epoch, or RFC 3339)');
      try {
        if (body.advanceMs !== undefined) clock.advance(body.advanceMs as number);
        else clock.set(parseTime(body.now) ?? NaN);
      } catch (error) {
        throw bad((error as Error).message);
      }
    }
    if (method === 'DELETE') clock.reset();
    return this.clockView();
  }
}

function param(body: unknown, name: string): string {
  const value = isObj(body) ? body[name] : undefined;
  if (typeof value !== 'string' || !value) throw bad(`${name} is required`);
  return value;
}

/** A time from the control API: ms since the epoch, or an RFC 3339 string. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
