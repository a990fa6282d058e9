/**
 * The books job: one China day's WeChat Pay trade bill against the backend's payments and refunds.
 *
 * 1. The day's books are read in pages (orders paid that day, payments settled that day that no order took, the
 *    refunds created that day and the ten minutes before): one round trip per page of 1000, never one per row.
 * 2. The previous day's bill (ALL, GZIP) is applied for, downloaded with a signed request whose answer is not
 *    verified, gunzipped, SHA1-checked and parsed as it arrives; each row is compared in memory (bill-compare.ts).
 *    STATEMENT_CREATING: retried 30 minutes later; NO_STATEMENT_EXIST: the day has no trades at WeChat Pay, so
 *    everything the books have for it is a difference; an expired link, a digest that does not match or a file cut
 *    short: applied for again, three times a run.
 * 3. Only once the digest matched: rows the books lack are looked up, and a payment WeChat Pay took that is not
 *    settled here is settled through the same query settlement a notification uses (recorded as healed); a refund
 *    whose state the books have not caught up with is queried the same way; what the books have and the bill lacks
 *    is queried too, for the record. Every difference left opens a `bill_difference` exception (one per cause, so a
 *    re-run never duplicates one; a re-run resolves those it no longer finds).
 * 4. The statement (statements.ts) is replaced with both sides' totals and the differences.
 * Inside the function's 60 s: the bill is read at memory speed; lookups, queries and exceptions stop at a budget and
 * at bounded counts, leaving the rest as open differences for a person (or a re-run) to take up.
 *
 * A day too large for one run (more than SLICE_ROWS paid orders) is compared a slice at a time: slices are runs of
 * consecutive order ids (`_id` order), each SLICE_ROWS paid orders of the day, and a bill row belongs to the slice of
 * the order its out_trade_no (`<orderId>P<n>`) names. Each slice loads only its books, streams the whole bill again
 * (digest and summary checked as ever) comparing only its rows, and settles its differences exactly as one whole
 * run does; the statement's cursor (statements.ts) keeps what the slices found, under the lease, so a run stopped by
 * its budget (RUN_BUDGET_MS) or dead mid-slice is taken up by the next timer run. A bill whose digest differs from
 * the one the first slice read starts the day again.
 */
import type { BillDifference, StatementTotals, StatementView } from '../../../../typings/api';
import {
  readBill,
  TradeBillParser,
  WechatPayApiError,
  WechatPayBillError,
  WechatPayNetworkError,
  milliFenToFen,
  type BillReadResult,
  type TradeBillTotals,
} from '../../wechatpay';
import { COLLECTIONS } from '../../store/store';
import { BillComparison, refundMayHeal, refundStateAgrees, type BooksPayments, type BooksRefund } from './bill-compare';
import { addDays, between, chinaDate, chinaDayStart, chinaHour, DAY_MS, monthsBefore, PAGE_SIZE, pages } from '../days';
import type { Deps } from '../deps';
import { DomainError } from '../errors';
import { openException, resolveException } from '../attention/exceptions';
import { rollUpDay, type MetricsDoc } from './metrics';
import { isNotFound } from '../provider-errors';
import type { OrderDoc, PaymentDoc, RefundDoc } from '../records';
import { advanceRefund } from '../money/refunds';
import { queryTransaction, settleByQuery } from '../money/settlement';
import { refundMerchant, subMerchantOf } from '../merchants';
import {
  getStatement,
  leaseStatement,
  saveProgress,
  saveStatement,
  toStatementView,
  type StatementDoc,
} from './statements';
import { watchConditions } from './watch';

/** STATEMENT_CREATING and transient failures are tried again this much later */
export const BILL_RETRY_MS = 30 * 60_000;
/** WeChat Pay generates a day's bill from 09:00 the next day: the snapshot its refund states are from */
const SNAPSHOT_AFTER_MS = DAY_MS + 9 * 3600_000;
/** applications (and downloads) per run: an expired link or a bad digest is applied for again */
const DOWNLOAD_ATTEMPTS = 3;
/** refunds created this long before the day may have been accepted by WeChat Pay on the day */
const REFUND_MARGIN_MS = 10 * 60_000;
const KEEP_DIFFERENCES = 200;
const MAX_EXCEPTIONS = 200;
/** WeChat Pay queries one run may make, and the time after which it makes no more */
const MAX_QUERIES = 100;
const BUDGET_MS = 40_000;
/** paid orders per slice of a day: a day up to this is one slice, compared in one run */
export const SLICE_ROWS = 250_000;
/** a run starts no slice it expects to end after this (the function may run 60 s) */
export const RUN_BUDGET_MS = 45_000;

