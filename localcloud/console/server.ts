/**
 * The local cloud's console for testers, at http://127.0.0.1:8787/console (the cloud server's address; local only, no
 * login, part of no deployed function). One plain page (static/) that shows the backend and WeChat Pay side by side and
 * acts through the same doors the CLI uses:
 *
 *   GET  /console                     the page (static/index.html, console.css, console.js)
 *   GET  /console/events              server-sent events: `change` whenever the backend's database, WeChat Pay's
 *                                     ledger or delivery log, the faults, the clock or the settings changed
 *   GET  /console/api/overview        everything the page shows, in one read (orders with payments and timeline,
 *                                     WeChat Pay's transactions, refunds and deliveries, what a cashier can pay,
 *                                     faults and bill faults, clock, settings, exceptions, alerts, statements,
 *                                     users and sessions)
 *   GET  /console/api/openid?user=U   the openid of a local user (what the WeChat Pay scan-and-pay takes)
 *   *    /console/api/sim/<path>      the WeChat Pay simulator's control API (`/sim/<path>`), passed through as it is:
 *                                     every action the page takes (faults, cashier, scan, replay, settle, clock,
 *                                     signing mode) is a control API call, as the CLI makes it
 *   POST /console/api/timers/<name>   runs a function's timer now (reconcile), as POST /timers/<name>
 *   *    /console/api/shipping/<path> WeChat's order shipping management (/wxapi/_local/shipping/<path>): confirm
 *                                     receipt, settle, switches, faults
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { LocalDatabaseEngine } from '../db/database';
import { HttpError, refuseOtherSites, sendJson } from '../http';
import type { WechatPaySimulator } from '../wechatpay-sim/simulator';
import type { WechatApiSimulator } from '../wxapi-sim';
import type { OrderShippingSimulator } from '../wxapi-sim/shipping';

/** What the console reads and drives: the parts of a running local cloud. */
export interface ConsoleSources {
  engine: LocalDatabaseEngine;
  pay: WechatPaySimulator;
  wxApi: WechatApiSimulator;
  /** WeChat's order shipping management (wxapi-sim/shipping.ts) */
  shipping: OrderShippingSimulator;
  /** the simulator's base URL (its control API is under /sim/) */
  wechatpayUrl(): string;
  runTimer(name: string): Promise<unknown>;
  adminOpenids(): string[];
}

const STATIC_DIR = join(__dirname, 'static');
const FILES: Record<string, { file: string; type: string }> = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
};
const CHECK_EVERY_MS = 200;
const HEARTBEAT_MS = 15_000;
const LIMIT = 300;

type Doc = Record<string, unknown>;

export class ConsoleServer {
  private readonly clients = new Set<ServerResponse>();
  private watcher?: NodeJS.Timeout;
  private lastSignature = '';
  private lastBeat = 0;

  constructor(private readonly sources: ConsoleSources) {}

