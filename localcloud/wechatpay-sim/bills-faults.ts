/**
 * Bill faults, so reconciliation can be tested against each kind of difference WeChat Pay's bill may show: a row
 * missing, an extra row, an amount changed, a refund state changed; and what a real file may carry that no parser
 * reads: a product name holding the bill's own separator (",`"), a gzip stream cut short. A rule either stands for one China day
 * (`billDate`: every trade bill of that day, until cleared) or applies to the next `times` trade bills built.
 *
 * The summary row is computed from the rows as served, so a faulty bill is internally consistent, as WeChat Pay's
 * own file would be: the difference is between the bill and the merchant's books, not inside the file.
 */
import { randomBytes } from 'node:crypto';
import {
  BILL_REFUND_STATUSES,
  chinaDayStart,
  feeFen,
  paymentRow,
  type BillRefundStatus,
  type TradeBillRow,
} from './bills-format';

export type BillFaultKind =
  'ROW_MISSING' | 'EXTRA_ROW' | 'AMOUNT_CHANGED' | 'REFUND_STATE_CHANGED' | 'SEPARATOR_IN_NAME' | 'GZIP_TRUNCATED';
export const BILL_FAULT_KINDS: readonly BillFaultKind[] = [
  'ROW_MISSING',
  'EXTRA_ROW',
  'AMOUNT_CHANGED',
  'REFUND_STATE_CHANGED',
  'SEPARATOR_IN_NAME',
  'GZIP_TRUNCATED',
];

export interface BillFaultRule {
  kind: BillFaultKind;
  /** standing rule for this China day's trade bills; absent: the next `times` trade bills */
  billDate?: string;
  /** next-bill rules only: how many bills still to spoil */
  times?: number;
  /** the payment row concerned (EXTRA_ROW: the extra row's out_trade_no) */
  outTradeNo?: string;
  /** the refund row concerned */
  outRefundNo?: string;
  /** AMOUNT_CHANGED: the amount the bill shows instead (default: one fen more); EXTRA_ROW: its amount (default 1) */
  amountFen?: number;
  /** REFUND_STATE_CHANGED: the state the bill shows (default: SUCCESS ↔ REFUNDCLOSE) */
  refundStatus?: BillRefundStatus;
}

/** Validates a rule from the control API; returns an error message or the rule. */
export function parseBillFaultRule(input: unknown): BillFaultRule | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'a bill fault rule is an object';
  const r = input as Record<string, unknown>;
  if (!BILL_FAULT_KINDS.includes(r.kind as BillFaultKind)) return `kind must be one of ${BILL_FAULT_KINDS.join(', ')}`;
  const rule: BillFaultRule = { kind: r.kind as BillFaultKind };
  if (r.billDate !== undefined) {
    if (typeof r.billDate !== 'string' || chinaDayStart(r.billDate) === undefined)
      return 'billDate must be a date YYYY-MM-DD';
    if (r.times !== undefined) return 'a rule is either for a billDate or for the next `times` bills, not both';
    rule.billDate = r.billDate;
  } else {
    const times = r.times ?? 1;
    if (!Number.isInteger(times) || (times as number) < 1) return 'times must be a positive integer';
    rule.times = times as number;
  }
  for (const key of ['outTradeNo', 'outRefundNo'] as const) {
    if (r[key] === undefined) continue;
    if (typeof r[key] !== 'string' || !(r[key] as string)) return `${key} must be a non-empty string`;
    rule[key] = r[key] as string;
  }
  if (r.amountFen !== undefined) {
    if (!Number.isSafeInteger(r.amountFen) || (r.amountFen as number) < 1)
      return 'amountFen must be a positive integer (fen)';
    if (rule.kind !== 'AMOUNT_CHANGED' && rule.kind !== 'EXTRA_ROW')
      return 'amountFen is for AMOUNT_CHANGED and EXTRA_ROW';
    rule.amountFen = r.amountFen as number;
  }
  if (r.refundStatus !== undefined) {
    if (!BILL_REFUND_STATUSES.includes(r.refundStatus as BillRefundStatus))
      return `refundStatus must be one of ${BILL_REFUND_STATUSES.join(', ')}`;
    if (rule.kind !== 'REFUND_STATE_CHANGED') return 'refundStatus is for REFUND_STATE_CHANGED';
    rule.refundStatus = r.refundStatus as BillRefundStatus;
  }
  if (rule.kind === 'REFUND_STATE_CHANGED' && rule.outTradeNo !== undefined)
    return 'REFUND_STATE_CHANGED picks its row by outRefundNo';
  return rule;
}

export class BillFaultBook {
  private rules: BillFaultRule[] = [];

  /** Adds a rule; one without billDate or times spoils the next bill only. */
  add(rule: BillFaultRule): void {
    this.rules.push(rule.billDate === undefined ? { ...rule, times: rule.times ?? 1 } : { ...rule });
  }

