/**
 * The bills room of the WeChat Pay simulator: `GET /v3/bill/tradebill`, `GET /v3/bill/fundflowbill` and the
 * download link they hand out, answered as WeChat Pay documents them. It reads the ledger through `BillLedger` only
 * and owns its links and its faults, so the simulator's facade plugs it in with a route and a control call.
 *
 * What WeChat Pay documents and this room does:
 * - a day is cut at 00:00 China time; its bill exists from 10:00 the next day (400 STATEMENT_CREATING before,
 *   "账单生成中"), only for the last three months (400 PARAM_ERROR), and not for a day without trades
 *   (400 NO_STATEMENT_EXIST "请求的账单文件不存在");
 * - the answer is `{download_url, hash_type: "SHA1", hash_value}`, the link `/v3/billdownload/file?token=…`
 *   (`&tartype=gzip` when compressed, as real links read) on the simulator's own base URL. The download needs a
 *   signed request (the server checks Authorization before routing) and its answer is not signed; the link lives
 *   30 s on the simulator's clock, then 400 INVALID_REQUEST;
 * - hash_value is the SHA1 of the original bill, gunzipped when GZIP ("原始账单（gzip需要解压缩）的摘要值"; the
 *   official wechatpay-java hashes after GZIPInputStream);
 * - the file is built when the link is applied for and is a snapshot: refund states as they were at 09:00 the
 *   next day, when WeChat Pay generates it.
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from '../http';
import {
  assembleBill,
  chinaDate,
  chinaDayStart,
  DAY_MS,
  fundFlowLines,
  fundFlowNetFen,
  fundFlowRows,
  monthsBefore,
  tradeBillLines,
  tradeBillRows,
  type ApiRefundStatus,
  type BillFile,
  type BillPayment,
  type BillRefund,
  type FundAccountType,
  type TradeBillType,
} from './bills-format';
import { BillFaultBook, parseBillFaultRule } from './bills-faults';

/** What the room needs from the ledger: payments by success time, refunds by acceptance time, [fromMs, toMs). */
export interface BillLedger {
  paymentsSucceededBetween(fromMs: number, toMs: number): Promise<BillPayment[]>;
  refundsCreatedBetween(fromMs: number, toMs: number): Promise<BillRefund[]>;
}

export interface BillsRoomOptions {
  ledger: BillLedger;
  clock: () => number;
  /** the simulator's base URL (known once it listens) */
  baseUrl: () => string;
  appid: string;
  mchid: string;
  /** fee rate in basis points (hundredths of a percent): 60 is 0.60% */
  feeRateBp?: number;
  /** how long a download link lives */
  linkLifetimeMs?: number;
  /**
   * partner mode (partner.ts): checks a request's sub_mchid (bound to the service provider, else throws WeChat Pay's
   * answer) and answers it; absent or answering undefined: every trade of the merchant is billed
   */
  subMerchant?: (subMchid: string | null) => string | undefined;
}

export type BillTarget = 'bill' | 'bill-download';

/** A JSON answer to sign like any other, or bytes to send as they are, unsigned. */
export type BillAnswer =
  { status: number; body: unknown } | { status: number; raw: Buffer; headers: Record<string, string> };

interface Link {
  file: BillFile;
  gzip: boolean;
  expiresAt: number;
}

const BILL_TYPES: readonly string[] = ['ALL', 'SUCCESS', 'REFUND'];
const ACCOUNT_TYPES: readonly string[] = ['BASIC', 'OPERATION', 'FEES'];
/** the day's bill is generated from 09:00 (its snapshot time) and served from 10:00 the next day */
const GENERATED_AFTER_MS = DAY_MS + 9 * 3600 * 1000;
const SERVED_AFTER_MS = DAY_MS + 10 * 3600 * 1000;

export class BillsRoom {
  readonly faults = new BillFaultBook();
  feeRateBp: number;
  linkLifetimeMs: number;
  /** the next this many applications answer a hash_value that is not the file's (a download altered on the way, as the merchant sees it) */
  wrongHashes = 0;
  private readonly links = new Map<string, Link>();

  constructor(private readonly options: BillsRoomOptions) {
    this.feeRateBp = options.feeRateBp ?? 60;
    this.linkLifetimeMs = options.linkLifetimeMs ?? 30_000;
  }