  /** True when the request was the console's (answered here). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<boolean> {
    const path = url.pathname;
    if (path !== '/console' && !path.startsWith('/console/')) return false;
    const method = req.method ?? 'GET';
    refuseOtherSites(req, 'the console', raw);
    const file = FILES[path];
    if (file && method === 'GET') {
      res
        .writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache' })
        .end(readFileSync(join(STATIC_DIR, file.file)));
      return true;
    }
    if (path === '/console/events' && method === 'GET') {
      this.subscribe(req, res);
      return true;
    }
    if (path === '/console/api/overview' && method === 'GET') {
      sendJson(res, 200, await this.overview());
      return true;
    }
    if (path === '/console/api/openid' && method === 'GET') {
      const user = url.searchParams.get('user') ?? '';
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(user))
        throw new HttpError(400, 'INVALID_REQUEST', 'user: 1-32 letters, digits, _ or -');
      sendJson(res, 200, { user, openid: this.sources.wxApi.openidFor(user) });
      return true;
    }
    let m: RegExpMatchArray | null;
    if ((m = path.match(/^\/console\/api\/sim\/(.+)$/))) {
      await this.passToSimulator(method, `/sim/${m[1]}${url.search}`, raw, res);
      return true;
    }
    if ((m = path.match(/^\/console\/api\/shipping(\/.*)?$/))) {
      await this.sources.shipping.handle(req, res, m[1] ?? '', raw);
      return true;
    }
    if ((m = path.match(/^\/console\/api\/timers\/([A-Za-z0-9_-]+)$/)) && method === 'POST') {
      sendJson(res, 200, { result: await this.sources.runTimer(m[1]!) });
      return true;
    }
    throw new HttpError(404, 'NOT_FOUND', `nothing at ${method} ${path}`);
  }

  /** Ends every event stream and stops watching. */
  close(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  // ---- live updates ---------------------------------------------------------------------------------------------

  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`);
    this.clients.add(res);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0 && this.watcher) {
        clearInterval(this.watcher);
        this.watcher = undefined;
      }
    });
    if (!this.watcher) {
      this.lastSignature = this.signature();
      this.lastBeat = Date.now();
      this.watcher = setInterval(() => this.check(), CHECK_EVERY_MS);
    }
  }

  /** Cheap: write counters of both databases, the faults, the clock, the settings, the sessions. */
  private signature(): string {
    const { engine, pay, wxApi } = this.sources;
    return JSON.stringify([
      engine.writeCount,
      pay.ledger.db.engine.writeCount,
      pay.faults.list(),
      this.billFaults(),
      pay.simClock.offset,
      pay.settings,
      wxApi.listSessions().reduce((n, s) => n + s.sessions, 0),
    ]);
  }

  /** The bills room's fault rules, through its control call (as GET /sim/bills/faults answers them). */
  private billFaults(): unknown {
    return this.sources.pay.bills.control('GET', '/sim/bills/faults', {})?.body ?? [];
  }

  private check(): void {
    const signature = this.signature();
    const now = Date.now();
    if (signature !== this.lastSignature) {
      this.lastSignature = signature;
      this.broadcast(`event: change\ndata: ${JSON.stringify({ at: now })}\n\n`);
      this.lastBeat = now;
    } else if (now - this.lastBeat >= HEARTBEAT_MS) {
      this.broadcast(': keep-alive\n\n');
      this.lastBeat = now;
    }
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) res.write(chunk);
  }

  // ---- acting through the control API ---------------------------------------------------------------------------

  private async passToSimulator(method: string, pathAndQuery: string, raw: Buffer, res: ServerResponse): Promise<void> {
    const response = await fetch(this.sources.wechatpayUrl() + pathAndQuery, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: method === 'GET' || method === 'HEAD' || raw.length === 0 ? undefined : raw.toString('utf8'),
    });
    res
      .writeHead(response.status, { 'Content-Type': response.headers.get('content-type') ?? 'application/json' })
      .end(Buffer.from(await response.arrayBuffer()));
  }

  // ---- what the page shows --------------------------------------------------------------------------------------

  async overview(): Promise<Doc> {
    const { engine, pay, wxApi } = this.sources;
    const db = engine.database();
    const latest = async (collection: string, field: string, limit = LIMIT): Promise<Doc[]> =>
      (await db.collection(collection).where({}).orderBy(field, 'desc').limit(limit).get()).data as Doc[];
    const [orders, payments, refunds, notificationLog, exceptions, alerts, statements, users] = await Promise.all([
      latest('orders', 'createdAt', 100),
      latest('payments', 'createdAt'),
      latest('refunds', 'createdAt'),
      latest('notification_log', 'receivedAt'),
      latest('exceptions', 'lastSeenAt'),
      latest('alerts', '_id'),
      latest('statements', '_id', 31),
      latest('users', 'lastLoginAt', 100),
    ]);
    const [transactions, simRefunds, deliveries, pending] = await Promise.all([
      pay.listTransactions(),
      pay.listRefunds(),
      pay.notifier.list(),
      pay.pendingPayments(),
    ]);
    const clock = pay.simClock;
    const admins = new Set(this.sources.adminOpenids());
    return {
      at: Date.now(),
      clock: { now: clock.now(), offsetMs: clock.offset },
      settings: { ...pay.settings },
      faults: pay.faults.list(),
      billFaults: this.billFaults(),
      orders: orders.map(({ guest, refundReservations: _r, contact: _c, ...order }) => ({
        ...order,
        guest: guest !== undefined,
      })),
      payments,
      refunds,
      notificationLog: notificationLog.map(({ body: _b, headers: _h, prefix: _p, ...entry }) => entry),
      exceptions,
      alerts,
      statements,
      users: users.map(({ sessionKey: _secret, ...user }) => ({ ...user, admin: admins.has(String(user._id)) })),
      sessions: wxApi.listSessions(),
      wechatpay: {
        transactions: transactions.map((tx) => ({
          ...pay.transactionView(tx),
          trade_type: tx.trade_type ?? 'JSAPI',
          payer: tx.payer.openid,
        })),
        refunds: simRefunds,
        deliveries: deliveries.map(({ body: _b, attempts, ...delivery }) => ({
          ...delivery,
          attempts: attempts.map(({ request: _q, response, ...attempt }) => ({
            ...attempt,
            ...(response ? { answer: response.status } : {}),
          })),
        })),
        pending,
      },
      shipping: this.sources.shipping.view(),
    };
  }
}
