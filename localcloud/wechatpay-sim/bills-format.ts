/**
 * WeChat Pay's bill files, byte for byte, from integer fen. Pure functions: the bills room feeds them ledger
 * records; a benchmark can feed them synthetic ones.
 *
 * The format follows WeChat Pay's "交易账单文件格式说明" / "资金账单文件格式说明" and real files published in SDK
 * tests: a UTF-8 BOM, CRLF line ends (a published download whose SHA1 is known hashes to exactly that framing), a
 * header row, detail rows whose every field starts with a backtick, a summary header and a backticked summary row.
 * Amounts are yuan with 2 decimals, the fee with 5; the rate reads `0.60%`. A refund row carries the original
 * payment's columns (ids, openid, product, attach) with its order amounts at 0.00, as real bills show.
 *
 * Fee: per row, amount × rate rounded half up to the fen (real bills: 6.00 at 0.60% → 0.04000, 0.01 → 0.00000, so
 * neither truncation nor ceiling), refunds give back their own rounded share as a negative fee. Integers only.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const CHINA_OFFSET_MS = 8 * 3600 * 1000;
export const DAY_MS = 24 * 3600 * 1000;

export type TradeBillType = 'ALL' | 'SUCCESS' | 'REFUND';
export type FundAccountType = 'BASIC' | 'OPERATION' | 'FEES';
/** the refund API's states */
export type ApiRefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
/** the bill's spelling of them (退款状态) */
export type BillRefundStatus = 'SUCCESS' | 'REFUNDCLOSE' | 'PROCESSING' | 'CHANGE';
export const BILL_REFUND_STATUSES: readonly BillRefundStatus[] = ['SUCCESS', 'REFUNDCLOSE', 'PROCESSING', 'CHANGE'];
const BILL_STATUS: Record<ApiRefundStatus, BillRefundStatus> = {
  SUCCESS: 'SUCCESS',
  CLOSED: 'REFUNDCLOSE',
  PROCESSING: 'PROCESSING',
  ABNORMAL: 'CHANGE',
};

/** A successful payment as a bill needs it. Times are epoch milliseconds. */
export interface BillPayment {
  outTradeNo: string;
  transactionId: string;
  appid: string;
  mchid: string;
  openid: string;
  totalFen: number;
  successTime: number;
  description: string;
  attach: string;
  tradeType?: string;
  bankType?: string;
  /** partner mode: the sub-merchant (特约商户号); absent: a direct merchant's trade ('0' in the bill) */
  subMchid?: string;
}

/** An accepted refund, with the payment it refunds (its columns are repeated on the refund's row). */
export interface BillRefund {
  outRefundNo: string;
  refundId: string;
  refundFen: number;
  status: ApiRefundStatus;
  createTime: number;
  successTime?: number;
  channel?: 'ORIGINAL' | 'BALANCE';
  payment: BillPayment;
}

/** One detail row of a trade bill, every column of every bill type; rendering picks the type's columns. */
export interface TradeBillRow {
  kind: 'payment' | 'refund';
  /** 交易时间: payment success, or refund acceptance (ALL); the REFUND bill shows the payment's time there */
  time: number;
  paymentTime: number;
  appid: string;
  mchid: string;
  subMchid?: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  tradeType: string;
  bankType: string;
  settlementFen: number;
  refundId: string;
  outRefundNo: string;
  refundFen: number;
  refundType: string;
  refundStatus: BillRefundStatus | '';
  refundApplyTime?: number;
  refundSuccessTime?: number;
  description: string;
  attach: string;
  feeFen: number;
  rateBp: number;
  orderFen: number;
  refundApplyFen: number;
}

// ---- money and time ---------------------------------------------------------------------------------------------