  /** The endpoint for a method and path, or undefined when it is not the room's. */
  route(method: string, path: string): { target: BillTarget; run: (url: URL) => Promise<BillAnswer> } | undefined {
    if (method !== 'GET') return undefined;
    if (path === '/v3/bill/tradebill') return { target: 'bill', run: (url) => this.tradeBill(url) };
    if (path === '/v3/bill/fundflowbill') return { target: 'bill', run: (url) => this.fundFlowBill(url) };
    if (path === '/v3/billdownload/file') return { target: 'bill-download', run: async (url) => this.download(url) };
    return undefined;
  }

  // ---- endpoints ------------------------------------------------------------------------------------------------

  private async tradeBill(url: URL): Promise<BillAnswer> {
    const date = billDate(url);
    const type = choice(url, 'bill_type', [...BILL_TYPES, 'RECHARGE_REFUND'], 'ALL');
    const gzip = tarType(url);
    const sub = url.searchParams.get('sub_mchid');
    const subMchid = sub ? this.options.subMerchant?.(sub) : undefined;
    const dayStart = this.checkDay(date);
    // the simulator has no recharge coupons, so there are never recharge refunds
    if (type === 'RECHARGE_REFUND') throw noStatement();
    const file = await this.buildTradeBill(date, type as TradeBillType, {
      gzip,
      dayStart,
      ...(subMchid ? { subMchid } : {}),
    });
    if (!file) throw noStatement();
    return this.link(file, gzip);
  }

  private async fundFlowBill(url: URL): Promise<BillAnswer> {
    const date = billDate(url);
    const account = choice(url, 'account_type', ACCOUNT_TYPES, 'BASIC') as FundAccountType;
    const gzip = tarType(url);
    const dayStart = this.checkDay(date);
    const file = await this.buildFundFlowBill(date, account, { gzip, dayStart });
    if (!file) throw noStatement();
    return this.link(file, gzip);
  }

  private download(url: URL): BillAnswer {
    this.sweep();
    const token = url.searchParams.get('token') ?? '';
    const link = this.links.get(token);
    if (!link) throw new HttpError(400, 'INVALID_REQUEST', '下载链接已失效，请重新申请账单');
    return {
      status: 200,
      raw: link.file.bytes,
      headers: { 'Content-Type': link.gzip ? 'application/octet-stream' : 'text/plain;charset=utf-8' },
    };
  }

  // ---- files ----------------------------------------------------------------------------------------------------

  /**
   * One day's trade bill with the fault rules that concern it applied, or undefined when the day has no rows
   * (NO_STATEMENT_EXIST). Also what a benchmark calls to get a bill without HTTP.
   */
  async buildTradeBill(
    date: string,
    type: TradeBillType,
    {
      gzip = false,
      dayStart = chinaDayStart(date),
      subMchid,
    }: { gzip?: boolean; dayStart?: number; subMchid?: string } = {},
  ): Promise<BillFile | undefined> {
    if (dayStart === undefined) throw new RangeError(`not a date: ${date}`);
    const end = dayStart + DAY_MS;
    // a service provider's bill of one sub-merchant (sub_mchid), or of all of them
    const ours = (p: BillPayment) => subMchid === undefined || p.subMchid === subMchid;
    const payments = (
      type === 'REFUND' ? [] : await this.options.ledger.paymentsSucceededBetween(dayStart, end)
    ).filter(ours);
    const refunds = (type === 'SUCCESS' ? [] : await this.options.ledger.refundsCreatedBetween(dayStart, end)).filter(
      (r) => ours(r.payment),
    );
    if (payments.length + refunds.length === 0) return undefined;
    const rows = tradeBillRows(type, payments, refunds, {
      rateBp: this.feeRateBp,
      snapshotAt: dayStart + GENERATED_AFTER_MS,
    });
    const faulty = this.faults.apply(rows, {
      billDate: date,
      dayStart,
      appid: this.options.appid,
      mchid: this.options.mchid,
      rateBp: this.feeRateBp,
      withPayments: type !== 'REFUND',
    });
    const file = assembleBill(tradeBillLines(type, faulty.rows), gzip);
    // a stream cut short: half the bytes, the digest still the whole bill's (the download ends early)
    if (faulty.applied.some((r) => r.kind === 'GZIP_TRUNCATED'))
      return { ...file, bytes: file.bytes.subarray(0, Math.floor(file.bytes.length / 2)) };
    return file;
  }

