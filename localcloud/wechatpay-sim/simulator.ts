/**
 * The WeChat Pay APIv3 simulator: the endpoints a JSAPI merchant uses, validated and signed as WeChat Pay does,
 * a ledger with WeChat's states, a cashier that stands in for the paying user, notifications with WeChat's retry
 * schedule, and fault injection. It runs on its own base URL; the functions' WECHATPAY_BASE_URL points here or at
 * api.mch.weixin.qq.com, nothing else changes.
 *
 * Control API (loopback only, no signature): /sim/... — see README "Local cloud".
 */
import { constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, randomBytes, randomUUID, verify as rsaVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AUTH_SCHEMA,
  buildRequestMessage,
  encryptAesGcm,
  encryptNotification,
  parseAuthorization,
  RsaSha256Signer,
  signResponse,
  verifySha256Rsa,
  type RefundStatus,
  type TradeState,
} from '../../cloudfunctions/common/wechatpay';
import { LocalDatabaseEngine, type LocalDatabase } from '../db/database';
import { HttpError, parseJsonBody, readBody, rfc3339, sendJson } from '../http';
import type { LocalKeys } from '../keys';
import { SimClock } from './clock';
import { FaultBook, parseFaultRule, type ApiFaultKind, type ApiTarget } from './faults';
import { Notifier, signtestSignature, type Delivery } from './notifier';
import {
  checkCurrency,
  checkNotify,
  checkTimeExpire,
  isObj,
  optionalString,
  OUT_REFUND_NO,
  OUT_TRADE_NO,
  paramError,
  requireFen,
  requireObject,
  requireString,
} from './validate';

export type SigningMode = 'publicKey' | 'certificate' | 'both';
export type CashierAction = 'pay' | 'cancel' | 'fail' | 'userpaying';

/** What wx.requestPayment hands WeChat: its parameters, and the appId of the mini-program calling it. */
export interface RequestPaymentInput {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}
export const PREPAY_LIFETIME_MS = 2 * 3600 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** "同一笔订单多次退款的请求需相隔1分钟" */
export const REFUND_INTERVAL_MS = 60_000;
/** "每个支付订单的部分退款次数不能超过50次" */
export const MAX_REFUNDS_PER_PAYMENT = 50;
/** "错误或无效请求频率限制：6qps": error answers of the refund API per second, per merchant */
export const REFUND_ERROR_LIMIT_PER_SECOND = 6;
/** WeChat Pay moves a migrating merchant's notifications to the public key over about 7 days (0.1% … 100%). */
export const MIGRATION_DURATION_MS = 7 * 24 * 3600 * 1000;

export interface SimTransaction {
  _id: string; // out_trade_no
  appid: string;
  mchid: string;
  description: string;
  attach?: string;
  notify_url: string;
  time_expire?: string;
  amount: { total: number; currency: 'CNY' };
  payer: { openid: string };
  trade_state: TradeState;
  transaction_id?: string;
  success_time?: string;
  /** refunded or being refunded (PROCESSING, ABNORMAL, SUCCESS); CLOSED gives its share back */
  refund_reserved: number;
  /** refunds accepted for this payment (every out_refund_no, whatever its outcome) */
  refund_count: number;
  /** business time of the last accepted refund; 0 when none */
  last_refund_at: number;
  created_at: number;
}

export interface SimRefund {
  _id: string; // out_refund_no
  refund_id: string;
  out_trade_no: string;
  transaction_id: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: 'CNY' };
  status: RefundStatus;
  create_time: string;
  success_time?: string;
  planned_outcome: RefundStatus;
  channel?: string;
  user_received_account?: string;
  /** how an ABNORMAL refund was handled: apply-abnormal-refund (its type) or in the merchant platform */
  abnormal_handling?: { type: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD' | 'MERCHANT_PLATFORM'; bank_type?: string; account_tail?: string; at: string };
}

/** trade_state_desc as WeChat Pay words it in query answers */
const TRADE_STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '订单发生过退款，退款详情请查询退款单',
  NOTPAY: '订单未支付',
  CLOSED: '订单已关闭',
  REVOKED: '订单已撤销',
  USERPAYING: '用户支付中，需要输入密码',
  PAYERROR: '支付失败，请重新下单支付',
};

export interface WechatPaySimulatorOptions {
  keys: LocalKeys;
  /** ledger folder; memory only when absent */
  dataDir?: string;
  host?: string;
  port?: number;
  signingMode?: SigningMode;
  /** scales the notification retry schedule: 1 is WeChat's real timing */
  timeFactor?: number;
  /** how long a refund stays PROCESSING */
  refundDelayMs?: number;
  /** refunds of one payment at least this far apart (default 60000, WeChat Pay's minute); 0 turns the rule off */
  refundIntervalMs?: number;
  /** error answers of the refund API per second before it answers 429 (WeChat Pay: 6); 0 or absent: off */
  refundErrorLimitPerSecond?: number;
  /** `both` mode: when the move of notifications to the public key started (business ms; default: construction) and how long it takes */
  migration?: { startedAt?: number; durationMs?: number };
  /** the wall clock (signature timestamps); business time is this plus what the control API moved */
  clock?: () => number;
  log?: (line: string) => void;
}

export class WechatPaySimulator {
  readonly faults = new FaultBook();
  readonly notifier: Notifier;
  readonly simClock: SimClock;
  signingMode: SigningMode;
  timeFactor: number;
  refundDelayMs: number;
  refundIntervalMs: number;
  refundErrorLimitPerSecond: number;
  /** `both` mode: the ramp of notifications moving to the public key */
  migration: { startedAt: number; durationMs: number };
  /** `both` mode: a fixed share of notifications signed with the public key, instead of the ramp */
  publicKeyShare: number | undefined;
  private readonly db: LocalDatabase;
  private readonly engine: LocalDatabaseEngine;
  private readonly clock: () => number;
  private readonly wall: () => number;
  private readonly merchantKey: KeyObject;
  private readonly platformKey: KeyObject;
  private readonly platformSigner: RsaSha256Signer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private refundErrors: number[] = [];
  private server?: Server;
  baseUrl = '';

