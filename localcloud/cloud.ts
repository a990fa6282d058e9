/**
 * The local cloud: embedded database, function host, WeChat Pay APIv3 simulator and WeChat API simulator, on
 * 127.0.0.1. Everything persists under one data folder (keys, database, WeChat Pay ledger); a second start reuses it.
 *
 *   cloud server  /functions/<name>   POST, the event as JSON; header X-WX-Session (from the local wx.login) gives OPENID
 *                 /http/<name>/...    the platform's HTTP access event (WeChat Pay notifications arrive here)
 *                 /timers/<name>      POST, runs a function's timer now
 *                 /wxapi/...          the WeChat API simulator (jscode2session, the local wx.login, subscribe messages;
 *                                     /wxapi/_local/shipping: the order shipping management, wxapi-sim/README.md)
 *   WeChat Pay    its own base URL    /v3/... as api.mch.weixin.qq.com, /sim/... the cashier, faults, ledger, deliveries
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serveAsset } from './assets';
import { ConsoleServer } from './console/server';
import { LocalDatabaseEngine } from './db/database';
import { wechatpayEnvironment } from './env';
import { FunctionHost, loadFunctions, type FunctionSource } from './host';
import { HttpError, parseJsonBody, readBody, refuseForeignHost, refuseOtherSites, sendJson } from './http';
import { loadOrCreateKeys, type LocalKeys } from './keys';
import { seedCatalogue, seedMerchants } from './seed';
import { WechatPaySimulator, type SigningMode, type SimMode } from './wechatpay-sim/simulator';
import { WecomRobotRecorder } from './wecom-robot';
import { WechatApiSimulator } from './wxapi-sim';
import { OrderShippingSimulator, type PaidTransaction } from './wxapi-sim/shipping';
import type { SimTransaction } from './wechatpay-sim/ledger';
import { bindPlatform, type LocalPlatform } from './wx-server-sdk';

export interface LocalCloudOptions {
  dataDir: string;
  host?: string;
  port?: number;
  payPort?: number;
  /** default publicKey: what WeChat Pay gives a merchant created today; the functions get the keys that mode needs */
  signingMode?: SigningMode;
  timeFactor?: number;
  refundDelayMs?: number;
  /** WeChat Pay's minute between refunds of one payment (default 60000) */
  refundIntervalMs?: number;
  /** WeChat Pay's 6 error answers per second on the refund API (default off) */
  refundErrorLimitPerSecond?: number;
  /**
   * direct (default): the local merchant is a direct merchant; partner: a service provider with the simulator's two
   * demo sub-merchants (WECHATPAY_MODE=partner for the functions, the sub-merchants seeded as data)
   */
  wechatpayMode?: SimMode;
  /** extra function environment (ADMIN_OPENIDS, ORDER_EXPIRY_MINUTES, …) */
  env?: Record<string, string>;
  functions?: FunctionSource;
  timers?: boolean;
  log?: (line: string) => void;
}

export interface LocalCloudUrls {
  cloud: string;
  functions: string;
  http: string;
  wxapi: string;
  wechatpay: string;
  notifyUrl: string;
}

export class LocalCloud {
  readonly keys: LocalKeys;
  readonly keysCreated: boolean;
  readonly engine: LocalDatabaseEngine;
  readonly wxApi: WechatApiSimulator;
  /** what alerts would post to the merchant's WeCom group robot (ALERT_WEBHOOK_URL points here) */
  readonly wecom = new WecomRobotRecorder();
  readonly pay: WechatPaySimulator;
  /** WeChat's order shipping management, learning paid transactions from the WeChat Pay simulator's ledger */
  readonly shipping: OrderShippingSimulator;
  host!: FunctionHost;
  urls!: LocalCloudUrls;
  seeded = 0;
  private server?: Server;
  /** the console for testers at /console (console/server.ts) */
  private readonly console: ConsoleServer;
  private savedEnv: Record<string, string | undefined> = {};