  /** One day's fund flow bill of an account; only the basic account moves on this simulator. */
  async buildFundFlowBill(
    date: string,
    account: FundAccountType,
    { gzip = false, dayStart = chinaDayStart(date) }: { gzip?: boolean; dayStart?: number } = {},
  ): Promise<BillFile | undefined> {
    if (dayStart === undefined) throw new RangeError(`not a date: ${date}`);
    if (account !== 'BASIC') return undefined;
    const { ledger } = this.options;
    const payments = await ledger.paymentsSucceededBetween(dayStart, dayStart + DAY_MS);
    const refunds = await ledger.refundsCreatedBetween(dayStart, dayStart + DAY_MS);
    if (payments.length + refunds.length === 0) return undefined;
    const openingBalanceFen = fundFlowNetFen(
      await ledger.paymentsSucceededBetween(0, dayStart),
      await ledger.refundsCreatedBetween(0, dayStart),
      this.feeRateBp,
    );
    const rows = fundFlowRows(payments, refunds, {
      rateBp: this.feeRateBp,
      openingBalanceFen,
      mchid: this.options.mchid,
    });
    return assembleBill(fundFlowLines(rows), gzip);
  }

  // ---- rules ----------------------------------------------------------------------------------------------------

  /** The day's start, or the error WeChat Pay answers for a day it cannot serve now. */
  private checkDay(date: string): number {
    const dayStart = chinaDayStart(date)!;
    const now = this.options.clock();
    const today = chinaDate(now);
    if (date > today) throw queryError('bill_date', 'is in the future', '账单日期不能晚于今天');
    if (date < monthsBefore(today, 3))
      throw queryError('bill_date', 'older than three months', '仅支持三个月内的账单下载申请');
    if (now < dayStart + SERVED_AFTER_MS) throw new HttpError(400, 'STATEMENT_CREATING', '账单生成中');
    return dayStart;
  }

  /** Forgets expired links, so files are held only as long as their link lives. */
  private sweep(): void {
    const now = this.options.clock();
    for (const [token, link] of this.links) if (link.expiresAt <= now) this.links.delete(token);
  }

  private link(file: BillFile, gzip: boolean): BillAnswer {
    this.sweep();
    const token = randomBytes(48).toString('base64url');
    this.links.set(token, { file, gzip, expiresAt: this.options.clock() + this.linkLifetimeMs });
    const downloadUrl = `${this.options.baseUrl()}/v3/billdownload/file?token=${token}${gzip ? '&tartype=gzip' : ''}`;
    const wrong = this.wrongHashes > 0;
    if (wrong) this.wrongHashes -= 1;
    const hash = wrong ? `${file.sha1.slice(0, -1)}${file.sha1.endsWith('0') ? '1' : '0'}` : file.sha1;
    return { status: 200, body: { download_url: downloadUrl, hash_type: 'SHA1', hash_value: hash } };
  }

  // ---- control API ----------------------------------------------------------------------------------------------

  /**
   * `/sim/bills/faults` (GET list, POST add, DELETE clear) and `/sim/bills/config` (GET, POST `{feeRateBp,
   * linkLifetimeMs, wrongHashes}`); undefined for other paths. Errors are HttpError 400 INVALID_REQUEST like the rest of /sim.
   */
  control(method: string, path: string, body: unknown): { status: number; body: unknown } | undefined {
    if (path === '/sim/bills/faults') {
      if (method === 'GET') return { status: 200, body: this.faults.list() };
      if (method === 'DELETE') {
        this.faults.clear();
        return { status: 200, body: [] };
      }
      if (method === 'POST') {
        const rule = parseBillFaultRule(body);
        if (typeof rule === 'string') throw new HttpError(400, 'INVALID_REQUEST', rule);
        this.faults.add(rule);
        return { status: 200, body: this.faults.list() };
      }
    }
    if (path === '/sim/bills/config') {
      if (method === 'POST') {
        const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        if (b.feeRateBp !== undefined) {
          if (!Number.isInteger(b.feeRateBp) || (b.feeRateBp as number) < 0 || (b.feeRateBp as number) > 10_000)
            throw new HttpError(400, 'INVALID_REQUEST', 'feeRateBp: an integer 0..10000 (60 is 0.60%)');
          this.feeRateBp = b.feeRateBp as number;
        }
        if (b.linkLifetimeMs !== undefined) {
          if (!Number.isInteger(b.linkLifetimeMs) || (b.linkLifetimeMs as number) < 1)
            throw new HttpError(400, 'INVALID_REQUEST', 'linkLifetimeMs: a positive integer');
          this.linkLifetimeMs = b.linkLifetimeMs as number;
        }
        if (b.wrongHashes !== undefined) {
          if (!Number.isInteger(b.wrongHashes) || (b.wrongHashes as number) < 0)
            throw new HttpError(400, 'INVALID_REQUEST', 'wrongHashes: a non-negative integer');
          this.wrongHashes = b.wrongHashes as number;
        }
      }
      if (method === 'GET' || method === 'POST')
        return {
          status: 200,
          body: { feeRateBp: this.feeRateBp, linkLifetimeMs: this.linkLifetimeMs, wrongHashes: this.wrongHashes },
        };
    }
    return undefined;
  }
}

