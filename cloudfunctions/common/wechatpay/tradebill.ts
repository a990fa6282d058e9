/**
 * The trade bill file (交易账单), parsed one line at a time: a header row, detail rows whose every field starts with a
 * backtick, a summary header (总交易单数,…) and one summary row. Columns are found by their header names, so the ALL,
 * SUCCESS and REFUND bills read alike. A detail row is split on "," followed by a backtick (a product name may hold
 * commas).
 *
 * Money is integer arithmetic on the digits as written: amounts in yuan with two decimals become fen; the fee
 * (手续费) has five decimals and becomes thousandths of a fen (`feeMilliFen`), exact. The rate (费率, `0.60%`) becomes
 * basis points. At the end the summary row must equal the sums of the detail rows, column by column, and the count
 * of rows: a bill that does not add up is refused (SUMMARY_MISMATCH), whatever its digest said.
 */
import { WechatPayBillError } from './bill';

/** One detail row. A refund row repeats its payment's ids (out_trade_no, transaction_id, openid). */
export interface TradeBillRow {
  kind: 'payment' | 'refund';
  /** 交易时间 as epoch ms (China time in the file) */
  time: number;
  appid: string;
  mchid: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  tradeType: string;
  /** 交易状态: SUCCESS for a payment row, REFUND for a refund row (REVOKED for a payment reversed the same day) */
  tradeState: string;
  bankType: string;
  currency: string;
  /** 应结订单金额 */
  settlementFen: number;
  /** 代金券金额 */
  couponFen: number;
  refundId: string;
  outRefundNo: string;
  /** 退款金额 */
  refundFen: number;
  /** 充值券退款金额 */
  rechargeRefundFen: number;
  refundType: string;
  /** 退款状态: SUCCESS, REFUNDCLOSE, PROCESSING, CHANGE; empty on a payment row */
  refundStatus: string;
  description: string;
  attach: string;
  /** 手续费 in thousandths of a fen (the file's five decimals of a yuan); negative on a refund row */
  feeMilliFen: number;
  /** 费率 in basis points (`0.60%` → 60); undefined when the column is absent or empty */
  rateBp: number | undefined;
  /** 订单金额 */
  orderFen: number;
  /** 申请退款金额 */
  refundApplyFen: number;
}

export interface TradeBillTotals {
  count: number;
  settlementFen: number;
  refundFen: number;
  rechargeRefundFen: number;
  feeMilliFen: number;
  orderFen: number;
  refundApplyFen: number;
}

const HEADER = {
  time: '交易时间',
  appid: '公众账号ID',
  mchid: '商户号',
  transactionId: '微信订单号',
  outTradeNo: '商户订单号',
  openid: '用户标识',
  tradeType: '交易类型',
  tradeState: '交易状态',
  bankType: '付款银行',
  currency: '货币种类',
  settlement: '应结订单金额',
  coupon: '代金券金额',
  refundId: '微信退款单号',
  outRefundNo: '商户退款单号',
  refund: '退款金额',
  rechargeRefund: '充值券退款金额',
  refundType: '退款类型',
  refundStatus: '退款状态',
  description: '商品名称',
  attach: '商户数据包',
  fee: '手续费',
  rate: '费率',
  order: '订单金额',
  refundApply: '申请退款金额',
} as const;

const SUMMARY = {
  count: '总交易单数',
  settlement: '应结订单总金额',
  refund: '退款总金额',
  rechargeRefund: '充值券退款总金额',
  fee: '手续费总金额',
  order: '订单总金额',
  refundApply: '申请退款总金额',
} as const;

const REQUIRED: readonly string[] = [HEADER.time, HEADER.transactionId, HEADER.outTradeNo, HEADER.tradeState];

/**
 * An amount written in yuan (`12.34`, `-0.27`, `0.04000`) as an integer number of 10^-scale yuan, from its digits
 * alone: no floating point ever holds an amount. Undefined for anything that is not such a number (or needs more
 * decimals than `scale`, or is too large to be exact).
 */