/** payment states that mean "settled here" */
const SETTLED: readonly PaymentDoc['status'][] = ['success', 'amount_mismatch', 'duplicate'];
/** refund states that mean WeChat Pay accepted it, or may have */
const ACCEPTED: readonly RefundDoc['status'][] = ['unknown', 'processing', 'abnormal', 'success', 'closed'];
/** what settleByQuery answers when it took the payment into the books */
const HEALED = new Set(['paid', 'paid_repaired', 'amount_mismatch', 'duplicate_charge', 'duplicate']);

/** `<orderId>P<n>`: the order a payment's out_trade_no belongs to. */
const orderIdOf = (outTradeNo: string) => /^(.+)P\d+(?:-DUP)?$/.exec(outTradeNo)?.[1];

export interface BooksOfDay {
  payments: BooksPayments;
  refunds: Map<string, BooksRefund>;
  roundTrips: number;
  /** whether a bill row of this order is this slice's (an out_trade_no naming no order: the last slice's) */
  inSlice: (orderId: string | undefined) => boolean;
  /** the slice's last order id; undefined for the day's last slice */
  until?: string;
}

/** One slice of a day: the paid orders after `after` (all of them when `rows` is undefined: the last slice). */
export interface SliceRange {
  after?: string;
  rows?: number;
}

function booksRefund(r: RefundDoc, dayStart: number): BooksRefund {
  return {
    outRefundNo: r._id,
    outTradeNo: r.outTradeNo,
    orderId: r.orderId,
    amountFen: r.amountFen,
    status: r.status,
    createdAt: r.createdAt,
    ...(r.settledAt !== undefined ? { settledAt: r.settledAt } : {}),
    ...(r.abnormalAt !== undefined ? { abnormalAt: r.abnormalAt } : {}),
    ...refundMerchant(r),
    inDay: r.createdAt >= dayStart,
  };
}

/** The day's books (or one slice's), read a page at a time. */
export async function loadBooks(deps: Deps, dayStart: number, slice: SliceRange = {}): Promise<BooksOfDay> {
  const { store } = deps;
  const _ = store.command;
  const dayEnd = dayStart + DAY_MS;
  const payments: BooksPayments = new Map();
  const refunds = new Map<string, BooksRefund>();
  let roundTrips = 0;
  let orders = 0;
  let until: string | undefined;
  // an order's paidAt is WeChat Pay's success time of the payment that paid it
  const paidOnDay = {
    paidAt: between(store, dayStart, dayEnd),
    ...(slice.after !== undefined ? { _id: _.gt(slice.after) } : {}),
  };
  // pages no larger than the slice: a slice ends at its size (at a page's end beyond it when not a multiple)
  const pageSize = Math.min(PAGE_SIZE, slice.rows ?? PAGE_SIZE);
  for await (const page of pages<OrderDoc>(store, COLLECTIONS.orders, paidOnDay, pageSize)) {
    roundTrips += 1;
    for (const order of page) if (order.paidOutTradeNo) payments.set(order.paidOutTradeNo, order.paidFen);
    orders += page.length;
    if (slice.rows !== undefined && orders >= slice.rows) {
      until = page[page.length - 1]!._id;
      break;
    }
  }
  const { after } = slice;
  const inSlice = (orderId: string | undefined) =>
    orderId === undefined
      ? until === undefined
      : (after === undefined || orderId > after) && (until === undefined || orderId <= until);
  // money no order took: a second payment of a paid order, or one in review at another amount
  for await (const page of pages<PaymentDoc>(store, COLLECTIONS.payments, {
    status: _.in(['amount_mismatch', 'duplicate']),
    paidAt: between(store, dayStart, dayEnd),
  })) {
    roundTrips += 1;
    for (const p of page)
      if (!payments.has(p._id) && inSlice(orderIdOf(p._id))) payments.set(p._id, p.paidTotalFen ?? p.amountFen);
  }
  for await (const page of pages<RefundDoc>(store, COLLECTIONS.refunds, {
    status: _.in([...ACCEPTED]),
    createdAt: between(store, dayStart - REFUND_MARGIN_MS, dayEnd),
  })) {
    roundTrips += 1;
    for (const r of page) if (inSlice(orderIdOf(r.outTradeNo))) refunds.set(r._id, booksRefund(r, dayStart));
  }
  return { payments, refunds, roundTrips, inSlice, ...(until !== undefined ? { until } : {}) };
}

