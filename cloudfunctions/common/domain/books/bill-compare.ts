/**
 * Comparing one day's trade bill with the books, in memory, one bill row at a time (no round trip per row). The
 * books of the day are loaded first (books.ts): what was paid that day keyed by out_trade_no, the day's refunds
 * keyed by out_refund_no. Each row is matched by its key; what matches is compared at once (amounts, refund
 * states); what does not is kept aside for books.ts to look up, heal or report after the bill's digest was checked.
 *
 * Refund states. The bill is a snapshot taken when WeChat Pay generates it (09:00 the next day: "出账后退款状态
 * 不会更新"), so a refund the bill shows PROCESSING may well have finished since, and one it shows CHANGE (abnormal)
 * may since have been paid out or closed. A state difference is one that cannot be explained by time: the books
 * show an outcome reached before the snapshot that the bill does not, or the bill shows an outcome the books do not
 * have (then a query by out_refund_no can heal it, when the books' refund is still open).
 */
import type { BillDifference, StatementTotals } from '../../../../typings/api';
import type { TradeBillRow } from '../../wechatpay';
import type { RefundState } from '../money/refund-table';

/**
 * What the books paid that day, keyed by out_trade_no: amount in fen. While a bill is compared, a payment the bill
 * has is marked in place (stored as `-(amount + 1)`), so matching keeps no second copy of 100,000 keys.
 */
export type BooksPayments = Map<string, number>;

const matched = (fen: number) => -fen - 1;
const amountOf = (stored: number) => (stored < 0 ? -stored - 1 : stored);

/**
 * A copy of a string cut from the bill. A key sliced from a line can keep the whole 64 KB chunk it came from alive;
 * what the comparison keeps beyond a row (rows aside, differences) is copied first.
 */
const own = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

export interface BooksRefund {
  outRefundNo: string;
  outTradeNo: string;
  orderId: string;
  amountFen: number;
  status: RefundState;
  createdAt: number;
  /** when it reached success, closed or failed here */
  settledAt?: number;
  /** when WeChat Pay first said ABNORMAL */
  abnormalAt?: number;
  /** created here within the bill's day (a refund created just before midnight may be the next day's) */
  inDay: boolean;
  /** partner mode: the sub-merchant whose refund it is */
  subMchid?: string;
}

/** A bill row the books do not have under its key: looked up (and perhaps healed) after the digest was checked. */
export interface UnmatchedRow {
  subject: 'payment' | 'refund';
  outTradeNo: string;
  outRefundNo?: string;
  fen: number;
  state: string;
  transactionId: string;
  rateBp: number | undefined;
}

/** The bill's 退款状态 → the books' refund states it agrees with, before and after the snapshot. */
const FINAL_AT_SNAPSHOT: Readonly<Record<string, readonly RefundState[]>> = {
  SUCCESS: ['success'],
  REFUNDCLOSE: ['closed', 'failed'],
  CHANGE: ['abnormal'],
  PROCESSING: ['processing', 'unknown', 'queued'],
};
/** States the books' refund may still leave: a query can bring it to the bill's outcome. */
const OPEN: ReadonlySet<RefundState> = new Set(['queued', 'unknown', 'processing', 'abnormal']);

/**
 * Whether the books' refund agrees with the bill's state, given the bill's snapshot time. A refund the bill shows
 * PROCESSING or CHANGE that the books finished (or found abnormal) after the snapshot agrees; one finished before it
 * does not (the bill would show it).
 */
export function refundStateAgrees(
  billState: string,
  books: Pick<BooksRefund, 'status' | 'settledAt' | 'abnormalAt'>,
  snapshotAt: number,
): boolean {
  if (FINAL_AT_SNAPSHOT[billState]?.includes(books.status)) return true;
  const movedAfterSnapshot =
    books.status === 'success' || books.status === 'closed' || books.status === 'failed'
      ? (books.settledAt ?? 0) > snapshotAt
      : books.status === 'abnormal'
        ? (books.abnormalAt ?? 0) > snapshotAt
        : false;
  if (billState === 'PROCESSING') return movedAfterSnapshot;
  if (billState === 'CHANGE') return movedAfterSnapshot && books.status !== 'failed';
  return false;
}