export function parseYuan(text: string, scale: number): number | undefined {
  const m = /^(-?)(\d{1,13})(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  if (fraction.length > scale) return undefined;
  const value = Number(m[2]) * 10 ** scale + Number(fraction.padEnd(scale, '0') || '0');
  if (!Number.isSafeInteger(value)) return undefined;
  return m[1] === '-' && value !== 0 ? -value : value;
}

/** Thousandths of a fen to fen, rounded half away from zero (WeChat Pay's fees are whole fen in every published bill). */
export function milliFenToFen(milli: number): number {
  const sign = milli < 0 ? -1 : 1;
  const abs = Math.abs(milli);
  return sign * ((abs - (abs % 1000)) / 1000 + (abs % 1000 >= 500 ? 1 : 0));
}

/** `2026-11-22 13:14:15` (China time) → epoch ms; undefined when malformed. */
export function parseChinaDateTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const ms = Date.parse(`${text.replace(' ', 'T')}+08:00`);
  return Number.isNaN(ms) ? undefined : ms;
}

type Stage = 'header' | 'rows' | 'summary' | 'done';

/**
 * Feed it the bill's lines in order (`line`), then call `finish`. Each detail row is handed to `onRow` as soon as it
 * is read; nothing is kept but the running totals.
 */
export class TradeBillParser {
  private stage: Stage = 'header';
  private columns = new Map<string, number>();
  private width = 0;
  private summaryColumns: string[] = [];
  private lineNo = 0;
  readonly totals: TradeBillTotals = {
    count: 0,
    settlementFen: 0,
    refundFen: 0,
    rechargeRefundFen: 0,
    feeMilliFen: 0,
    orderFen: 0,
    refundApplyFen: 0,
  };
  private summary: TradeBillTotals | undefined;

  constructor(private readonly onRow: (row: TradeBillRow) => void) {}

  line(text: string): void {
    this.lineNo += 1;
    switch (this.stage) {
      case 'header':
        return this.header(text);
      case 'rows':
        if (text.startsWith(SUMMARY.count)) {
          this.summaryColumns = text.split(',');
          this.stage = 'summary';
          return;
        }
        return this.row(text);
      case 'summary':
        this.summary = this.summaryRow(text);
        this.stage = 'done';
        return;
      case 'done':
        throw this.malformed('text after the summary row');
    }
  }

  /** The totals, once the whole file was read and its summary row agrees with its rows. */
  finish(): TradeBillTotals {
    if (this.stage !== 'done' || !this.summary)
      throw new WechatPayBillError('MALFORMED', `the bill ended before its summary row (after line ${this.lineNo})`);
    const differing = (Object.keys(this.totals) as (keyof TradeBillTotals)[]).filter(
      (k) => this.summary![k] !== this.totals[k],
    );
    if (differing.length > 0) {
      const detail = differing.map((k) => `${k}: summary ${this.summary![k]}, rows ${this.totals[k]}`).join('; ');
      throw new WechatPayBillError('SUMMARY_MISMATCH', `the bill's summary row does not match its rows (${detail})`);
    }
    return { ...this.totals };
  }

  private malformed(what: string): WechatPayBillError {
    return new WechatPayBillError('MALFORMED', `trade bill line ${this.lineNo}: ${what}`);
  }

  private header(text: string): void {
    const names = text.split(',');
    names.forEach((name, i) => this.columns.set(name.trim(), i));
    for (const name of REQUIRED) if (!this.columns.has(name)) throw this.malformed(`the header has no ${name} column`);
    this.width = names.length;
    this.stage = 'rows';
  }

  private fields(text: string): string[] {
    if (!text.startsWith('`')) throw this.malformed('a data row must start with a backtick');
    return text.slice(1).split(',`');
  }