  constructor(readonly options: LocalCloudOptions) {
    const { keys, created } = loadOrCreateKeys(join(options.dataDir, 'keys'));
    this.keys = keys;
    this.keysCreated = created;
    this.engine = new LocalDatabaseEngine(join(options.dataDir, 'database'));
    this.wxApi = new WechatApiSimulator({ appid: keys.appid, appSecret: keys.appSecret });
    this.pay = new WechatPaySimulator({
      keys,
      dataDir: join(options.dataDir, 'wechatpay'),
      host: options.host ?? '127.0.0.1',
      port: options.payPort ?? 0,
      signingMode: options.signingMode ?? 'publicKey',
      timeFactor: options.timeFactor ?? 1,
      refundDelayMs: options.refundDelayMs ?? 1000,
      mode: options.wechatpayMode ?? 'direct',
      ...(options.refundIntervalMs !== undefined ? { refundIntervalMs: options.refundIntervalMs } : {}),
      ...(options.refundErrorLimitPerSecond !== undefined
        ? { refundErrorLimitPerSecond: options.refundErrorLimitPerSecond }
        : {}),
      log: options.log,
    });
    const paid = (tx: SimTransaction | undefined): PaidTransaction | undefined =>
      tx?.transaction_id
        ? {
            outTradeNo: tx._id,
            transactionId: tx.transaction_id,
            mchid: tx.mchid,
            payerOpenid: tx.payer.openid,
            tradeState: tx.trade_state,
            paidAt: tx.success_time ? Date.parse(tx.success_time) : 0,
          }
        : undefined;
    this.shipping = new OrderShippingSimulator({
      appid: keys.appid,
      lookup: async (outTradeNo) => paid(await this.pay.ledger.getTransaction(outTradeNo)),
      findByTransactionId: async (transactionId) => paid(await this.pay.ledger.findTransaction({ transactionId })),
      // the message push: WeChat Cloud calls the chosen function with the event and no user in its context
      push: (event) => this.host.call('msgPush', event, { APPID: keys.appid, SOURCE: 'wx_msg_push' }),
    });
    this.console = new ConsoleServer({
      engine: this.engine,
      pay: this.pay,
      wxApi: this.wxApi,
      shipping: this.shipping,
      wechatpayUrl: () => this.urls.wechatpay,
      runTimer: (name) => this.host.runTimer(name),
      adminOpenids: () => (process.env.ADMIN_OPENIDS ?? '').split(',').filter(Boolean),
    });
  }

  get platform(): LocalPlatform {
    return {
      engine: this.engine,
      envId: 'local',
      sendSubscribeMessage: async (params, context) => this.wxApi.recordSubscribeMessage(params, context),
      callOpenApi: async (api, data) =>
        api.startsWith('wxa.sec.order.')
          ? this.shipping.call(api.slice('wxa.sec.order.'.length), data)
          : { errcode: 48001, errmsg: `api unauthorized: ${api} is not simulated` },
    };
  }