type Fetched =
  | { kind: 'bill'; comparison: BillComparison; totals: TradeBillTotals; read: BillReadResult; attempts: number }
  | { kind: 'no_statement'; comparison: BillComparison; attempts: number }
  | { kind: 'creating'; attempts: number }
  | { kind: 'failed'; error: string; retry: boolean; attempts: number; unreadable?: boolean };

/** What a bill file itself is at fault for (not the link, not the network): no new download will read it. */
const UNREADABLE: ReadonlySet<string> = new Set(['MALFORMED', 'SUMMARY_MISMATCH', 'TOO_LARGE']);

const describe = (error: unknown) =>
  error instanceof WechatPayApiError
    ? `${error.status} ${error.code}`
    : error instanceof WechatPayBillError
      ? `${error.reason}: ${error.message}`
      : (error as Error).message;

/** Applies for the day's bill, downloads, checks and compares it; again on an expired link or a bad file. */
export async function fetchAndCompare(
  deps: Deps,
  billDate: string,
  books: BooksOfDay,
  snapshotAt: number,
): Promise<Fetched> {
  const client = deps.pay.client;
  let lastError = '';
  let unreadable = 0;
  for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
    let application;
    try {
      application = await client.applyTradeBill({ bill_date: billDate, bill_type: 'ALL', tar_type: 'GZIP' });
    } catch (error) {
      if (error instanceof WechatPayApiError && error.code === 'STATEMENT_CREATING')
        return { kind: 'creating', attempts: attempt };
      if (error instanceof WechatPayApiError && error.code === 'NO_STATEMENT_EXIST')
        return {
          kind: 'no_statement',
          comparison: new BillComparison(books.payments, books.refunds, snapshotAt),
          attempts: attempt,
        };
      // a refusal of the request itself (PARAM_ERROR: a day WeChat Pay will not serve) does not pass with time
      const final =
        error instanceof WechatPayApiError &&
        error.status >= 400 &&
        error.status < 500 &&
        error.code !== 'FREQUENCY_LIMITED';
      return { kind: 'failed', error: `apply: ${describe(error)}`, retry: !final, attempts: attempt };
    }
    try {
      const download = await client.downloadBill(application.download_url);
      const comparison = new BillComparison(books.payments, books.refunds, snapshotAt);
      // every row counts into the bill's side; only the slice's are compared
      const parser = new TradeBillParser((row) =>
        books.inSlice(orderIdOf(row.outTradeNo)) ? comparison.row(row) : comparison.pass(row),
      );
      const read = await readBill(
        download.body,
        { gzip: true, hashType: application.hash_type, hashValue: application.hash_value },
        (line) => parser.line(line),
      );
      return { kind: 'bill', comparison, totals: parser.finish(), read, attempts: attempt };
    } catch (error) {
      // an expired link (400), a digest that does not match, a file cut short: apply again
      if (!(
        error instanceof WechatPayApiError ||
        error instanceof WechatPayBillError ||
        error instanceof WechatPayNetworkError
      ))
        throw error;
      if (error instanceof WechatPayBillError && UNREADABLE.has(error.reason)) unreadable += 1;
      lastError = `download: ${describe(error)}`;
      deps.log.warn('bill download refused, applying again', { billDate, attempt, error: lastError });
    }
  }
  return {
    kind: 'failed',
    error: lastError,
    retry: true,
    attempts: DOWNLOAD_ATTEMPTS,
    unreadable: unreadable === DOWNLOAD_ATTEMPTS,
  };
}

export interface RunOptions {
  /** who asked: the timer, or an admin's openid */
  by: string;
  /** paid orders per slice (default SLICE_ROWS) */
  sliceRows?: number;
}