/** Whether a query might bring the books' refund to the bill's state. */
export function refundMayHeal(books: Pick<BooksRefund, 'status'>): boolean {
  return OPEN.has(books.status);
}

/** amount × rate rounded half up to the fen, as WeChat Pay rounds each row's fee (integers only). */
export function feeAt(amountFen: number, rateBp: number): number {
  // split at 10,000 so no product passes 2^53: amount × rate = whole × rate × 10,000 + part × rate
  const part = amountFen % 10000;
  const whole = (amountFen - part) / 10000;
  const scaled = part * rateBp + 5000;
  return whole * rateBp + (scaled - (scaled % 10000)) / 10000;
}

export class BillComparison {
  /** matched differences (amounts, refund states, duplicate rows) */
  readonly differences: BillDifference[] = [];
  /** refunds whose state differs but may be healed by a query: books.ts queries, then decides */
  readonly refundStates: { row: UnmatchedRow; books: BooksRefund }[] = [];
  readonly unmatched: UnmatchedRow[] = [];
  /** payments matched that the books did not file under the day (found by a lookup): few */
  private readonly paidElsewhere = new Set<string>();
  private readonly refunded = new Set<string>();
  /** the books' side of what was matched so far, beyond the books' own payments */
  private booksFee = 0;
  private extraPayments = { count: 0, fen: 0 };
  private matchedRefunds = { count: 0, fen: 0 };
  /** the rate the bill used most recently: for books entries the bill lacks */
  rateBp: number | undefined;
  /** refund rows read */
  billRefundRows = 0;

  constructor(
    private readonly payments: BooksPayments,
    private readonly refunds: Map<string, BooksRefund>,
    private readonly snapshotAt: number,
  ) {
    // a comparison starts from no row matched (a download tried before may have marked some)
    for (const [key, stored] of payments) if (stored < 0) payments.set(key, amountOf(stored));
  }

  /** Whether a payment row of this out_trade_no was matched already (a second one is a duplicate row). */
  isPaid(key: string): boolean {
    return (this.payments.get(key) ?? 0) < 0 || this.paidElsewhere.has(key);
  }

  /** Whether a refund row of this out_refund_no was matched already. */
  isRefunded(key: string): boolean {
    return this.refunded.has(key);
  }

  /** The difference a second row of one payment or refund makes (the statement counts it once). */
  static duplicateRow(row: Pick<UnmatchedRow, 'subject' | 'outTradeNo' | 'outRefundNo' | 'fen'>): BillDifference {
    return {
      kind: 'duplicate_row',
      subject: row.subject,
      outTradeNo: row.outTradeNo,
      ...(row.outRefundNo !== undefined ? { outRefundNo: row.outRefundNo } : {}),
      billFen: row.fen,
      detail: `the bill lists this ${row.subject} more than once`,
    };
  }

  /** A row of another slice of the day (books.ts): counted into the bill's side only, compared by its own slice. */
  pass(row: TradeBillRow): void {
    if (row.rateBp !== undefined) this.rateBp = row.rateBp;
    if (row.kind === 'refund') this.billRefundRows += 1;
  }

  row(row: TradeBillRow): void {
    if (row.rateBp !== undefined) this.rateBp = row.rateBp;
    if (row.kind === 'refund') return this.refundRow(row);
    const key = row.outTradeNo;
    if (this.isPaid(key)) {
      this.differences.push(
        BillComparison.duplicateRow({ subject: 'payment', outTradeNo: own(key), fen: row.orderFen }),
      );
      return;
    }
    const booksFen = this.payments.get(key);
    if (booksFen === undefined) {
      this.unmatched.push({
        subject: 'payment',
        outTradeNo: own(key),
        fen: row.orderFen,
        state: own(row.tradeState),
        transactionId: own(row.transactionId),
        rateBp: row.rateBp,
      });
      return;
    }
    // marked in place: the Map keeps its own key, not the one cut from the bill
    this.payments.set(key, matched(booksFen));
    this.booksFee += feeAt(booksFen, row.rateBp ?? 0);
    if (booksFen !== row.orderFen) {
      this.differences.push({
        kind: 'amount_differs',
        subject: 'payment',
        outTradeNo: own(key),
        billFen: row.orderFen,
        booksFen,
        detail: `the bill has ${row.orderFen} fen, the books ${booksFen} fen`,
      });
    }
  }