  async start(): Promise<LocalCloudUrls> {
    const wechatpay = await this.pay.start();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) =>
      this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve),
    );
    const { address, port } = this.server.address() as AddressInfo;
    const cloud = `http://${address}:${port}`;
    this.urls = {
      cloud,
      functions: `${cloud}/functions`,
      http: `${cloud}/http`,
      wxapi: `${cloud}/wxapi`,
      wechatpay,
      notifyUrl: `${cloud}/http/payNotify`,
    };
    const env = {
      ...wechatpayEnvironment(
        this.keys,
        {
          wechatpayBaseUrl: wechatpay,
          wxApiBaseUrl: this.urls.wxapi,
          notifyUrl: this.urls.notifyUrl,
          refundNotifyUrl: this.urls.notifyUrl,
        },
        this.pay.signingMode,
      ),
      ALERT_WEBHOOK_URL: WecomRobotRecorder.webhookUrl(cloud),
      WECHATPAY_MODE: this.pay.mode,
      ...this.options.env,
    };
    for (const [key, value] of Object.entries(env)) {
      this.savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
    bindPlatform(this.platform);
    this.seeded = await seedCatalogue(this.engine.database(), Date.now());
    if (this.pay.mode === 'partner') await seedMerchants(this.engine.database(), this.pay.subMerchants, Date.now());
    this.host = new FunctionHost(this.platform, loadFunctions(this.options.functions), this.options.log);
    if (this.options.timers) this.host.startTimers();
    return this.urls;
  }

  async close(): Promise<void> {
    this.console.close();
    this.shipping.close();
    this.host?.stopTimers();
    await this.pay.close();
    if (this.server) {
      const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
      await this.host?.drain();
      this.server.closeAllConnections();
      await closed;
    }
    await this.engine.close();
    for (const [key, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    bindPlatform(undefined);
  }

  /**
   * callFunction as a local user (a name like "alice"), or with no identity; `appid` another mini-program the user is
   * in (a sub-merchant's own, partner mode), whose openid for the user differs.
   */
  call(name: string, event: unknown, user?: string, appid = this.keys.appid): Promise<unknown> {
    return this.host.call(
      name,
      event,
      user
        ? { OPENID: this.wxApi.openidFor(user, appid), APPID: appid, SOURCE: 'wx_client' }
        : { APPID: appid, SOURCE: 'wx_client' },
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      const raw = await readBody(req);
      // the console's rule on every path; an HTTP access function answers other origins (CORS) and judges its own
      // body as on the platform, so it gets the loopback rule only
      if (url.pathname.startsWith('/http/')) refuseForeignHost(req, 'the local cloud');
      else refuseOtherSites(req, 'the local cloud', raw);
      let m: RegExpMatchArray | null;
      // appid: the local mini-program's, which the local cashier sheet hands WeChat Pay's cashier as wx.requestPayment would
      if (url.pathname === '/' && req.method === 'GET')
        return sendJson(res, 200, { ...this.urls, appid: this.keys.appid, functions: this.host.names() });
      if ((m = url.pathname.match(/^\/functions\/([A-Za-z0-9_-]+)$/)) && req.method === 'POST') {
        if (!this.host.has(m[1]!))
          return sendJson(res, 404, { errCode: -501000, errMsg: `FunctionName parameter could not be found: ${m[1]}` });
        const session = req.headers['x-wx-session'];
        const context = this.wxApi.contextFor(Array.isArray(session) ? session[0] : session);
        try {
          return sendJson(res, 200, { result: await this.host.call(m[1]!, parseJsonBody(raw), context) });
        } catch (error) {
          this.options.log?.(`[functions] ${m[1]} threw: ${(error as Error).stack}`);
          return sendJson(res, 500, {
            errCode: -504002,
            errMsg: `functions execute fail: ${(error as Error).message}`,
          });
        }
      }
      if ((m = url.pathname.match(/^\/http\/([A-Za-z0-9_-]+)(\/.*)?$/))) {
        if (!this.host.has(m[1]!)) throw new HttpError(404, 'NOT_FOUND', `no function ${m[1]}`);
        const result = await this.host.httpAccess(m[1]!, req, url, m[2] ?? '/', raw);
        res.writeHead(result.statusCode, result.headers).end(result.body);
        return;
      }
      if ((m = url.pathname.match(/^\/timers\/([A-Za-z0-9_-]+)$/)) && req.method === 'POST') {
        if (!this.host.has(m[1]!)) throw new HttpError(404, 'NOT_FOUND', `no function ${m[1]}`);
        return sendJson(res, 200, { result: await this.host.runTimer(m[1]!) });
      }
      if ((m = url.pathname.match(/^\/wxapi\/_local\/shipping(\/.*)?$/)))
        return await this.shipping.handle(req, res, m[1] ?? '', raw);
      if (url.pathname.startsWith('/wxapi/')) return await this.wxApi.handle(req, res, url, raw);
      if (await serveAsset(req.method, url.pathname, res)) return;
      if (await this.console.handle(req, res, url, raw)) return;
      if (url.pathname.startsWith('/wecom/')) return await this.wecom.handle(req, res, url, raw);
      throw new HttpError(404, 'NOT_FOUND', `nothing at ${req.method} ${url.pathname}`);
    } catch (error) {
      if (error instanceof HttpError) return sendJson(res, error.status, { code: error.code, message: error.message });
      this.options.log?.(`[localcloud] ${(error as Error).stack}`);
      sendJson(res, 500, { code: 'INTERNAL', message: (error as Error).message });
    }
  }
}