/** Checks an admin's or the timer's day: a real date, not after today, within WeChat Pay's three months. */
export function checkBillDate(billDate: string, now: number): number {
  const start = chinaDayStart(billDate);
  if (start === undefined) throw new DomainError('INVALID_ARGUMENT', 'billDate must be a date YYYY-MM-DD', 'billDate');
  const today = chinaDate(now);
  if (billDate > today) throw new DomainError('INVALID_ARGUMENT', '账单日期不能晚于今天', 'billDate');
  if (billDate < monthsBefore(today, 3))
    throw new DomainError('INVALID_ARGUMENT', '微信支付仅提供三个月内的账单', 'billDate');
  return start;
}

/**
 * Compares one day, or its next slices while the run's budget allows, and replaces its statement (or records why it
 * could not yet, or how far it got). CONFLICT when another run holds the day.
 */
export async function runBillDay(deps: Deps, billDate: string, options: RunOptions): Promise<StatementView> {
  const started = deps.clock();
  const dayStart = checkBillDate(billDate, started);
  const previous = await leaseStatement(deps, billDate);
  if (!previous) throw new DomainError('CONFLICT', '该日对账正在进行，请稍后再看');
  let lease = previous.leaseUntil;
  let cursor = previous.cursor;
  let attempts = previous.attempts;
  // what the finished comparison resolves if it no longer finds it: the last statement's, and a restarted cursor's
  let staleIds = previous.exceptionIds ?? [];
  const budget: QueryBudget = { started, queries: 0 };
  let expectedMs = cursor?.sliceMs ?? 0;
  let slicesRun = 0;
  let restarted = false;
  try {
    for (;;) {
      // a slice is started only when it is expected to end within the run's budget (the first always is)
      if (slicesRun > 0 && deps.clock() - started + expectedMs > RUN_BUDGET_MS) {
        await saveStatement(
          deps,
          billDate,
          {
            status: 'comparing',
            progress: { slice: cursor?.slice ?? 0, slices: cursor?.slices ?? 1 },
            cursor,
            exceptionIds: staleIds,
            attempts,
            lastError: undefined,
            nextAttemptAt: deps.clock(),
          },
          lease,
        );
        deps.log.info('books: day in progress', {
          billDate,
          by: options.by,
          slice: cursor?.slice,
          slices: cursor?.slices,
        });
        return toStatementView((await getStatement(deps, billDate))!);
      }
      const sliceStarted = deps.clock();
      // one round trip: how many slices the day has (a day up to sliceRows is one, compared as a whole)
      const sliceRows = cursor?.sliceRows ?? options.sliceRows ?? SLICE_ROWS;
      const slices =
        cursor?.slices ??
        Math.max(
          1,
          Math.ceil(
            (await deps.store.countWhere(COLLECTIONS.orders, {
              paidAt: between(deps.store, dayStart, dayStart + DAY_MS),
            })) / sliceRows,
          ),
        );
      const slice = cursor?.slice ?? 0;
      const books = await loadBooks(deps, dayStart, {
        ...(cursor?.after !== undefined ? { after: cursor.after } : {}),
        ...(slice === slices - 1 ? {} : { rows: sliceRows }),
      });
      // a slice that found fewer orders than a slice holds took the rest of the day: it is the last
      const last = books.until === undefined;
      const fetched = await fetchAndCompare(deps, billDate, books, dayStart + SNAPSHOT_AFTER_MS);
      attempts += fetched.attempts;
      if (fetched.kind === 'creating' || fetched.kind === 'failed') {
        const retry = fetched.kind === 'creating' || fetched.retry;
        const error =
          fetched.kind === 'creating' ? 'STATEMENT_CREATING: WeChat Pay is still generating the bill' : fetched.error;
        // a day already compared keeps its statement: a later run that could not read the bill changes nothing
        const keep = previous.status === 'done' || previous.status === 'no_statement';
        // a file no download could read (a product name holding the bill's separator, a cut gzip) will not read on
        // the retries either: someone has to look now, not at the noon alert. A later run that reads it resolves it
        const unreadable =
          fetched.kind === 'failed' && fetched.unreadable
            ? await openException(deps, {
                kind: 'bill_difference',
                key: `${billDate}|unreadable`,
                detail: `${billDate} unreadable: every download of the bill failed to parse (${error}); the books are not compared`,
              })
            : undefined;
        // the slices done stay in the cursor, taken up once the bill reads again
        await saveStatement(
          deps,
          billDate,
          {
            ...(keep ? {} : { status: fetched.kind }),
            ...(unreadable ? { exceptionIds: [...new Set([...staleIds, unreadable.id])] } : {}),
            attempts,
            lastError: error,
            nextAttemptAt: retry && !keep ? deps.clock() + BILL_RETRY_MS : undefined,
          },
          lease,
        );
        deps.log.info('books: bill not compared', { billDate, error, by: options.by });
        return toStatementView((await getStatement(deps, billDate))!);
      }
      const bill = billTotals(fetched);
      if (
        cursor &&
        (cursor.kind !== fetched.kind || cursor.bill.sha1 !== bill.sha1 || cursor.bill.rows !== bill.rows)
      ) {
        // another file than the slices before read: what they found is of that file, so the day starts again
        deps.log.warn('books: the bill changed between slices, comparing the day again', { billDate, slice });
        staleIds = [...new Set([...staleIds, ...cursor.exceptionIds])];
        cursor = undefined;
        slicesRun += 1;
        // once a run: a file that changes on every download is left to the next run, not read again and again
        if (restarted) expectedMs = RUN_BUDGET_MS;
        restarted = true;
        continue;
      }
      const outcome = await settleDifferences(deps, billDate, fetched.comparison, dayStart, budget);
      const opened = await openExceptions(deps, billDate, outcome.differences, cursor?.exceptionIds.length ?? 0);
      const sliceMs = deps.clock() - sliceStarted;
      slicesRun += 1;
      expectedMs = Math.max(expectedMs, sliceMs);
      const exceptionIds = [...(cursor?.exceptionIds ?? []), ...opened];
      const differences = [...(cursor?.differences ?? []), ...outcome.differences].slice(0, KEEP_DIFFERENCES);
      const differenceCount = (cursor?.differenceCount ?? 0) + outcome.differences.length;
      const healedCount = (cursor?.healedCount ?? 0) + outcome.differences.filter((d) => d.healed).length;
      const booksTotals = cursor ? addTotals(cursor.books, outcome.books) : outcome.books;
      const ms = (cursor?.ms ?? 0) + sliceMs;
      if (!last) {
        cursor = {
          slices,
          slice: slice + 1,
          sliceRows,
          ...(books.until !== undefined ? { after: books.until } : {}),
          kind: fetched.kind,
          bill,
          books: booksTotals,
          differences,
          differenceCount,
          healedCount,
          exceptionIds,
          sliceMs: expectedMs,
          ms,
        };
        const renewed = await saveProgress(deps, billDate, lease, {
          status: 'comparing',
          progress: { slice: slice + 1, slices },
          cursor,
          exceptionIds: staleIds,
          attempts,
          lastError: undefined,
          // due again as soon as the lease lapses: a run that dies in the next slice is taken up from here
          nextAttemptAt: deps.clock(),
        });
        if (renewed === undefined) throw new DomainError('CONFLICT', '该日对账正在进行，请稍后再看');
        lease = renewed;
        continue;
      }
      await resolveStale(deps, billDate, exceptionIds, staleIds);
      const saved = await saveStatement(
        deps,
        billDate,
        {
          status: fetched.kind === 'bill' ? 'done' : 'no_statement',
          progress: undefined,
          cursor: undefined,
          attempts,
          lastError: undefined,
          nextAttemptAt: undefined,
          bill,
          books: booksTotals,
          differences,
          differenceCount,
          healedCount,
          openCount: differenceCount - healedCount,
          exceptionIds,
          runs: previous.runs + 1,
          completedAt: deps.clock(),
          ms,
        },
        lease,
      );
      // a run that outlived its lease writes nothing: the run that took the day over writes its statement
      if (!saved) throw new DomainError('CONFLICT', '该日对账正在进行，请稍后再看');
      deps.log.info('books: day compared', {
        billDate,
        by: options.by,
        rows: bill.rows,
        slices,
        differences: differenceCount,
        healed: healedCount,
        roundTrips: books.roundTrips,
      });
      return toStatementView((await getStatement(deps, billDate))!);
    }
  } catch (error) {
    await saveStatement(deps, billDate, { lastError: describe(error) }, lease).catch(() => undefined);
    throw error;
  }
}