  constructor(private readonly options: WechatPaySimulatorOptions) {
    this.simClock = new SimClock(options.clock ?? Date.now);
    this.clock = this.simClock.now;
    this.wall = this.simClock.wall;
    this.signingMode = options.signingMode ?? 'publicKey';
    this.timeFactor = options.timeFactor ?? 1;
    this.refundDelayMs = options.refundDelayMs ?? 1000;
    this.refundIntervalMs = options.refundIntervalMs ?? REFUND_INTERVAL_MS;
    this.refundErrorLimitPerSecond = options.refundErrorLimitPerSecond ?? 0;
    this.migration = { startedAt: options.migration?.startedAt ?? this.clock(), durationMs: options.migration?.durationMs ?? MIGRATION_DURATION_MS };
    this.publicKeyShare = undefined;
    this.engine = new LocalDatabaseEngine(options.dataDir, this.clock);
    this.db = this.engine.database({ throwOnNotFound: false });
    this.merchantKey = createPublicKey(options.keys.merchantCertificatePem);
    this.platformKey = createPrivateKey(options.keys.platformPrivateKeyPem);
    this.platformSigner = new RsaSha256Signer(this.platformKey);
    this.notifier = new Notifier({
      db: this.db,
      faults: this.faults,
      clock: this.clock,
      timeFactor: () => this.timeFactor,
      sign: (body, probe, id) => {
        const headers: Record<string, string> = signResponse(this.platformSigner, this.notificationSerial(id), body, Math.floor(this.wall() / 1000));
        if (probe) headers['Wechatpay-Signature'] = signtestSignature();
        return headers;
      },
    });
  }

  /** Moves WeChat Pay's business time forward (see SimClock). */
  advanceClock(ms: number): number {
    return this.simClock.advance(ms);
  }

  /** Sets WeChat Pay's business time (ms since the epoch). */
  setClock(at: number): number {
    return this.simClock.set(at);
  }

  now(): number {
    return this.clock();
  }