/** Integer fen → yuan with two decimals (`123456789` → `1234567.89`, `-27` → `-0.27`). */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`not an integer amount of fen: ${fen}`);
  const digits = String(Math.abs(fen)).padStart(3, '0');
  return `${fen < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** The fee column's five decimals: whole fen, so the last three are always zero (`32` → `0.32000`). */
export function fenToYuan5(fen: number): string {
  return `${fenToYuan(fen)}000`;
}

/** A rate in hundredths of a percent (basis points) as the bill writes it: `60` → `0.60%`. */
export function formatRate(bp: number): string {
  if (!Number.isSafeInteger(bp) || bp < 0) throw new RangeError(`not a rate in basis points: ${bp}`);
  return `${(bp - (bp % 100)) / 100}.${String(bp % 100).padStart(2, '0')}%`;
}

/** amount × rate, rounded half up to the fen, in integers (exact for any safe product). */
export function feeFen(amountFen: number, bp: number): number {
  const sign = amountFen < 0 ? -1 : 1;
  // split at 10,000 so no product passes 2^53: amount × rate = whole × rate × 10,000 + part × rate
  const amount = Math.abs(amountFen);
  const part = amount % 10000;
  const whole = (amount - part) / 10000;
  const scaled = part * bp + 5000;
  return sign * (whole * bp + (scaled - (scaled % 10000)) / 10000);
}

/** `YYYY-MM-DD HH:mm:ss` in China time, as bills write times. */
export function chinaDateTime(ms: number): string {
  const iso = new Date(ms + CHINA_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** The China calendar date of an instant. */
export function chinaDate(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** 00:00 China time of a `YYYY-MM-DD` date: bills cut days there. Undefined for a date that does not exist. */
export function chinaDayStart(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  return Number.isNaN(ms) || chinaDate(ms) !== date ? undefined : ms;
}

/** The same China date `months` calendar months earlier, the day clamped to the month's length. */
export function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) - months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Text the merchant chose (商品名称, 商户数据包): WeChat replaces \x01 and writes CR/LF as `\r` / `\n`. */
const SOH = String.fromCharCode(1);
function text(value: string): string {
  if (!value.includes(SOH) && !value.includes('\r') && !value.includes('\n')) return value;
  return value.split(SOH).join(' ').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

// ---- trade bill ---------------------------------------------------------------------------------------------------

export const TRADE_BILL_HEADERS: Record<TradeBillType, string> = {
  ALL: '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
  SUCCESS:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
  REFUND:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
};
export const TRADE_SUMMARY_HEADERS: Record<TradeBillType, string> = {
  ALL: '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
  SUCCESS: '总交易单数,应结订单总金额,手续费总金额,订单总金额',
  REFUND: '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
};

export function paymentRow(p: BillPayment, rateBp: number): TradeBillRow {
  return {
    kind: 'payment',
    time: p.successTime,
    paymentTime: p.successTime,
    appid: p.appid,
    mchid: p.mchid,
    ...(p.subMchid ? { subMchid: p.subMchid } : {}),
    transactionId: p.transactionId,
    outTradeNo: p.outTradeNo,
    openid: p.openid,
    tradeType: p.tradeType ?? 'JSAPI',
    bankType: p.bankType ?? 'OTHERS',
    settlementFen: p.totalFen,
    refundId: '0',
    outRefundNo: '0',
    refundFen: 0,
    refundType: '',
    refundStatus: '',
    description: p.description,
    attach: p.attach,
    feeFen: feeFen(p.totalFen, rateBp),
    rateBp,
    orderFen: p.totalFen,
    refundApplyFen: 0,
  };
}

/**
 * A refund's row. The bill is a snapshot taken when it is generated ("出账后退款状态不会更新"): a refund that
 * succeeded after `snapshotAt` still reads PROCESSING there.
 */
export function refundRow(
  r: BillRefund,
  rateBp: number,
  snapshotAt: number,
  billType: TradeBillType = 'ALL',
): TradeBillRow {
  const succeededBySnapshot = r.status === 'SUCCESS' && (r.successTime === undefined || r.successTime <= snapshotAt);
  const status: ApiRefundStatus = r.status === 'SUCCESS' && !succeededBySnapshot ? 'PROCESSING' : r.status;
  const p = r.payment;
  return {
    kind: 'refund',
    time: billType === 'REFUND' ? p.successTime : r.createTime,
    paymentTime: p.successTime,
    appid: p.appid,
    mchid: p.mchid,
    ...(p.subMchid ? { subMchid: p.subMchid } : {}),
    transactionId: p.transactionId,
    outTradeNo: p.outTradeNo,
    openid: p.openid,
    tradeType: p.tradeType ?? 'JSAPI',
    bankType: p.bankType ?? 'OTHERS',
    settlementFen: 0,
    refundId: r.refundId,
    outRefundNo: r.outRefundNo,
    refundFen: r.refundFen,
    refundType: r.channel ?? 'ORIGINAL',
    refundStatus: BILL_STATUS[status],
    refundApplyTime: r.createTime,
    ...(status === 'SUCCESS' && r.successTime !== undefined ? { refundSuccessTime: r.successTime } : {}),
    description: p.description,
    attach: p.attach,
    feeFen: -feeFen(r.refundFen, rateBp),
    rateBp,
    orderFen: 0,
    refundApplyFen: r.refundFen,
  };
}

/** The detail rows of one bill type, ordered by the time they are filed under. */
export function tradeBillRows(
  type: TradeBillType,
  payments: readonly BillPayment[],
  refunds: readonly BillRefund[],
  { rateBp, snapshotAt }: { rateBp: number; snapshotAt: number },
): TradeBillRow[] {
  const rows: TradeBillRow[] = [];
  if (type !== 'REFUND') for (const p of payments) rows.push(paymentRow(p, rateBp));
  if (type !== 'SUCCESS') for (const r of refunds) rows.push(refundRow(r, rateBp, snapshotAt, type));
  const key = (row: TradeBillRow) => (type === 'REFUND' ? (row.refundApplyTime ?? row.time) : row.time);
  return rows.sort((a, b) => key(a) - key(b));
}

export function renderTradeRow(type: TradeBillType, r: TradeBillRow): string {
  const head = [
    chinaDateTime(r.time),
    r.appid,
    r.mchid,
    r.subMchid ?? '0',
    '',
    r.transactionId,
    r.outTradeNo,
    r.openid,
    r.tradeType,
    r.kind === 'refund' ? 'REFUND' : 'SUCCESS',
    r.bankType,
    'CNY',
    fenToYuan(r.settlementFen),
    '0.00',
  ];
  const goods = [
    text(r.description),
    text(r.attach),
    fenToYuan5(r.feeFen),
    formatRate(r.rateBp),
    fenToYuan(r.orderFen),
  ];
  const refund = [r.refundId, r.outRefundNo, fenToYuan(r.refundFen), '0.00', r.refundType, r.refundStatus];
  let fields: string[];
  if (type === 'SUCCESS') fields = [...head, ...goods, ''];
  else if (type === 'ALL') fields = [...head, ...refund, ...goods, fenToYuan(r.refundApplyFen), ''];
  else {
    const applied = r.refundApplyTime === undefined ? '' : chinaDateTime(r.refundApplyTime);
    const succeeded = r.refundSuccessTime === undefined ? '' : chinaDateTime(r.refundSuccessTime);
    fields = [...head, applied, succeeded, ...refund, ...goods, fenToYuan(r.refundApplyFen), ''];
  }
  return `\`${fields.join(',`')}\r\n`;
}