function addTotals(a: StatementTotals, b: StatementTotals): StatementTotals {
  return {
    paymentCount: a.paymentCount + b.paymentCount,
    refundCount: a.refundCount + b.refundCount,
    grossFen: a.grossFen + b.grossFen,
    refundFen: a.refundFen + b.refundFen,
    feeFen: a.feeFen + b.feeFen,
    netFen: a.netFen + b.netFen,
  };
}

function billTotals(fetched: Extract<Fetched, { kind: 'bill' | 'no_statement' }>): NonNullable<StatementView['bill']> {
  const t =
    fetched.kind === 'bill'
      ? fetched.totals
      : {
          count: 0,
          settlementFen: 0,
          refundFen: 0,
          rechargeRefundFen: 0,
          feeMilliFen: 0,
          orderFen: 0,
          refundApplyFen: 0,
        };
  const refundCount = fetched.kind === 'bill' ? fetched.comparison.billRefundRows : 0;
  const feeFen = milliFenToFen(t.feeMilliFen);
  return {
    paymentCount: t.count - refundCount,
    refundCount,
    grossFen: t.orderFen,
    refundFen: t.refundFen,
    feeFen,
    netFen: t.settlementFen - t.refundFen - feeFen,
    settlementFen: t.settlementFen,
    feeMilliFen: t.feeMilliFen,
    rows: t.count,
    sha1: fetched.kind === 'bill' ? fetched.read.sha1 : '',
  };
}