function queryError(field: string, issue: string, message: string): HttpError {
  return new HttpError(400, 'PARAM_ERROR', message, { field, location: 'query', issue });
}

function noStatement(): HttpError {
  return new HttpError(400, 'NO_STATEMENT_EXIST', '请求的账单文件不存在');
}

function billDate(url: URL): string {
  const value = url.searchParams.get('bill_date');
  if (value === null || value === '')
    throw queryError(
      'bill_date',
      'missing',
      '输入源“/query/bill_date”映射到字段“账单日期”必填性规则校验失败，此字段为必填项',
    );
  if (chinaDayStart(value) === undefined)
    throw queryError('bill_date', 'format invalid', '账单日期格式不正确，应为yyyy-MM-DD');
  return value;
}

function choice(url: URL, field: string, allowed: readonly string[], fallback: string): string {
  const value = url.searchParams.get(field);
  if (value === null) return fallback;
  if (!allowed.includes(value))
    throw queryError(field, `must be one of ${allowed.join(', ')}`, `参数错误: ${field} 取值不正确`);
  return value;
}

function tarType(url: URL): boolean {
  return choice(url, 'tar_type', ['GZIP'], '') === 'GZIP';
}

// ---- a ledger over the simulator's records -------------------------------------------------------------------------

/** The fields of the simulator's transaction records a bill reads (SimTransaction satisfies it). */
export interface LedgerTransactionRecord {
  _id: string;
  appid: string;
  mchid: string;
  description: string;
  attach?: string;
  payer: { openid: string };
  /** JSAPI or NATIVE (the bill's 交易类型); absent: JSAPI */
  trade_type?: string;
  /** partner mode: the bill's 特约商户号 */
  sub_mchid?: string;
  amount: { total: number };
  trade_state: string;
  transaction_id?: string;
  success_time?: string;
}

/** The fields of the simulator's refund records a bill reads (SimRefund satisfies it). */
export interface LedgerRefundRecord {
  _id: string;
  refund_id: string;
  out_trade_no: string;
  amount: { refund: number };
  status: ApiRefundStatus;
  create_time: string;
  success_time?: string;
}

/** A BillLedger over record lists (filtered in memory: the simulator's ledger is small). */
export function recordsLedger(source: {
  transactions: () => Promise<LedgerTransactionRecord[]>;
  refunds: () => Promise<LedgerRefundRecord[]>;
}): BillLedger {
  const payment = (t: LedgerTransactionRecord): BillPayment | undefined => {
    if (!t.transaction_id || !t.success_time) return undefined;
    return {
      outTradeNo: t._id,
      transactionId: t.transaction_id,
      appid: t.appid,
      mchid: t.mchid,
      openid: t.payer.openid,
      totalFen: t.amount.total,
      successTime: Date.parse(t.success_time),
      description: t.description,
      attach: t.attach ?? '',
      ...(t.trade_type ? { tradeType: t.trade_type } : {}),
      ...(t.sub_mchid ? { subMchid: t.sub_mchid } : {}),
    };
  };
  const paid = async () => (await source.transactions()).map(payment).filter((p): p is BillPayment => p !== undefined);
  return {
    async paymentsSucceededBetween(fromMs, toMs) {
      return (await paid()).filter((p) => p.successTime >= fromMs && p.successTime < toMs);
    },
    async refundsCreatedBetween(fromMs, toMs) {
      const payments = new Map((await paid()).map((p) => [p.outTradeNo, p]));
      const result: BillRefund[] = [];
      for (const r of await source.refunds()) {
        const createTime = Date.parse(r.create_time);
        const p = payments.get(r.out_trade_no);
        if (!p || createTime < fromMs || createTime >= toMs) continue;
        result.push({
          outRefundNo: r._id,
          refundId: r.refund_id,
          refundFen: r.amount.refund,
          status: r.status,
          createTime,
          ...(r.success_time ? { successTime: Date.parse(r.success_time) } : {}),
          payment: p,
        });
      }
      return result;
    },
  };
}