export interface TradeBillTotals {
  count: number;
  settlementFen: number;
  refundFen: number;
  feeFen: number;
  orderFen: number;
  refundApplyFen: number;
}

export function renderTradeSummary(type: TradeBillType, t: TradeBillTotals): string {
  const fields =
    type === 'SUCCESS'
      ? [String(t.count), fenToYuan(t.settlementFen), fenToYuan5(t.feeFen), fenToYuan(t.orderFen)]
      : [
          String(t.count),
          fenToYuan(t.settlementFen),
          fenToYuan(t.refundFen),
          '0.00',
          fenToYuan5(t.feeFen),
          fenToYuan(t.orderFen),
          fenToYuan(t.refundApplyFen),
        ];
  return `\`${fields.join(',`')}\r\n`;
}

/** The whole file as lines (each with its CRLF), rows consumed once: a generator for any number of rows. */
export function* tradeBillLines(type: TradeBillType, rows: Iterable<TradeBillRow>): Generator<string> {
  yield `\ufeff${TRADE_BILL_HEADERS[type]}\r\n`;
  const t: TradeBillTotals = { count: 0, settlementFen: 0, refundFen: 0, feeFen: 0, orderFen: 0, refundApplyFen: 0 };
  for (const row of rows) {
    t.count += 1;
    t.settlementFen += row.settlementFen;
    t.refundFen += row.refundFen;
    t.feeFen += row.feeFen;
    t.orderFen += row.orderFen;
    t.refundApplyFen += row.refundApplyFen;
    yield renderTradeRow(type, row);
  }
  yield `${TRADE_SUMMARY_HEADERS[type]}\r\n`;
  yield renderTradeSummary(type, t);
}