  private refundRow(row: TradeBillRow): void {
    this.billRefundRows += 1;
    const key = own(row.outRefundNo);
    const unmatched: UnmatchedRow = {
      subject: 'refund',
      outTradeNo: own(row.outTradeNo),
      outRefundNo: key,
      fen: row.refundFen,
      state: own(row.refundStatus),
      transactionId: own(row.transactionId),
      rateBp: row.rateBp,
    };
    if (this.refunded.has(key)) {
      this.differences.push(BillComparison.duplicateRow(unmatched));
      return;
    }
    const books = this.refunds.get(key);
    if (!books) {
      this.unmatched.push(unmatched);
      return;
    }
    this.matchRefund(unmatched, books);
  }

  /** Compares a refund row with the books' refund (also for one books.ts found by looking it up). */
  matchRefund(row: UnmatchedRow, books: BooksRefund): void {
    const key = row.outRefundNo!;
    this.refunded.add(key);
    this.booksFee -= feeAt(books.amountFen, row.rateBp ?? 0);
    this.matchedRefunds.count += 1;
    this.matchedRefunds.fen += books.amountFen;
    const base = { subject: 'refund' as const, outTradeNo: books.outTradeNo, outRefundNo: key, orderId: books.orderId };
    if (books.amountFen !== row.fen) {
      this.differences.push({
        ...base,
        kind: 'amount_differs',
        billFen: row.fen,
        booksFen: books.amountFen,
        detail: `the bill refunds ${row.fen} fen, the books ${books.amountFen} fen`,
      });
    }
    if (!refundStateAgrees(row.state, books, this.snapshotAt)) this.refundStates.push({ row, books });
  }

  /** Counts a payment books.ts found (or healed) for an unmatched row as the books'. */
  matchPayment(outTradeNo: string, booksFen: number, rateBp: number | undefined): void {
    this.paidElsewhere.add(outTradeNo);
    this.booksFee += feeAt(booksFen, rateBp ?? 0);
    this.extraPayments.count += 1;
    this.extraPayments.fen += booksFen;
  }

  /** The books' payments and refunds of the day the bill does not have. */
  missingFromBill(): { payments: [string, number][]; refunds: BooksRefund[] } {
    const payments = [...this.payments].filter(([, stored]) => stored >= 0);
    const refunds = [...this.refunds.values()].filter((r) => !this.refunded.has(r.outRefundNo));
    return { payments, refunds };
  }

  /**
   * The books' totals for the day: every payment of the books (matched or not) plus those found or healed for bill
   * rows, and the refunds matched plus those of the day the bill lacks (`unbilledRefunds`). Fees: the bill's rate on
   * the books' amounts (an entry the bill lacks at the bill's last rate).
   */
  booksTotals(unbilledRefunds: readonly BooksRefund[]): StatementTotals {
    let grossFen = this.extraPayments.fen;
    let fee = this.booksFee;
    const rate = this.rateBp ?? 0;
    for (const stored of this.payments.values()) {
      grossFen += amountOf(stored);
      if (stored >= 0) fee += feeAt(stored, rate);
    }
    let { count: refundCount, fen: refundFen } = this.matchedRefunds;
    for (const r of unbilledRefunds) {
      refundFen += r.amountFen;
      refundCount += 1;
      fee -= feeAt(r.amountFen, rate);
    }
    return {
      paymentCount: this.payments.size + this.extraPayments.count,
      refundCount,
      grossFen,
      refundFen,
      feeFen: fee,
      netFen: grossFen - refundFen - fee,
    };
  }
}