  get keys(): LocalKeys {
    return this.options.keys;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${address.address}:${address.port}`;
    await this.notifier.resume();
    const { data } = await this.db.collection('refunds').where({ status: 'PROCESSING' }).limit(1000).get();
    for (const refund of data as unknown as SimRefund[]) this.scheduleRefundSettle(refund._id, this.refundDelayMs);
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.notifier.close();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
    await this.engine.close();
  }

  // ---- serials and signing ------------------------------------------------------------------------------------

  private responseSerial(req: IncomingMessage): string {
    const { publicKeyId, platformCertificateSerial } = this.keys;
    if (this.signingMode === 'publicKey') return publicKeyId;
    if (this.signingMode === 'certificate') return platformCertificateSerial;
    return req.headers['wechatpay-serial'] === publicKeyId ? publicKeyId : platformCertificateSerial;
  }

  /**
   * The share of notifications signed with the WeChat Pay public key: all in publicKey mode, none in certificate
   * mode; in `both` mode it grows from 0.1% when the migration starts to 100% when it ends (geometric, as WeChat's
   * 0.1% … 100% over 7 days), unless a fixed share is set.
   */
  notificationPublicKeyShare(): number {
    if (this.signingMode === 'publicKey') return 1;
    if (this.signingMode === 'certificate') return 0;
    if (this.publicKeyShare !== undefined) return this.publicKeyShare;
    const elapsed = this.clock() - this.migration.startedAt;
    if (elapsed < 0) return 0;
    return Math.min(1, 0.001 * 1000 ** (elapsed / this.migration.durationMs));
  }

  /** A notification's key is fixed by its id, so every attempt of one notification carries the same serial. */
  notificationSerial(notificationId: string): string {
    const bucket = createHash('sha256').update(notificationId).digest().readUInt32BE(0) / 2 ** 32;
    return bucket < this.notificationPublicKeyShare() ? this.keys.publicKeyId : this.keys.platformCertificateSerial;
  }

  private reply(req: IncomingMessage, res: ServerResponse, status: number, value?: unknown): void {
    const body = value === undefined ? '' : JSON.stringify(value);
    const headers: Record<string, string> = { 'Request-ID': randomUUID().replace(/-/g, '').toUpperCase() };
    if (body) headers['Content-Type'] = 'application/json';
    if (status >= 200 && status < 300) Object.assign(headers, signResponse(this.platformSigner, this.responseSerial(req), body, Math.floor(this.wall() / 1000)));
    res.writeHead(status, headers).end(body);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: ApiTarget | undefined;
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://sim');
      if (url.pathname.startsWith('/sim/')) return await this.control(req, res, url, raw);
      const route = this.route(req.method ?? 'GET', url.pathname);
      if (!route) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '请求的资源不存在');
      target = route.target;
      this.checkAuthorization(req, raw);
      if (target === 'refund') this.checkRefundErrorRate();
      const fault = this.faults.take(route.target);
      const phase = fault && (fault.phase ?? (fault.kind === 'TIMEOUT' ? 'after' : 'before'));
      if (fault?.kind === 'SLOW') await this.sleep(fault.delayMs ?? 1000);
      else if (fault && phase === 'before') {
        if (fault.kind === 'TIMEOUT') return void (await this.sleep(fault.delayMs ?? 10_000), res.destroy());
        throw faultError(fault.kind);
      }
      const outcome = await route.run(url, raw, req).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if (fault && fault.kind !== 'SLOW' && phase === 'after') {
        // processed, but the answer is lost: the caller must retry idempotently
        if (fault.kind === 'TIMEOUT') return void (await this.sleep(fault.delayMs ?? 10_000), res.destroy());
        throw faultError(fault.kind);
      }
      if ('error' in outcome) throw outcome.error;
      this.reply(req, res, outcome.result.status, outcome.result.body);
    } catch (error) {
      if (target === 'refund') this.refundErrors.push(this.clock());
      if (error instanceof HttpError) {
        this.reply(req, res, error.status, { code: error.code, message: error.message, ...(error.detail !== undefined ? { detail: error.detail } : {}) });
      } else {
        this.options.log?.(`[wechatpay-sim] internal error: ${(error as Error).stack}`);
        this.reply(req, res, 500, { code: 'SYSTEM_ERROR', message: '系统错误' });
      }
    }
  }

  /** "错误或无效请求频率限制：6qps": once the refund API has answered that many errors within a second, it answers 429. */
  private checkRefundErrorRate(): void {
    if (!(this.refundErrorLimitPerSecond > 0)) return;
    const since = this.clock() - 1000;
    this.refundErrors = this.refundErrors.filter((t) => t > since);
    if (this.refundErrors.length >= this.refundErrorLimitPerSecond) {
      throw new HttpError(429, 'FREQUENCY_LIMITED', '异常或错误的退款申请请求超过频率限制，请降低频率后重试');
    }
  }

  private route(method: string, path: string): { target: ApiTarget; run: (url: URL, raw: Buffer, req: IncomingMessage) => Promise<{ status: number; body?: unknown }> } | undefined {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi') return { target: 'prepay', run: (_u, raw) => this.prepay(raw) };
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/))) {
      return { target: 'query', run: (url) => this.query({ outTradeNo: decodeURIComponent(m![1]!) }, url) };
    }
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/transactions\/id\/([^/]+)$/))) {
      return { target: 'query', run: (url) => this.query({ transactionId: decodeURIComponent(m![1]!) }, url) };
    }
    if (method === 'POST' && (m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/))) {
      return { target: 'close', run: (_u, raw) => this.closeTransaction(decodeURIComponent(m![1]!), raw) };
    }
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') return { target: 'refund', run: (_u, raw) => this.createRefund(raw) };
    if (method === 'GET' && (m = path.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)$/))) {
      return { target: 'refund-query', run: () => this.queryRefund(decodeURIComponent(m![1]!)) };
    }
    if (method === 'POST' && (m = path.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)\/apply-abnormal-refund$/))) {
      return { target: 'abnormal-refund', run: (_u, raw, req) => this.applyAbnormalRefund(decodeURIComponent(m![1]!), raw, req) };
    }
    if (method === 'GET' && path === '/v3/certificates') return { target: 'certificates', run: () => this.certificates() };
    return undefined;
  }

  private checkAuthorization(req: IncomingMessage, raw: Buffer): void {
    const header = req.headers.authorization ?? '';
    const auth = parseAuthorization(header);
    const fail = (issue: string, message = '错误的签名，验签失败') => {
      const signMessage = auth ? buildRequestMessage(req.method ?? '', req.url ?? '', auth.timestamp, auth.nonce, raw.toString('utf8')) : '';
      return new HttpError(401, 'SIGN_ERROR', message, {
        detail: { issue },
        field: 'signature',
        location: 'authorization',
        sign_information: {
          method: req.method,
          url: req.url,
          truncated_sign_message: signMessage.length > 64 ? `${signMessage.slice(0, 61)}...\n` : signMessage,
          sign_message_length: Buffer.byteLength(signMessage),
        },
      });
    };
    if (!auth || auth.schema !== AUTH_SCHEMA) throw fail('Authorization header is not WECHATPAY2-SHA256-RSA2048', 'Authorization 头格式错误');
    if (auth.mchid !== this.keys.mchid) throw fail(`unknown mchid ${auth.mchid}`, '商户号不存在');
    if (auth.serialNo.toUpperCase() !== this.keys.merchantSerialNo) throw fail('serial_no does not match the merchant certificate', '商户证书序列号有误');
    if (!/^\d{1,12}$/.test(auth.timestamp) || Math.abs(Number(auth.timestamp) * 1000 - this.wall()) > CLOCK_SKEW_MS) {
      throw fail('timestamp outside ±5 minutes', '时间戳已过期');
    }
    const message = buildRequestMessage(req.method ?? '', req.url ?? '', auth.timestamp, auth.nonce, raw.toString('utf8'));
    if (!verifySha256Rsa(message, auth.signature, this.merchantKey)) throw fail('sign not match');
  }

  // ---- ledger access ------------------------------------------------------------------------------------------

  private get transactions() {
    return this.db.collection('transactions');
  }
  private get refunds() {
    return this.db.collection('refunds');
  }
  private get prepays() {
    return this.db.collection('prepays');
  }

  async getTransaction(outTradeNo: string): Promise<SimTransaction | undefined> {
    return ((await this.transactions.doc(outTradeNo).get()).data as unknown as SimTransaction | null) ?? undefined;
  }

  async getRefund(outRefundNo: string): Promise<SimRefund | undefined> {
    return ((await this.refunds.doc(outRefundNo).get()).data as unknown as SimRefund | null) ?? undefined;
  }

  async listTransactions(): Promise<SimTransaction[]> {
    return (await this.transactions.orderBy('created_at', 'asc').limit(1000).get()).data as unknown as SimTransaction[];
  }

  async listRefunds(outTradeNo?: string): Promise<SimRefund[]> {
    const query = outTradeNo ? this.refunds.where({ out_trade_no: outTradeNo }) : this.refunds;
    return (await query.orderBy('create_time', 'asc').limit(1000).get()).data as unknown as SimRefund[];
  }

  /**
   * The Transaction object WeChat Pay answers to a query. A transaction nobody has paid carries no payer, trade_type,
   * transaction_id, bank_type or attach: only what the order is (logged answers for NOTPAY read
   * `{"amount":{"payer_currency":"CNY","total":1},"appid","mchid","out_trade_no","promotion_detail":[],
   * "scene_info":{"device_id":""},"trade_state":"NOTPAY","trade_state_desc":"订单未支付"}`).
   */
  transactionView(tx: SimTransaction) {
    const paid = tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND';
    if (!paid) {
      return {
        appid: tx.appid,
        mchid: tx.mchid,
        out_trade_no: tx._id,
        trade_state: tx.trade_state,
        trade_state_desc: TRADE_STATE_DESC[tx.trade_state],
        amount: { total: tx.amount.total, payer_currency: 'CNY' },
        promotion_detail: [],
        scene_info: { device_id: '' },
      };
    }
    return { ...this.paidTransaction(tx), promotion_detail: [] };
  }

  /** A paid transaction as the TRANSACTION.SUCCESS notification resource carries it. */
  private paidTransaction(tx: SimTransaction) {
    return {
      appid: tx.appid,
      mchid: tx.mchid,
      out_trade_no: tx._id,
      transaction_id: tx.transaction_id!,
      trade_type: 'JSAPI',
      trade_state: tx.trade_state,
      trade_state_desc: TRADE_STATE_DESC[tx.trade_state],
      bank_type: 'OTHERS',
      attach: tx.attach ?? '',
      success_time: tx.success_time!,
      payer: { openid: tx.payer.openid },
      amount: { total: tx.amount.total, payer_total: tx.amount.total, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  private refundView(r: SimRefund) {
    return {
      refund_id: r.refund_id,
      out_refund_no: r._id,
      transaction_id: r.transaction_id,
      out_trade_no: r.out_trade_no,
      channel: r.channel ?? 'ORIGINAL',
      user_received_account: r.user_received_account ?? '支付用户零钱',
      ...(r.success_time ? { success_time: r.success_time } : {}),
      create_time: r.create_time,
      status: r.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: r.amount.total,
        refund: r.amount.refund,
        payer_total: r.amount.total,
        payer_refund: r.amount.refund,
        settlement_refund: r.amount.refund,
        settlement_total: r.amount.total,
        discount_refund: 0,
        currency: 'CNY',
        refund_fee: 0,
      },
      promotion_detail: [],
    };
  }

  // ---- endpoints ----------------------------------------------------------------------------------------------

  private async prepay(raw: Buffer): Promise<{ status: number; body: unknown }> {
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const appid = requireString(body, 'appid', '/appid', { max: 32 });
    const mchid = requireString(body, 'mchid', '/mchid', { max: 32 });
    const description = requireString(body, 'description', '/description', { max: 127 });
    const outTradeNo = requireString(body, 'out_trade_no', '/out_trade_no', { min: 6, max: 32, pattern: OUT_TRADE_NO });
    const timeExpire = checkTimeExpire(body, this.clock());
    const attach = optionalString(body, 'attach', '/attach', 128);
    const notifyUrl = checkNotify(body, 'notify_url', '/notify_url', true)!;
    const amount = requireObject(body, 'amount', '/amount');
    const total = requireFen(amount, 'total', '/amount/total');
    checkCurrency(amount, '/amount/currency');
    const payer = requireObject(body, 'payer', '/payer');
    const openid = requireString(payer, 'openid', '/payer/openid', { max: 128 });
    if (mchid !== this.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
    if (appid !== this.keys.appid) throw new HttpError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');

    const candidate: SimTransaction = {
      _id: outTradeNo,
      appid,
      mchid,
      description,
      ...(attach !== undefined ? { attach } : {}),
      notify_url: notifyUrl,
      ...(timeExpire !== undefined ? { time_expire: timeExpire } : {}),
      amount: { total, currency: 'CNY' },
      payer: { openid },
      trade_state: 'NOTPAY',
      refund_reserved: 0,
      refund_count: 0,
      last_refund_at: 0,
      created_at: this.clock(),
    };
    const existing = await this.getTransaction(outTradeNo);
    if (!existing) {
      try {
        await this.transactions.add({ data: { ...candidate } });
      } catch {
        return this.prepay(raw); // a concurrent identical request created it first: compare against that one
      }
    } else {
      const same = (['appid', 'description', 'attach', 'notify_url', 'time_expire'] as const).every((k) => existing[k] === candidate[k]) &&
        existing.amount.total === total &&
        existing.payer.openid === openid;
      if (!same) throw new HttpError(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
      if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND') throw new HttpError(400, 'ORDERPAID', '该订单已支付');
      if (existing.trade_state === 'CLOSED') throw new HttpError(400, 'ORDER_CLOSED', '订单已关闭');
    }
    const prepayId = `wx${rfc3339(this.clock()).replace(/\D/g, '').slice(0, 14)}${randomBytes(10).toString('hex')}`;
    await this.prepays.add({ data: { _id: prepayId, out_trade_no: outTradeNo, expires_at: this.clock() + PREPAY_LIFETIME_MS } });
    return { status: 200, body: { prepay_id: prepayId } };
  }

  private async query(by: { outTradeNo?: string; transactionId?: string }, url: URL): Promise<{ status: number; body: unknown }> {
    const mchid = url.searchParams.get('mchid');
    if (!mchid) throw paramError('/mchid', 'missing');
    if (mchid !== this.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
    let tx: SimTransaction | undefined;
    if (by.outTradeNo) tx = await this.getTransaction(by.outTradeNo);
    else tx = ((await this.transactions.where({ transaction_id: by.transactionId }).get()).data[0] as unknown as SimTransaction | undefined) ?? undefined;
    if (!tx) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return { status: 200, body: this.transactionView(tx) };
  }

  private async closeTransaction(outTradeNo: string, raw: Buffer): Promise<{ status: number }> {
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const mchid = requireString(body, 'mchid', '/mchid', { max: 32 });
    if (mchid !== this.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
    const tx = await this.getTransaction(outTradeNo);
    if (!tx) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    const _ = this.db.command;
    const { stats } = await this.transactions
      .where({ _id: outTradeNo, trade_state: _.in(['NOTPAY', 'USERPAYING', 'PAYERROR']) })
      .update({ data: { trade_state: 'CLOSED' } });
    if (stats.updated === 0) {
      const now = await this.getTransaction(outTradeNo);
      if (now?.trade_state === 'SUCCESS' || now?.trade_state === 'REFUND') throw new HttpError(400, 'ORDERPAID', '订单已支付，不能关闭');
    }
    return { status: 204 };
  }

  /**
   * POST /v3/refund/domestic/refunds. A repeat of an out_refund_no answers that refund (WeChat Pay's idempotency),
   * whatever the rules below say now. A new out_refund_no must fit WeChat Pay's rules for the payment: paid, the
   * amount within what is still refundable (400 INVALID_REQUEST), at most 50 refunds (400 INVALID_REQUEST), and a
   * minute after the previous accepted refund (429 FREQUENCY_LIMITED). The three are checked and the refund reserved
   * in one compare-and-set on the transaction, so concurrent requests cannot pass them together.
   */
  private async createRefund(raw: Buffer): Promise<{ status: number; body: unknown }> {
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const outTradeNo = optionalString(body, 'out_trade_no', '/out_trade_no', 32);
    const transactionId = optionalString(body, 'transaction_id', '/transaction_id', 32);
    if (!outTradeNo && !transactionId) throw paramError('/out_trade_no', 'out_trade_no or transaction_id is required');
    const outRefundNo = requireString(body, 'out_refund_no', '/out_refund_no', { max: 64, pattern: OUT_REFUND_NO });
    const reason = optionalString(body, 'reason', '/reason', 80);
    const notifyUrl = checkNotify(body, 'notify_url', '/notify_url', false);
    const amount = requireObject(body, 'amount', '/amount');
    const refund = requireFen(amount, 'refund', '/amount/refund');
    const total = requireFen(amount, 'total', '/amount/total');
    if (amount.currency !== 'CNY') throw paramError('/amount/currency', 'must be CNY');

    const found = outTradeNo
      ? await this.getTransaction(outTradeNo)
      : ((await this.transactions.where({ transaction_id: transactionId }).get()).data[0] as unknown as SimTransaction | undefined);
    // "请检查你的订单号是否正确且是否已支付，未支付的订单不能发起退款": the refund API knows paid transactions only
    if (!found || (found.trade_state !== 'SUCCESS' && found.trade_state !== 'REFUND')) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const existing = await this.getRefund(outRefundNo);
    if (existing) {
      if (existing.out_trade_no !== found._id || existing.amount.refund !== refund || existing.amount.total !== total) {
        throw new HttpError(400, 'INVALID_REQUEST', '退款单号已存在，请求参数与原退款不一致');
      }
      return { status: 200, body: this.refundView(existing) };
    }
    if (total !== found.amount.total) throw paramError('/amount/total', 'differs from the order total', '订单金额与原订单金额不一致');
    if (refund > total) throw paramError('/amount/refund', 'greater than total', '退款金额不能大于订单金额');
    const tx = await this.withRefundCounters(found);
    const _ = this.db.command;
    const now = this.clock();
    const reserved = await this.transactions
      .where({
        _id: tx._id,
        refund_reserved: _.lte(total - refund),
        refund_count: _.lt(MAX_REFUNDS_PER_PAYMENT),
        last_refund_at: _.lte(now - this.refundIntervalMs),
      })
      .update({ data: { refund_reserved: _.inc(refund), refund_count: _.inc(1), last_refund_at: now } });
    if (reserved.stats.updated === 0) {
      const again = await this.getRefund(outRefundNo);
      if (again) return this.createRefund(raw); // the same out_refund_no raced in: answer with the refund that won
      const current = (await this.getTransaction(tx._id))!;
      if (current.refund_reserved > total - refund) throw new HttpError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
      if (current.refund_count >= MAX_REFUNDS_PER_PAYMENT) throw new HttpError(400, 'INVALID_REQUEST', `每个支付订单的部分退款次数不能超过${MAX_REFUNDS_PER_PAYMENT}次`);
      throw new HttpError(429, 'FREQUENCY_LIMITED', '单笔订单请求频率过高，请于1分钟后重试');
    }
    const outcome = this.faults.take('refund-outcome');
    const record: SimRefund = {
      _id: outRefundNo,
      refund_id: `50${Array.from(randomBytes(27), (b) => b % 10).join('')}`,
      out_trade_no: tx._id,
      transaction_id: tx.transaction_id!,
      ...(reason !== undefined ? { reason } : {}),
      ...(notifyUrl !== undefined ? { notify_url: notifyUrl } : {}),
      amount: { refund, total, currency: 'CNY' },
      status: 'PROCESSING',
      create_time: rfc3339(now),
      planned_outcome: outcome?.kind ?? 'SUCCESS',
    };
    try {
      await this.refunds.add({ data: { ...record } });
    } catch {
      // the same out_refund_no raced in: give the reservation back and answer with the refund that won
      await this.transactions.doc(tx._id).update({ data: { refund_reserved: _.inc(-refund), refund_count: _.inc(-1) } });
      return this.createRefund(raw);
    }
    this.scheduleRefundSettle(outRefundNo, this.refundDelayMs);
    return { status: 200, body: this.refundView(record) };
  }

  /** Ledgers written before the refund counters existed: count their refunds once. */
  private async withRefundCounters(tx: SimTransaction): Promise<SimTransaction> {
    if (typeof tx.refund_count === 'number' && typeof tx.last_refund_at === 'number') return tx;
    const refunds = await this.listRefunds(tx._id);
    const last = refunds.reduce((max, r) => Math.max(max, Date.parse(r.create_time)), 0);
    await this.transactions.doc(tx._id).update({ data: { refund_count: refunds.length, last_refund_at: last } });
    return (await this.getTransaction(tx._id))!;
  }

  private async queryRefund(outRefundNo: string): Promise<{ status: number; body: unknown }> {
    const refund = await this.getRefund(outRefundNo);
    if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return { status: 200, body: this.refundView(refund) };
  }

  /**
   * POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund: the merchant tells WeChat Pay where an
   * ABNORMAL refund's money should go. bank_account and real_name arrive encrypted with the WeChat Pay public key
   * (RSA-OAEP) and the request names that key in Wechatpay-Serial. The answer is the Refund object, PROCESSING
   * again; it ends SUCCESS (with a REFUND.SUCCESS notification) after refundDelayMs. Only the card's last four digits
   * are kept.
   */
  private async applyAbnormalRefund(refundId: string, raw: Buffer, req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const outRefundNo = requireString(body, 'out_refund_no', '/out_refund_no', { max: 64, pattern: OUT_REFUND_NO });
    const type = requireString(body, 'type', '/type', { max: 32 });
    if (type !== 'USER_BANK_CARD' && type !== 'MERCHANT_BANK_CARD') throw paramError('/type', 'USER_BANK_CARD or MERCHANT_BANK_CARD');
    const bankType = optionalString(body, 'bank_type', '/bank_type', 16);
    const bankAccountCipher = optionalString(body, 'bank_account', '/bank_account', 1024);
    const realNameCipher = optionalString(body, 'real_name', '/real_name', 1024);
    let accountTail: string | undefined;
    if (type === 'USER_BANK_CARD') {
      const required = '若退款至用户此字段必填';
      if (!bankType) throw paramError('/bank_type', 'missing', `bank_type ${required}`);
      if (!bankAccountCipher) throw paramError('/bank_account', 'missing', `bank_account ${required}`);
      if (!realNameCipher) throw paramError('/real_name', 'missing', `real_name ${required}`);
    }
    if (bankAccountCipher !== undefined || realNameCipher !== undefined) {
      this.checkSensitiveSerial(req);
      if (bankAccountCipher !== undefined) {
        const account = this.decryptSensitive(bankAccountCipher, '/bank_account');
        if (!/^\d{12,19}$/.test(account)) throw paramError('/bank_account', 'not a bank card number', '收款银行卡号格式错误');
        accountTail = account.slice(-4);
      }
      if (realNameCipher !== undefined && this.decryptSensitive(realNameCipher, '/real_name').trim() === '') {
        throw paramError('/real_name', 'empty', '收款用户姓名不能为空');
      }
    }
    const refund = ((await this.refunds.where({ refund_id: refundId }).get()).data[0] as unknown as SimRefund | undefined) ?? undefined;
    if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    if (refund._id !== outRefundNo) throw new HttpError(400, 'INVALID_REQUEST', '商户退款单号与微信支付退款单号不匹配');
    if (refund.status !== 'ABNORMAL') {
      // the same application again (its answer was lost): answer the refund as it is now
      if (refund.abnormal_handling?.type === type) return { status: 200, body: this.refundView(refund) };
      throw new HttpError(400, 'INVALID_REQUEST', '退款单状态不是退款异常，无法发起异常退款');
    }
    const handling: SimRefund['abnormal_handling'] = {
      type,
      ...(bankType ? { bank_type: bankType } : {}),
      ...(accountTail ? { account_tail: accountTail } : {}),
      at: rfc3339(this.clock()),
    };
    const { stats } = await this.refunds.where({ _id: refund._id, status: 'ABNORMAL' }).update({
      data: {
        status: 'PROCESSING',
        planned_outcome: 'SUCCESS',
        channel: 'OTHER_BANKCARD',
        user_received_account: type === 'USER_BANK_CARD' ? `${bankName(bankType!)}${accountTail}` : '商户结算银行账户',
        abnormal_handling: handling,
      },
    });
    if (stats.updated === 0) return this.applyAbnormalRefund(refundId, raw, req); // raced with another application
    this.scheduleRefundSettle(refund._id, this.refundDelayMs);
    return { status: 200, body: this.refundView((await this.getRefund(refund._id))!) };
  }

  /** Wechatpay-Serial must name a WeChat Pay key this merchant has in its current mode. */
  private checkSensitiveSerial(req: IncomingMessage): void {
    const serial = req.headers['wechatpay-serial'];
    if (typeof serial !== 'string' || !serial) throw new HttpError(400, 'PARAM_ERROR', 'HTTP header缺少微信支付平台证书序列号(Wechatpay-Serial)');
    const known = [
      ...(this.signingMode !== 'certificate' ? [this.keys.publicKeyId] : []),
      ...(this.signingMode !== 'publicKey' ? [this.keys.platformCertificateSerial] : []),
    ];
    if (!known.includes(serial)) throw new HttpError(400, 'PARAM_ERROR', '平台证书序列号Wechatpay-Serial错误');
  }

  /** RSA-OAEP (SHA-1, as WeChat Pay's sensitive-field encryption) with the key behind the public key and certificate. */
  private decryptSensitive(ciphertext: string, field: string): string {
    try {
      return privateDecrypt({ key: this.platformKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(ciphertext, 'base64')).toString('utf8');
    } catch {
      throw paramError(field, 'cannot be decrypted', `${field.slice(1)} 解密失败，请使用微信支付公钥加密`);
    }
  }

  private async certificates(): Promise<{ status: number; body: unknown }> {
    if (this.signingMode === 'publicKey') throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书');
    const nonce = randomBytes(6).toString('hex');
    return {
      status: 200,
      body: {
        data: [
          {
            serial_no: this.keys.platformCertificateSerial,
            effective_time: rfc3339(this.clock() - 24 * 3600 * 1000),
            expire_time: rfc3339(this.clock() + 5 * 365 * 24 * 3600 * 1000),
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              associated_data: 'certificate',
              nonce,
              ciphertext: encryptAesGcm({
                key: this.keys.apiV3Key,
                nonce,
                associatedData: 'certificate',
                plaintext: this.keys.platformCertificatePem,
              }),
            },
          },
        ],
      },
    };
  }

  // ---- the cashier and settlement ------------------------------------------------------------------------------

  /**
   * What the paying user does in the WeChat cashier. Given the wx.requestPayment parameters (with the appId of the
   * mini-program that calls it), the cashier first checks what WeChat's payment sheet checks: the parameters' types,
   * the prepay_id, the appId against the prepay's appid, paySign against the merchant's certificate, and the
   * prepay's 2 hours; a failure reads as WeChat's `requestPayment:fail …`. Given a bare prepay_id, those checks are
   * skipped: a tester's shortcut past the sheet.
   */
  async cashier(action: CashierAction, payment: string | RequestPaymentInput): Promise<{ result: string; transaction?: unknown }> {
    const prepayId = typeof payment === 'string' ? payment : await this.checkRequestPayment(payment);
    const prepay = (await this.prepays.doc(prepayId).get()).data as { out_trade_no: string; expires_at: number } | null;
    if (!prepay) throw new HttpError(404, 'PREPAY_NOT_FOUND', 'requestPayment:fail 无效的prepay_id');
    if (prepay.expires_at <= this.clock()) throw new HttpError(400, 'PREPAY_EXPIRED', 'requestPayment:fail prepay_id已失效，请重新下单（有效期2小时）');
    const tx = (await this.getTransaction(prepay.out_trade_no))!;
    if (action === 'cancel') return { result: 'cancel', transaction: this.transactionView(tx) };
    if (tx.time_expire && Date.parse(tx.time_expire) <= this.clock()) throw new HttpError(400, 'ORDER_EXPIRED', '订单已过期，无法支付');
    const _ = this.db.command;
    const payable = _.in(['NOTPAY', 'USERPAYING', 'PAYERROR']);
    if (action === 'fail' || action === 'userpaying') {
      const state = action === 'fail' ? 'PAYERROR' : 'USERPAYING';
      const { stats } = await this.transactions.where({ _id: tx._id, trade_state: payable }).update({ data: { trade_state: state } });
      if (stats.updated === 0 && tx.trade_state !== state) throw new HttpError(409, `ORDER_${tx.trade_state}`, `订单状态为 ${tx.trade_state}`);
      return { result: action, transaction: this.transactionView((await this.getTransaction(tx._id))!) };
    }
    const transactionId = `4200${Array.from(randomBytes(24), (b) => b % 10).join('')}`;
    const { stats } = await this.transactions
      .where({ _id: tx._id, trade_state: payable })
      .update({ data: { trade_state: 'SUCCESS', transaction_id: transactionId, success_time: rfc3339(this.clock()) } });
    if (stats.updated === 0) {
      const current = (await this.getTransaction(tx._id))!;
      throw new HttpError(409, current.trade_state === 'CLOSED' ? 'ORDER_CLOSED' : 'ORDERPAID', current.trade_state === 'CLOSED' ? '订单已关闭' : '订单已支付');
    }
    const paid = (await this.getTransaction(tx._id))!;
    const resource = this.paidTransaction(paid);
    await this.notify(paid.notify_url, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', resource, { outTradeNo: paid._id });
    return { result: 'pay', transaction: resource };
  }

  /** The payment sheet's checks; returns the prepay_id the parameters carry. */
  private async checkRequestPayment(input: RequestPaymentInput): Promise<string> {
    const fail = (code: string, message: string, status = 400) => new HttpError(status, code, `requestPayment:fail ${message}`);
    for (const name of ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const) {
      const value: unknown = (input as unknown as Record<string, unknown>)[name];
      if (typeof value !== 'string') {
        const got = value === undefined ? 'Undefined' : value === null ? 'Null' : `${typeof value}`.replace(/^./, (c) => c.toUpperCase());
        throw fail('PARAMETER_ERROR', `parameter error: parameter.${name} should be String instead of ${got};`);
      }
    }
    const match = /^prepay_id=(.+)$/.exec(input.package);
    if (!match) throw fail('PARAMETER_ERROR', 'parameter error: package should be prepay_id=…;');
    const prepayId = match[1]!;
    const prepay = (await this.prepays.doc(prepayId).get()).data as { out_trade_no: string } | null;
    if (!prepay) throw fail('PREPAY_NOT_FOUND', '无效的prepay_id', 404);
    const tx = (await this.getTransaction(prepay.out_trade_no))!;
    if (input.appId !== tx.appid) throw fail('APPID_MISMATCH', '调用支付的小程序appid与下单时的appid不一致');
    // the message WeChat's client builds, written here apart from the merchant's paysign module so that a slip there
    // cannot be hidden by the same slip here
    const message = `${input.appId}\n${input.timeStamp}\n${input.nonceStr}\n${input.package}\n`;
    const signature = Buffer.from(input.paySign, 'base64');
    const verified = input.signType === 'RSA' && signature.length > 0 && rsaVerify('sha256', Buffer.from(message, 'utf8'), this.merchantKey, signature);
    if (!verified) throw fail('PAYSIGN_ERROR', '支付验证签名失败');
    return prepayId;
  }

  private scheduleRefundSettle(outRefundNo: string, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.settleRefund(outRefundNo).catch((error: unknown) => this.options.log?.(`[wechatpay-sim] refund settle failed: ${String(error)}`));
    }, ms);
    this.timers.add(timer);
  }

  /**
   * Moves a PROCESSING refund to its planned outcome (or the one given) and notifies. An ABNORMAL refund moves only
   * when a status is given: SUCCESS or CLOSED, as when the merchant handles it in the merchant platform. ABNORMAL
   * keeps the refund's amount reserved (the money has left the merchant); CLOSED gives it back.
   */
  async settleRefund(outRefundNo: string, status?: Exclude<RefundStatus, 'PROCESSING'>): Promise<SimRefund | undefined> {
    const refund = await this.getRefund(outRefundNo);
    if (!refund) return undefined;
    const from: RefundStatus = refund.status === 'ABNORMAL' && status !== undefined && status !== 'ABNORMAL' ? 'ABNORMAL' : 'PROCESSING';
    const outcome = status ?? (refund.planned_outcome === 'PROCESSING' ? 'SUCCESS' : refund.planned_outcome);
    const handled = from === 'ABNORMAL' ? { abnormal_handling: { type: 'MERCHANT_PLATFORM', at: rfc3339(this.clock()) } } : {};
    const { stats } = await this.refunds
      .where({ _id: outRefundNo, status: from })
      .update({ data: { status: outcome, ...(outcome === 'SUCCESS' ? { success_time: rfc3339(this.clock()) } : {}), ...handled } });
    if (stats.updated === 0) return refund;
    const _ = this.db.command;
    if (outcome === 'SUCCESS') await this.transactions.where({ _id: refund.out_trade_no, trade_state: 'SUCCESS' }).update({ data: { trade_state: 'REFUND' } });
    else if (outcome === 'CLOSED') await this.transactions.doc(refund.out_trade_no).update({ data: { refund_reserved: _.inc(-refund.amount.refund) } });
    const settled = (await this.getRefund(outRefundNo))!;
    if (settled.notify_url) {
      const tx = (await this.getTransaction(settled.out_trade_no))!;
      const resource = {
        mchid: tx.mchid,
        out_trade_no: tx._id,
        transaction_id: settled.transaction_id,
        out_refund_no: settled._id,
        refund_id: settled.refund_id,
        refund_status: settled.status,
        ...(settled.success_time ? { success_time: settled.success_time } : {}),
        user_received_account: settled.user_received_account ?? '支付用户零钱',
        amount: { total: settled.amount.total, refund: settled.amount.refund, payer_total: settled.amount.total, payer_refund: settled.amount.refund },
      };
      const summary = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭', PROCESSING: '退款处理中' }[settled.status];
      await this.notify(settled.notify_url, `REFUND.${settled.status}`, summary, 'refund', resource, { outTradeNo: tx._id, outRefundNo: settled._id });
    }
    return settled;
  }

  private notify(url: string, eventType: string, summary: string, originalType: 'transaction' | 'refund', resource: unknown, refs: { outTradeNo: string; outRefundNo?: string }): Promise<Delivery> {
    const envelope = encryptNotification({ apiV3Key: this.keys.apiV3Key, eventType, summary, originalType, resource, createTime: rfc3339(this.clock()) });
    return this.notifier.enqueue(envelope, url, refs);
  }

  // ---- control API ---------------------------------------------------------------------------------------------

  private async control(_req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const method = _req.method ?? 'GET';
    const path = url.pathname;
    const body = method === 'POST' ? parseJsonBody(raw) : {};
    const param = (name: string): string => {
      const value = isObj(body) ? body[name] : undefined;
      if (typeof value !== 'string' || !value) throw new HttpError(400, 'INVALID_REQUEST', `${name} is required`);
      return value;
    };
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/sim/state') {
      return sendJson(res, 200, {
        mchid: this.keys.mchid,
        appid: this.keys.appid,
        ...this.config(),
        clock: this.clockView(),
        publicKeyId: this.keys.publicKeyId,
        platformCertificateSerial: this.keys.platformCertificateSerial,
        merchantSerialNo: this.keys.merchantSerialNo,
      });
    }
    if (method === 'POST' && path === '/sim/config') {
      if (!isObj(body)) throw new HttpError(400, 'INVALID_REQUEST', 'body must be an object');
      const bad = (message: string) => new HttpError(400, 'INVALID_REQUEST', message);
      const nonNegativeInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
      if (body.signingMode !== undefined && !['publicKey', 'certificate', 'both'].includes(body.signingMode as string)) throw bad('signingMode: publicKey, certificate or both');
      if (body.timeFactor !== undefined && (typeof body.timeFactor !== 'number' || !(body.timeFactor > 0) || body.timeFactor > 10)) throw bad('timeFactor: a number in (0, 10]');
      for (const key of ['refundDelayMs', 'refundIntervalMs', 'refundErrorLimitPerSecond', 'migrationDurationMs'] as const) {
        if (body[key] !== undefined && !nonNegativeInteger(body[key])) throw bad(`${key}: a non-negative integer`);
      }
      if (body.migrationDurationMs === 0) throw bad('migrationDurationMs: a positive integer');
      if (body.migrationStartedAt !== undefined && parseTime(body.migrationStartedAt) === undefined) throw bad('migrationStartedAt: ms since the epoch or RFC 3339');
      if (body.publicKeyShare !== undefined && body.publicKeyShare !== null && !(typeof body.publicKeyShare === 'number' && body.publicKeyShare >= 0 && body.publicKeyShare <= 1)) {
        throw bad('publicKeyShare: a number in [0, 1], or null for the migration ramp');
      }
      if (body.signingMode !== undefined) this.signingMode = body.signingMode as SigningMode;
      if (body.timeFactor !== undefined) this.timeFactor = body.timeFactor as number;
      if (body.refundDelayMs !== undefined) this.refundDelayMs = body.refundDelayMs as number;
      if (body.refundIntervalMs !== undefined) this.refundIntervalMs = body.refundIntervalMs as number;
      if (body.refundErrorLimitPerSecond !== undefined) this.refundErrorLimitPerSecond = body.refundErrorLimitPerSecond as number;
      if (body.migrationStartedAt !== undefined) this.migration.startedAt = parseTime(body.migrationStartedAt)!;
      if (body.migrationDurationMs !== undefined) this.migration.durationMs = body.migrationDurationMs as number;
      if (body.publicKeyShare !== undefined) this.publicKeyShare = body.publicKeyShare === null ? undefined : (body.publicKeyShare as number);
      return sendJson(res, 200, this.config());
    }
    if (path === '/sim/clock') {
      if (method === 'POST') {
        if (!isObj(body) || (body.advanceMs === undefined) === (body.now === undefined)) throw new HttpError(400, 'INVALID_REQUEST', 'give one of advanceMs (ms) or now (ms since the epoch, or RFC 3339)');
        try {
          if (body.advanceMs !== undefined) this.simClock.advance(body.advanceMs as number);
          else this.simClock.set(parseTime(body.now) ?? NaN);
        } catch (error) {
          throw new HttpError(400, 'INVALID_REQUEST', (error as Error).message);
        }
      }
      if (method === 'DELETE') this.simClock.reset();
      if (method === 'GET' || method === 'POST' || method === 'DELETE') return sendJson(res, 200, this.clockView());
    }
    if (method === 'POST' && (m = path.match(/^\/sim\/cashier\/(pay|cancel|fail|userpaying)$/))) {
      // the wx.requestPayment parameters (checked as the payment sheet checks them), or a bare prepay_id (unchecked)
      const checked = isObj(body) && body.package !== undefined;
      return sendJson(res, 200, await this.cashier(m[1] as CashierAction, checked ? (body as unknown as RequestPaymentInput) : param('prepay_id')));
    }
    if (method === 'GET' && path === '/sim/transactions') return sendJson(res, 200, (await this.listTransactions()).map((t) => this.transactionView(t)));
    if (method === 'GET' && (m = path.match(/^\/sim\/transactions\/([^/]+)$/))) {
      const tx = await this.getTransaction(decodeURIComponent(m[1]!));
      if (!tx) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
      return sendJson(res, 200, { ...this.transactionView(tx), refunds: (await this.listRefunds(tx._id)).map((r) => this.refundView(r)) });
    }
    if (method === 'GET' && path === '/sim/refunds') return sendJson(res, 200, (await this.listRefunds()).map((r) => this.refundView(r)));
    if (method === 'POST' && (m = path.match(/^\/sim\/refunds\/([^/]+)\/settle$/))) {
      const status = isObj(body) ? body.status : undefined;
      if (status !== undefined && !['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(status as string)) throw new HttpError(400, 'INVALID_REQUEST', 'status: SUCCESS, ABNORMAL or CLOSED');
      const refund = await this.settleRefund(decodeURIComponent(m[1]!), status as 'SUCCESS' | undefined);
      if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
      return sendJson(res, 200, this.refundView(refund));
    }
    if (method === 'GET' && path === '/sim/notifications') {
      const filter: Record<string, string> = {};
      for (const key of ['outTradeNo', 'state', 'eventType']) {
        const v = url.searchParams.get(key);
        if (v) filter[key] = v;
      }
      return sendJson(res, 200, await this.notifier.list(filter));
    }
    if (method === 'POST' && (m = path.match(/^\/sim\/notifications\/([^/]+)\/replay$/))) {
      const delivery = await this.notifier.replay(decodeURIComponent(m[1]!));
      if (!delivery) throw new HttpError(404, 'NOT_FOUND', 'no such notification');
      return sendJson(res, 200, delivery);
    }
    if (path === '/sim/faults') {
      if (method === 'GET') return sendJson(res, 200, this.faults.list());
      if (method === 'DELETE') return (this.faults.clear(), sendJson(res, 200, []));
      if (method === 'POST') {
        const rule = parseFaultRule(body);
        if (typeof rule === 'string') throw new HttpError(400, 'INVALID_REQUEST', rule);
        this.faults.add(rule);
        return sendJson(res, 200, this.faults.list());
      }
    }
    throw new HttpError(404, 'NOT_FOUND', `no control endpoint ${method} ${path}`);
  }

  /** The settings /sim/config changes. */
  config() {
    return {
      signingMode: this.signingMode,
      timeFactor: this.timeFactor,
      refundDelayMs: this.refundDelayMs,
      refundIntervalMs: this.refundIntervalMs,
      refundErrorLimitPerSecond: this.refundErrorLimitPerSecond,
      migrationStartedAt: rfc3339(this.migration.startedAt),
      migrationDurationMs: this.migration.durationMs,
      publicKeyShare: this.publicKeyShare ?? null,
      notificationPublicKeyShare: this.notificationPublicKeyShare(),
    };
  }

  clockView() {
    const now = this.clock();
    return { now, time: rfc3339(now), offsetMs: this.simClock.offset };
  }
}

/** A time from the control API: ms since the epoch, or an RFC 3339 string. */
function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function faultError(kind: ApiFaultKind): HttpError {
  if (kind === 'FREQUENCY_LIMITED') return new HttpError(429, 'FREQUENCY_LIMITED', '频率超限');
  if (kind === 'NOT_ENOUGH') return new HttpError(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起');
  if (kind === 'USER_ACCOUNT_ABNORMAL') return new HttpError(403, 'USER_ACCOUNT_ABNORMAL', '退款请求失败，用户帐号已注销');
  return new HttpError(500, 'SYSTEM_ERROR', '系统错误');
}

const BANK_NAMES: Record<string, string> = {
  ICBC: '工商银行', ABC: '农业银行', BOC: '中国银行', CCB: '建设银行', BOCOM: '交通银行', CMB: '招商银行', PAB: '平安银行',
  SPDB: '浦发银行', CITIC: '中信银行', CEB: '光大银行', CMBC: '民生银行', CIB: '兴业银行', GDB: '广发银行', PSBC: '邮储银行', NBCB: '宁波银行',
};

/** user_received_account for a bank card: "{银行名称}{卡类型}{卡尾号}". */
function bankName(bankType: string): string {
  const [bank, kind] = bankType.split('_');
  return `${BANK_NAMES[bank ?? ''] ?? bank}${kind === 'CREDIT' ? '信用卡' : '借记卡'}`;
}