/**
 * After the digest matched: looks up what the bill has and the books lack, heals what a query can heal, and queries
 * what the books have and the bill lacks; returns every difference and the books' totals.
 */
async function settleDifferences(
  deps: Deps,
  billDate: string,
  comparison: BillComparison,
  dayStart: number,
  budget: QueryBudget,
): Promise<{ differences: BillDifference[]; books: StatementTotals }> {
  const { store } = deps;
  const differences: BillDifference[] = [...comparison.differences];
  const mayQuery = () => budget.queries < MAX_QUERIES && deps.clock() - budget.started < BUDGET_MS;
  const snapshotAt = dayStart + SNAPSHOT_AFTER_MS;

  // 1. rows the books do not have under their key. Two rows of one key are both here when neither was matched while
  // streaming: the second is a duplicate row, as when the first had matched
  for (const row of comparison.unmatched) {
    const orderId = orderIdOf(row.outTradeNo);
    const base = { outTradeNo: row.outTradeNo, ...(orderId ? { orderId } : {}) };
    if (row.subject === 'refund' ? comparison.isRefunded(row.outRefundNo!) : comparison.isPaid(row.outTradeNo)) {
      differences.push({ ...BillComparison.duplicateRow(row), ...base });
      continue;
    }
    const amountDiffers = (fen: number): BillDifference => ({
      ...base,
      kind: 'amount_differs',
      subject: 'payment',
      billFen: row.fen,
      booksFen: fen,
      detail: `the bill has ${row.fen} fen, the books ${fen} fen`,
    });
    if (row.subject === 'refund') {
      const refund = await store.getById<RefundDoc>(COLLECTIONS.refunds, row.outRefundNo!);
      if (refund) comparison.matchRefund(row, booksRefund(refund, dayStart));
      else
        differences.push({
          ...base,
          kind: 'missing_here',
          subject: 'refund',
          outRefundNo: row.outRefundNo!,
          billFen: row.fen,
          billState: row.state,
          detail: 'WeChat Pay refunded this; the books have no such refund',
        });
      continue;
    }
    let payment = await store.getById<PaymentDoc>(COLLECTIONS.payments, row.outTradeNo);
    if (payment && SETTLED.includes(payment.status)) {
      // settled here, though not as the day's (its order was paid by another payment, or its time differs)
      const fen = payment.paidTotalFen ?? payment.amountFen;
      comparison.matchPayment(row.outTradeNo, fen, row.rateBp);
      if (fen !== row.fen) differences.push(amountDiffers(fen));
      continue;
    }
    let verdict = 'not queried: the run reached its budget';
    if (mayQuery()) {
      budget.queries += 1;
      verdict = await settleByQuery(deps, row.outTradeNo, 'bill').catch(
        (error: unknown) => `query failed: ${(error as Error).message}`,
      );
    }
    if (HEALED.has(verdict)) {
      payment = await store.getById<PaymentDoc>(COLLECTIONS.payments, row.outTradeNo);
      const fen = payment?.paidTotalFen ?? row.fen;
      comparison.matchPayment(row.outTradeNo, fen, row.rateBp);
      differences.push({
        ...base,
        kind: 'missing_here',
        subject: 'payment',
        billFen: row.fen,
        booksFen: fen,
        detail: 'in the bill, not settled here',
        healed: `settled from WeChat Pay's query (${verdict})`,
      });
      // healed is settled: its row is held to what was settled, exactly as for a payment settled before the bill
      if (fen !== row.fen) differences.push(amountDiffers(fen));
    } else {
      differences.push({
        ...base,
        kind: 'missing_here',
        subject: 'payment',
        billFen: row.fen,
        detail: `in the bill, not settled here; settling by query: ${verdict}`,
      });
    }
  }

  // 2. refunds whose state the books have not caught up with, or that disagree
  for (const { row, books } of comparison.refundStates) {
    const base = {
      subject: 'refund' as const,
      outTradeNo: books.outTradeNo,
      outRefundNo: books.outRefundNo,
      orderId: books.orderId,
      billFen: row.fen,
      booksFen: books.amountFen,
      billState: row.state,
    };
    let now = books;
    let healed: string | undefined;
    if (refundMayHeal(books) && mayQuery()) {
      budget.queries += 1;
      const refund = await store.getById<RefundDoc>(COLLECTIONS.refunds, books.outRefundNo);
      if (refund)
        await advanceRefund(deps, refund).catch((error: unknown) =>
          deps.log.warn('books: refund query failed', { outRefundNo: refund._id, error: (error as Error).message }),
        );
      const after = await store.getById<RefundDoc>(COLLECTIONS.refunds, books.outRefundNo);
      if (after) now = booksRefund(after, dayStart);
      if (now.status !== books.status && refundStateAgrees(row.state, now, snapshotAt))
        healed = `queried WeChat Pay: ${books.status} → ${now.status}`;
    }
    differences.push({
      ...base,
      kind: 'refund_state_differs',
      booksState: now.status,
      detail: `the bill says ${row.state}, the books ${now.status}`,
      ...(healed ? { healed } : {}),
    });
  }

  // 3. what the books have and the bill lacks
  const missing = comparison.missingFromBill();
  for (const [outTradeNo, fen] of missing.payments) {
    let said = '';
    if (mayQuery()) {
      budget.queries += 1;
      said = await queryTransaction(deps, outTradeNo).then(
        (tx) => (tx ? `; WeChat Pay's query says ${tx.trade_state}` : ''),
        (error: unknown) => (isNotFound(error) ? "; WeChat Pay's query says it does not exist" : ''),
      );
    }
    const orderId = orderIdOf(outTradeNo);
    differences.push({
      kind: 'missing_in_bill',
      subject: 'payment',
      outTradeNo,
      ...(orderId ? { orderId } : {}),
      booksFen: fen,
      detail: `settled here, not in WeChat Pay's bill${said}`,
    });
  }
  const unbilled: BooksRefund[] = [];
  for (const refund of missing.refunds) {
    let day: string | undefined;
    let notFound = false;
    if (mayQuery()) {
      budget.queries += 1;
      await deps.pay.client.queryRefund(refund.outRefundNo, subMerchantOf(deps, refund)).then(
        (answer) => void (day = answer.create_time ? chinaDate(Date.parse(answer.create_time)) : undefined),
        (error: unknown) => void (notFound = isNotFound(error)),
      );
    }
    if (day !== undefined && day !== billDate) continue; // accepted on another day: that day's bill has it
    if (day === undefined && !refund.inDay) continue; // created before the day and not shown to be the day's
    if (notFound && refund.status === 'unknown') continue; // never accepted: reconcile submits it again
    unbilled.push(refund);
    differences.push({
      kind: 'missing_in_bill',
      subject: 'refund',
      outTradeNo: refund.outTradeNo,
      outRefundNo: refund.outRefundNo,
      orderId: refund.orderId,
      booksFen: refund.amountFen,
      booksState: refund.status,
      detail: `refunded here (${refund.status}), not in WeChat Pay's bill${notFound ? "; WeChat Pay's query says it does not exist" : ''}`,
    });
  }
  return { differences, books: comparison.booksTotals(unbilled) };
}