// ---- fund flow bill (BASIC account) ------------------------------------------------------------------------------

export const FUND_FLOW_HEADER =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
export const FUND_FLOW_SUMMARY_HEADER = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';

export interface FundFlowRow {
  time: number;
  businessNo: string;
  flowNo: string;
  businessName: string;
  businessType: string;
  income: boolean;
  amountFen: number;
  balanceFen: number;
  applicant: string;
  remark: string;
  voucherNo: string;
}

/**
 * The basic account's movements: a payment credits its amount net of the fee when it succeeds; a refund debits its
 * amount net of the fee given back when it is accepted (记账时间 is "not the refund's success time"). The remarks
 * follow real files ("结算总金额 0.01 元;含手续费 0.00 元", "退款总金额0.01元;含手续费0.00元").
 */
export function fundFlowRows(
  payments: readonly BillPayment[],
  refunds: readonly BillRefund[],
  { rateBp, openingBalanceFen, mchid }: { rateBp: number; openingBalanceFen: number; mchid: string },
): FundFlowRow[] {
  const moves: Omit<FundFlowRow, 'balanceFen'>[] = [];
  for (const p of payments) {
    const fee = feeFen(p.totalFen, rateBp);
    moves.push({
      time: p.successTime,
      businessNo: p.transactionId,
      flowNo: p.transactionId,
      businessName: '交易',
      businessType: '交易',
      income: true,
      amountFen: p.totalFen - fee,
      applicant: 'system',
      remark: `结算总金额 ${fenToYuan(p.totalFen)} 元;含手续费 ${fenToYuan(fee)} 元`,
      voucherNo: p.outTradeNo,
    });
  }
  for (const r of refunds) {
    const fee = feeFen(r.refundFen, rateBp);
    moves.push({
      time: r.createTime,
      businessNo: r.refundId,
      flowNo: r.payment.transactionId,
      businessName: '退款',
      businessType: '退款',
      income: false,
      amountFen: r.refundFen - fee,
      applicant: `${mchid}API`,
      remark: `退款总金额${fenToYuan(r.refundFen)}元;含手续费${fenToYuan(fee)}元`,
      voucherNo: r.outRefundNo,
    });
  }
  moves.sort((a, b) => a.time - b.time);
  let balance = openingBalanceFen;
  return moves.map((m) => {
    balance += m.income ? m.amountFen : -m.amountFen;
    return { ...m, balanceFen: balance };
  });
}

