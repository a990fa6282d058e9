/**
 * The WeChat Pay APIv3 simulator: the endpoints a JSAPI merchant uses, validated and signed as WeChat Pay does,
 * a ledger with WeChat's states, a cashier that stands in for the paying user, notifications with WeChat's retry
 * schedule, and fault injection. It runs on its own base URL; the functions' WECHATPAY_BASE_URL points here or at
 * api.mch.weixin.qq.com, nothing else changes.
 *
 * Control API (loopback only, no signature): /sim/... — see README "Local cloud".
 */
import { createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
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
import { FaultBook, parseFaultRule, type ApiTarget } from './faults';
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
export const PREPAY_LIFETIME_MS = 2 * 3600 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

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
  refund_reserved: number;
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
}

const TRADE_STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  NOTPAY: '未支付',
  CLOSED: '已关闭',
  REVOKED: '已撤销',
  USERPAYING: '用户支付中',
  PAYERROR: '支付失败',
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
  clock?: () => number;
  log?: (line: string) => void;
}

export class WechatPaySimulator {
  readonly faults = new FaultBook();
  readonly notifier: Notifier;
  signingMode: SigningMode;
  timeFactor: number;
  refundDelayMs: number;
  private readonly db: LocalDatabase;
  private readonly engine: LocalDatabaseEngine;
  private readonly clock: () => number;
  private readonly merchantKey: KeyObject;
  private readonly platformSigner: RsaSha256Signer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;
  private notifySerialToggle = 0;
  baseUrl = '';

  constructor(private readonly options: WechatPaySimulatorOptions) {
    this.clock = options.clock ?? Date.now;
    this.signingMode = options.signingMode ?? 'publicKey';
    this.timeFactor = options.timeFactor ?? 1;
    this.refundDelayMs = options.refundDelayMs ?? 1000;
    this.engine = new LocalDatabaseEngine(options.dataDir, this.clock);
    this.db = this.engine.database({ throwOnNotFound: false });
    this.merchantKey = createPublicKey(options.keys.merchantCertificatePem);
    this.platformSigner = new RsaSha256Signer(options.keys.platformPrivateKeyPem);
    this.notifier = new Notifier({
      db: this.db,
      faults: this.faults,
      clock: this.clock,
      timeFactor: () => this.timeFactor,
      sign: (body, probe) => {
        const headers: Record<string, string> = signResponse(this.platformSigner, this.notificationSerial(), body, Math.floor(this.clock() / 1000));
        if (probe) headers['Wechatpay-Signature'] = signtestSignature();
        return headers;
      },
    });
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

  private notificationSerial(): string {
    const { publicKeyId, platformCertificateSerial } = this.keys;
    if (this.signingMode === 'publicKey') return publicKeyId;
    if (this.signingMode === 'certificate') return platformCertificateSerial;
    return this.notifySerialToggle++ % 2 === 0 ? publicKeyId : platformCertificateSerial;
  }

  private reply(req: IncomingMessage, res: ServerResponse, status: number, value?: unknown): void {
    const body = value === undefined ? '' : JSON.stringify(value);
    const headers: Record<string, string> = { 'Request-ID': randomUUID().replace(/-/g, '').toUpperCase() };
    if (body) headers['Content-Type'] = 'application/json';
    if (status >= 200 && status < 300) Object.assign(headers, signResponse(this.platformSigner, this.responseSerial(req), body, Math.floor(this.clock() / 1000)));
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
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://sim');
      if (url.pathname.startsWith('/sim/')) return await this.control(req, res, url, raw);
      const route = this.route(req.method ?? 'GET', url.pathname);
      if (!route) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '请求的资源不存在');
      this.checkAuthorization(req, raw);
      const fault = this.faults.take(route.target);
      const phase = fault && (fault.phase ?? (fault.kind === 'TIMEOUT' ? 'after' : 'before'));
      if (fault?.kind === 'SLOW') await this.sleep(fault.delayMs ?? 1000);
      else if (fault && phase === 'before') {
        if (fault.kind === 'TIMEOUT') return void (await this.sleep(fault.delayMs ?? 10_000), res.destroy());
        throw faultError(fault.kind);
      }
      const outcome = await route.run(url, raw).then(
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
      if (error instanceof HttpError) {
        this.reply(req, res, error.status, { code: error.code, message: error.message, ...(error.detail !== undefined ? { detail: error.detail } : {}) });
      } else {
        this.options.log?.(`[wechatpay-sim] internal error: ${(error as Error).stack}`);
        this.reply(req, res, 500, { code: 'SYSTEM_ERROR', message: '系统错误' });
      }
    }
  }