/** The WeChat Pay queries a run has made, shared by its slices, and when it started. */
interface QueryBudget {
  started: number;
  queries: number;
}

/** One `bill_difference` exception per difference not healed, beyond the `opened` of the day's slices before. */
async function openExceptions(
  deps: Deps,
  billDate: string,
  differences: BillDifference[],
  openedBefore: number,
): Promise<string[]> {
  const ids: string[] = [];
  let opened = openedBefore;
  for (const d of differences) {
    if (d.healed) continue;
    if (opened >= MAX_EXCEPTIONS) {
      d.detail += ' (no exception opened: too many differences this day)';
      continue;
    }
    opened += 1;
    const key = `${billDate}|${d.kind}|${d.outRefundNo ?? d.outTradeNo}`;
    const { id } = await openException(deps, {
      kind: 'bill_difference',
      key,
      ...(d.orderId ? { orderId: d.orderId } : {}),
      outTradeNo: d.outTradeNo,
      ...(d.outRefundNo ? { outRefundNo: d.outRefundNo } : {}),
      ...(d.booksFen !== undefined ? { expectedFen: d.booksFen } : {}),
      ...(d.billFen !== undefined ? { actualFen: d.billFen } : {}),
      detail: `${billDate} ${d.kind}: ${d.detail}`,
    });
    d.exceptionId = id;
    ids.push(id);
  }
  return ids;
}