/** Net effect of movements on the balance: what a day before the bill's day leaves in the account. */
export function fundFlowNetFen(
  payments: readonly BillPayment[],
  refunds: readonly BillRefund[],
  rateBp: number,
): number {
  let net = 0;
  for (const p of payments) net += p.totalFen - feeFen(p.totalFen, rateBp);
  for (const r of refunds) net -= r.refundFen - feeFen(r.refundFen, rateBp);
  return net;
}

export function* fundFlowLines(rows: Iterable<FundFlowRow>): Generator<string> {
  yield `\ufeff${FUND_FLOW_HEADER}\r\n`;
  let count = 0;
  let incomeCount = 0;
  let incomeFen = 0;
  let outCount = 0;
  let outFen = 0;
  for (const r of rows) {
    count += 1;
    if (r.income) {
      incomeCount += 1;
      incomeFen += r.amountFen;
    } else {
      outCount += 1;
      outFen += r.amountFen;
    }
    const fields = [
      chinaDateTime(r.time),
      r.businessNo,
      r.flowNo,
      r.businessName,
      r.businessType,
      r.income ? '收入' : '支出',
      fenToYuan(r.amountFen),
      fenToYuan(r.balanceFen),
      r.applicant,
      text(r.remark),
      text(r.voucherNo),
    ];
    yield `\`${fields.join(',`')}\r\n`;
  }
  yield `${FUND_FLOW_SUMMARY_HEADER}\r\n`;
  yield `\`${[String(count), String(incomeCount), fenToYuan(incomeFen), String(outCount), fenToYuan(outFen)].join(',`')}\r\n`;
}

// ---- the file ------------------------------------------------------------------------------------------------------

export interface BillFile {
  /** the bytes served: gzip when asked for */
  bytes: Buffer;
  /** SHA1 of the original (uncompressed) bill, as WeChat Pay documents hash_value: "原始账单（gzip需要解压缩）的摘要值" */
  sha1: string;
  /** size of the original bill */
  plainBytes: number;
  lines: number;
}

/** Joins lines into 64 KiB chunks, hashing as it goes; gzips the result when asked. */
export function assembleBill(lines: Iterable<string>, gzip: boolean): BillFile {
  const hash = createHash('sha1');
  const chunks: Buffer[] = [];
  let pending: string[] = [];
  let pendingLength = 0;
  let plainBytes = 0;
  let count = 0;
  const flush = () => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    hash.update(chunk);
    chunks.push(chunk);
    plainBytes += chunk.length;
    pending = [];
    pendingLength = 0;
  };
  for (const line of lines) {
    pending.push(line);
    pendingLength += line.length;
    count += 1;
    if (pendingLength >= 65536) flush();
  }
  flush();
  const plain = Buffer.concat(chunks, plainBytes);
  return { bytes: gzip ? gzipSync(plain) : plain, sha1: hash.digest('hex'), plainBytes, lines: count };
}

// ---- synthetic days (benchmarks) ---------------------------------------------------------------------------------

/**
 * `count` deterministic successful payments spread over one China day: the same call gives the same ids, amounts
 * and times, so a benchmark can write matching records to its database and ask the simulator for the bill.
 */
export function* syntheticPayments({
  date,
  count,
  appid,
  mchid,
  prefix = 'BENCH',
}: {
  date: string;
  count: number;
  appid: string;
  mchid: string;
  prefix?: string;
}): Generator<BillPayment> {
  const start = chinaDayStart(date);
  if (start === undefined) throw new RangeError(`not a date: ${date}`);
  const compact = date.replace(/-/g, '');
  for (let i = 0; i < count; i++) {
    const seq = String(i).padStart(10, '0');
    yield {
      outTradeNo: `${prefix}${compact}${seq}`,
      transactionId: `4200000000${compact}${seq}`,
      appid,
      mchid,
      openid: `oBench${String(i % 997).padStart(22, '0')}`,
      totalFen: 1 + ((i * 7919) % 99_999),
      successTime: start + Math.floor((i * (DAY_MS - 1000)) / Math.max(1, count)),
      description: '基准测试商品',
      attach: '',
    };
  }
}