  private route(method: string, path: string): { target: ApiTarget; run: (url: URL, raw: Buffer) => Promise<{ status: number; body?: unknown }> } | undefined {
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
    if (!/^\d{1,12}$/.test(auth.timestamp) || Math.abs(Number(auth.timestamp) * 1000 - this.clock()) > CLOCK_SKEW_MS) {
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

  /** The Transaction object WeChat Pay answers and notifies for a ledger entry. */
  transactionView(tx: SimTransaction) {
    const paid = tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND';
    return {
      appid: tx.appid,
      mchid: tx.mchid,
      out_trade_no: tx._id,
      ...(tx.transaction_id ? { transaction_id: tx.transaction_id } : {}),
      trade_type: 'JSAPI',
      trade_state: tx.trade_state,
      trade_state_desc: TRADE_STATE_DESC[tx.trade_state],
      ...(paid ? { bank_type: 'OTHERS', success_time: tx.success_time } : {}),
      attach: tx.attach ?? '',
      payer: { openid: tx.payer.openid },
      amount: { total: tx.amount.total, ...(paid ? { payer_total: tx.amount.total } : {}), currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  private refundView(r: SimRefund) {
    return {
      refund_id: r.refund_id,
      out_refund_no: r._id,
      transaction_id: r.transaction_id,
      out_trade_no: r.out_trade_no,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
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

    const tx = outTradeNo
      ? await this.getTransaction(outTradeNo)
      : ((await this.transactions.where({ transaction_id: transactionId }).get()).data[0] as unknown as SimTransaction | undefined);
    if (!tx) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const existing = await this.getRefund(outRefundNo);
    if (existing) {
      if (existing.out_trade_no !== tx._id || existing.amount.refund !== refund || existing.amount.total !== total) {
        throw new HttpError(400, 'INVALID_REQUEST', '退款单号已存在，请求参数与原退款不一致');
      }
      return { status: 200, body: this.refundView(existing) };
    }
    if (tx.trade_state !== 'SUCCESS' && tx.trade_state !== 'REFUND') throw new HttpError(400, 'INVALID_REQUEST', '订单未支付，不能退款');
    if (total !== tx.amount.total) throw paramError('/amount/total', 'differs from the order total', '订单金额与原订单金额不一致');
    if (refund > total) throw paramError('/amount/refund', 'greater than total', '退款金额不能大于订单金额');
    const _ = this.db.command;
    const reserved = await this.transactions.where({ _id: tx._id, refund_reserved: _.lte(total - refund) }).update({ data: { refund_reserved: _.inc(refund) } });
    if (reserved.stats.updated === 0) throw new HttpError(403, 'NOT_ENOUGH', '订单可退金额不足');
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
      create_time: rfc3339(this.clock()),
      planned_outcome: outcome?.kind ?? 'SUCCESS',
    };
    try {
      await this.refunds.add({ data: { ...record } });
    } catch {
      // the same out_refund_no raced in: give the reservation back and answer with the refund that won
      await this.transactions.doc(tx._id).update({ data: { refund_reserved: _.inc(-refund) } });
      return this.createRefund(raw);
    }
    this.scheduleRefundSettle(outRefundNo, this.refundDelayMs);
    return { status: 200, body: this.refundView(record) };
  }

  private async queryRefund(outRefundNo: string): Promise<{ status: number; body: unknown }> {
    const refund = await this.getRefund(outRefundNo);
    if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return { status: 200, body: this.refundView(refund) };
  }

  private async certificates(): Promise<{ status: number; body: unknown }> {
    if (this.signingMode === 'publicKey') throw new HttpError(500, 'SYSTEM_ERROR', '商户已切换为微信支付公钥模式，无平台证书');
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

  /** What the paying user does with a prepay_id in the WeChat cashier. */
  async cashier(action: 'pay' | 'cancel' | 'fail' | 'userpaying', prepayId: string): Promise<{ result: string; transaction?: unknown }> {
    const prepay = (await this.prepays.doc(prepayId).get()).data as { out_trade_no: string; expires_at: number } | null;
    if (!prepay) throw new HttpError(404, 'PREPAY_NOT_FOUND', 'prepay_id 不存在');
    if (prepay.expires_at <= this.clock()) throw new HttpError(400, 'PREPAY_EXPIRED', 'prepay_id 已失效（2 小时）');
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
    const resource = this.transactionView(paid);
    await this.notify(paid.notify_url, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', resource, { outTradeNo: paid._id });
    return { result: 'pay', transaction: resource };
  }

  private scheduleRefundSettle(outRefundNo: string, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.settleRefund(outRefundNo).catch((error: unknown) => this.options.log?.(`[wechatpay-sim] refund settle failed: ${String(error)}`));
    }, ms);
    this.timers.add(timer);
  }

  /** Moves a PROCESSING refund to its planned outcome (or the one given) and notifies. */
  async settleRefund(outRefundNo: string, status?: Exclude<RefundStatus, 'PROCESSING'>): Promise<SimRefund | undefined> {
    const refund = await this.getRefund(outRefundNo);
    if (!refund) return undefined;
    const outcome = status ?? (refund.planned_outcome === 'PROCESSING' ? 'SUCCESS' : refund.planned_outcome);
    const { stats } = await this.refunds
      .where({ _id: outRefundNo, status: 'PROCESSING' })
      .update({ data: { status: outcome, ...(outcome === 'SUCCESS' ? { success_time: rfc3339(this.clock()) } : {}) } });
    if (stats.updated === 0) return refund;
    const _ = this.db.command;
    if (outcome === 'SUCCESS') await this.transactions.where({ _id: refund.out_trade_no, trade_state: 'SUCCESS' }).update({ data: { trade_state: 'REFUND' } });
    else await this.transactions.doc(refund.out_trade_no).update({ data: { refund_reserved: _.inc(-refund.amount.refund) } });
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
        user_received_account: '支付用户零钱',
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
        signingMode: this.signingMode,
        timeFactor: this.timeFactor,
        refundDelayMs: this.refundDelayMs,
        publicKeyId: this.keys.publicKeyId,
        platformCertificateSerial: this.keys.platformCertificateSerial,
        merchantSerialNo: this.keys.merchantSerialNo,
      });
    }
    if (method === 'POST' && path === '/sim/config') {
      if (!isObj(body)) throw new HttpError(400, 'INVALID_REQUEST', 'body must be an object');
      if (body.signingMode !== undefined) {
        if (!['publicKey', 'certificate', 'both'].includes(body.signingMode as string)) throw new HttpError(400, 'INVALID_REQUEST', 'signingMode: publicKey, certificate or both');
        this.signingMode = body.signingMode as SigningMode;
      }
      if (body.timeFactor !== undefined) {
        if (typeof body.timeFactor !== 'number' || !(body.timeFactor > 0) || body.timeFactor > 10) throw new HttpError(400, 'INVALID_REQUEST', 'timeFactor: a number in (0, 10]');
        this.timeFactor = body.timeFactor;
      }
      if (body.refundDelayMs !== undefined) {
        if (!Number.isInteger(body.refundDelayMs) || (body.refundDelayMs as number) < 0) throw new HttpError(400, 'INVALID_REQUEST', 'refundDelayMs: a non-negative integer');
        this.refundDelayMs = body.refundDelayMs as number;
      }
      return sendJson(res, 200, { signingMode: this.signingMode, timeFactor: this.timeFactor, refundDelayMs: this.refundDelayMs });
    }
    if (method === 'POST' && (m = path.match(/^\/sim\/cashier\/(pay|cancel|fail|userpaying)$/))) {
      return sendJson(res, 200, await this.cashier(m[1] as 'pay', param('prepay_id')));
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
}

function faultError(kind: 'SYSTEM_ERROR' | 'FREQUENCY_LIMITED' | 'TIMEOUT' | 'SLOW'): HttpError {
  if (kind === 'FREQUENCY_LIMITED') return new HttpError(429, 'FREQUENCY_LIMITED', '频率超限');
  return new HttpError(500, 'SYSTEM_ERROR', '系统错误');
}