/** Resolves the exceptions of the previous comparison (`staleIds`) the day's comparison did not find again. */
async function resolveStale(deps: Deps, billDate: string, ids: string[], staleIds: readonly string[]): Promise<void> {
  const current = new Set(ids);
  for (const id of staleIds) {
    if (current.has(id)) continue;
    await resolveException(deps, id, 'system', {
      action: 'cleared_on_rerun',
      note: `${billDate} compared again: no longer a difference`,
    });
  }
}

/** The day before `now` in China time: the bill WeChat Pay serves from 10:00. */
export const previousDay = (now: number) => addDays(chinaDate(now), -1);

/** Whether the timer should run the day now: never compared, or waiting for a retry that is due. */
export function billDayDue(statement: StatementDoc | undefined, now: number): boolean {
  if (!statement) return true;
  if (statement.status === 'done' || statement.status === 'no_statement') return false;
  return statement.nextAttemptAt !== undefined && statement.nextAttemptAt <= now && statement.leaseUntil <= now;
}

export interface BooksTimerSummary {
  billDate: string;
  /** what the bill step did: ran (the statement's status after), skipped (before 10:00, or nothing due), busy */
  bill: StatementView['status'] | 'skipped' | 'busy' | 'error';
  metrics: 'rolled_up' | 'fresh' | 'deferred';
  alerts: string[];
}

/**
 * The books timer (every 10 minutes): from 10:00 China time, yesterday's bill until it is compared (retrying every
 * 30 minutes while WeChat Pay is still making it); then the watched conditions; then yesterday's metrics, rolled up
 * again whenever its statement changed since (not in a run that already compared a bill: the next run does it).
 */
export async function booksTimer(deps: Deps): Promise<BooksTimerSummary> {
  const now = deps.clock();
  const billDate = previousDay(now);
  const summary: BooksTimerSummary = { billDate, bill: 'skipped', metrics: 'fresh', alerts: [] };
  let statement = await getStatement(deps, billDate);
  if (chinaHour(now) >= 10 && billDayDue(statement, now)) {
    try {
      summary.bill = (await runBillDay(deps, billDate, { by: 'timer' })).status;
    } catch (error) {
      summary.bill = error instanceof DomainError && error.code === 'CONFLICT' ? 'busy' : 'error';
      deps.log.error('books: the bill day failed', { billDate, error: (error as Error).message });
    }
    statement = await getStatement(deps, billDate);
  }
  summary.alerts = await watchConditions(deps, billDate);
  const metrics = await deps.store.getById<MetricsDoc>(COLLECTIONS.metrics, billDate);
  const stale = !metrics || (statement !== undefined && statement.updatedAt > metrics.rolledUpAt);
  // a run that compared a bill has spent its time: the next run rolls up
  const compared = summary.bill === 'done' || summary.bill === 'no_statement';
  if (stale && !compared) {
    await rollUpDay(deps, billDate, chinaDayStart(billDate)!);
    summary.metrics = 'rolled_up';
  } else if (stale) summary.metrics = 'deferred';
  deps.log.info('books timer', { ...summary });
  return summary;
}