  private row(text: string): void {
    const f = this.fields(text);
    if (f.length !== this.width) throw this.malformed(`${f.length} fields where the header has ${this.width}`);
    const col = (name: string) => {
      const i = this.columns.get(name);
      return i === undefined ? '' : f[i]!;
    };
    const money = (name: string, scale = 2) => {
      const raw = col(name);
      if (raw === '') return 0;
      const value = parseYuan(raw, scale);
      if (value === undefined) throw this.malformed(`${name} is not an amount: ${raw.slice(0, 32)}`);
      return value;
    };
    const time = parseChinaDateTime(col(HEADER.time));
    if (time === undefined) throw this.malformed(`${HEADER.time} is not a time`);
    const rate = col(HEADER.rate);
    let rateBp: number | undefined;
    if (rate !== '') {
      rateBp = rate.endsWith('%') ? parseYuan(rate.slice(0, -1), 2) : undefined;
      if (rateBp === undefined) throw this.malformed(`${HEADER.rate} is not a rate: ${rate.slice(0, 16)}`);
    }
    const tradeState = col(HEADER.tradeState);
    const outRefundNo = col(HEADER.outRefundNo);
    const row: TradeBillRow = {
      kind: tradeState === 'REFUND' ? 'refund' : 'payment',
      time,
      appid: col(HEADER.appid),
      mchid: col(HEADER.mchid),
      transactionId: col(HEADER.transactionId),
      outTradeNo: col(HEADER.outTradeNo),
      openid: col(HEADER.openid),
      tradeType: col(HEADER.tradeType),
      tradeState,
      bankType: col(HEADER.bankType),
      currency: col(HEADER.currency),
      settlementFen: money(HEADER.settlement),
      couponFen: money(HEADER.coupon),
      refundId: col(HEADER.refundId),
      outRefundNo: outRefundNo === '0' ? '' : outRefundNo,
      refundFen: money(HEADER.refund),
      rechargeRefundFen: money(HEADER.rechargeRefund),
      refundType: col(HEADER.refundType),
      refundStatus: col(HEADER.refundStatus),
      description: col(HEADER.description),
      attach: col(HEADER.attach),
      feeMilliFen: money(HEADER.fee, 5),
      rateBp,
      orderFen: money(HEADER.order),
      refundApplyFen: money(HEADER.refundApply),
    };
    if (row.kind === 'refund' && !row.outRefundNo) throw this.malformed('a refund row without 商户退款单号');
    const t = this.totals;
    t.count += 1;
    t.settlementFen += row.settlementFen;
    t.refundFen += row.refundFen;
    t.rechargeRefundFen += row.rechargeRefundFen;
    t.feeMilliFen += row.feeMilliFen;
    t.orderFen += row.orderFen;
    t.refundApplyFen += row.refundApplyFen;
    this.onRow(row);
  }

  private summaryRow(text: string): TradeBillTotals {
    const f = this.fields(text);
    if (f.length !== this.summaryColumns.length) throw this.malformed('the summary row does not match its header');
    const at = (name: string) => this.summaryColumns.indexOf(name);
    const money = (name: string, scale = 2) => {
      const i = at(name);
      if (i < 0) return 0; // a column this bill type does not have (SUCCESS bills have no refunds)
      const value = parseYuan(f[i]!, scale);
      if (value === undefined) throw this.malformed(`${name} is not an amount`);
      return value;
    };
    const count = Number(f[at(SUMMARY.count)]);
    if (at(SUMMARY.count) < 0 || !Number.isSafeInteger(count) || !/^\d+$/.test(f[at(SUMMARY.count)]!))
      throw this.malformed(`${SUMMARY.count} is not a count`);
    return {
      count,
      settlementFen: money(SUMMARY.settlement),
      refundFen: money(SUMMARY.refund),
      rechargeRefundFen: money(SUMMARY.rechargeRefund),
      feeMilliFen: money(SUMMARY.fee, 5),
      orderFen: money(SUMMARY.order),
      refundApplyFen: money(SUMMARY.refundApply),
    };
  }
}