  list(): BillFaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  /** Applies the rules that concern a bill of `billDate` to its rows; next-bill rules are spent only when they hit. */
  apply(rows: TradeBillRow[], ctx: ApplyContext): { rows: TradeBillRow[]; applied: BillFaultRule[] } {
    let current = rows;
    const applied: BillFaultRule[] = [];
    for (const rule of [...this.rules]) {
      if (rule.billDate !== undefined && rule.billDate !== ctx.billDate) continue;
      const next = applyRule(current, rule, ctx);
      if (!next) continue;
      current = next;
      applied.push({ ...rule });
      if (rule.times !== undefined) {
        rule.times -= 1;
        if (rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      }
    }
    return { rows: current, applied };
  }
}

export interface ApplyContext {
  billDate: string;
  dayStart: number;
  appid: string;
  mchid: string;
  rateBp: number;
  /** the bill type: an extra payment row has no place in a REFUND bill */
  withPayments: boolean;
}

function pick(rows: TradeBillRow[], rule: BillFaultRule, kind?: TradeBillRow['kind']): number {
  if (rule.outRefundNo !== undefined)
    return rows.findIndex((r) => r.kind === 'refund' && r.outRefundNo === rule.outRefundNo);
  if (rule.outTradeNo !== undefined)
    return rows.findIndex((r) => r.kind === 'payment' && r.outTradeNo === rule.outTradeNo);
  const index = rows.findIndex((r) => r.kind === (kind ?? 'payment'));
  return index >= 0 || kind ? index : rows.length > 0 ? 0 : -1;
}

/** The rows with one rule applied, or undefined when the rule finds nothing to act on in this bill. */
function applyRule(rows: TradeBillRow[], rule: BillFaultRule, ctx: ApplyContext): TradeBillRow[] | undefined {
  switch (rule.kind) {
    case 'ROW_MISSING': {
      const index = pick(rows, rule);
      if (index < 0) return undefined;
      return rows.filter((_, i) => i !== index);
    }
    case 'AMOUNT_CHANGED': {
      const index = pick(rows, rule);
      if (index < 0) return undefined;
      const row = rows[index]!;
      const changed: TradeBillRow =
        row.kind === 'payment'
          ? (() => {
              const amount = rule.amountFen ?? row.orderFen + 1;
              return { ...row, settlementFen: amount, orderFen: amount, feeFen: feeFen(amount, row.rateBp) };
            })()
          : (() => {
              const amount = rule.amountFen ?? row.refundApplyFen + 1;
              return { ...row, refundFen: amount, refundApplyFen: amount, feeFen: -feeFen(amount, row.rateBp) };
            })();
      return rows.map((r, i) => (i === index ? changed : r));
    }
    case 'REFUND_STATE_CHANGED': {
      const index = pick(rows, rule, 'refund');
      if (index < 0) return undefined;
      const row = rows[index]!;
      const status = rule.refundStatus ?? (row.refundStatus === 'SUCCESS' ? 'REFUNDCLOSE' : 'SUCCESS');
      const { refundSuccessTime: _dropped, ...rest } = row;
      const changed: TradeBillRow = {
        ...rest,
        refundStatus: status,
        ...(status === 'SUCCESS' && row.refundApplyTime !== undefined
          ? { refundSuccessTime: row.refundApplyTime }
          : {}),
      };
      return rows.map((r, i) => (i === index ? changed : r));
    }
    case 'SEPARATOR_IN_NAME': {
      // the merchant's product name as WeChat Pay writes it, unescaped: the row then has one field too many
      const index = pick(rows, rule);
      if (index < 0) return undefined;
      return rows.map((r, i) => (i === index ? { ...r, description: `${r.description},\`大杯` } : r));
    }
    case 'GZIP_TRUNCATED':
      // the rows stand; the room cuts the file's bytes (BillsRoom.buildTradeBill)
      return rows;
    case 'EXTRA_ROW': {
      if (!ctx.withPayments) return undefined;
      const compact = ctx.billDate.replace(/-/g, '');
      const digits = Array.from(randomBytes(10), (b) => b % 10).join('');
      const extra = paymentRow(
        {
          outTradeNo: rule.outTradeNo ?? `EXTRA${compact}${digits.slice(0, 8)}`,
          transactionId: `4200000000${compact}${digits}`,
          appid: ctx.appid,
          mchid: ctx.mchid,
          openid: `oExtra${digits}${digits.slice(0, 6)}`,
          totalFen: rule.amountFen ?? 1,
          successTime: ctx.dayStart + 12 * 3600 * 1000,
          description: '账单多出的交易',
          attach: '',
        },
        ctx.rateBp,
      );
      return [...rows, extra].sort((a, b) => a.time - b.time);
    }
  }
}
