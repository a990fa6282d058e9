/**
 * books: the daily bill statements (WeChat Pay's trade bill against the books), the daily metrics and the alerts
 * subscription. The books function is a timer; these are the admin function's actions on what it keeps.
 */
import type { Fen } from '../money';
import type { ExceptionKind, RefundStatus } from './shapes';

/** One way a day's WeChat Pay trade bill and the backend's books disagree. */
export type BillDifferenceKind =
  /** in the bill, not settled here (healed by querying WeChat Pay and settling, when it can be) */
  | 'missing_here'
  /** settled here, not in the bill */
  | 'missing_in_bill'
  /** both have it, at different amounts */
  | 'amount_differs'
  /** both have the refund, in states that cannot both be true */
  | 'refund_state_differs'
  /** the bill lists the same payment or refund twice */
  | 'duplicate_row';

export interface BillDifference {
  kind: BillDifferenceKind;
  subject: 'payment' | 'refund';
  outTradeNo: string;
  outRefundNo?: string;
  orderId?: string;
  billFen?: Fen;
  booksFen?: Fen;
  billState?: string;
  booksState?: string;
  detail: string;
  /** how the job healed it; absent when a person must look (then `exceptionId` names the exception) */
  healed?: string;
  exceptionId?: string;
}

/** Counts and totals of one side of a day. Net is gross − refunds − fees. */
export interface StatementTotals {
  paymentCount: number;
  refundCount: number;
  grossFen: Fen;
  refundFen: Fen;
  /** WeChat Pay's fees; on the books' side what the bill's rate makes of the books' amounts */
  feeFen: number;
  netFen: number;
}

export type StatementStatus = 'creating' | 'comparing' | 'no_statement' | 'done' | 'failed';

export interface StatementView {
  billDate: string;
  /** creating: WeChat Pay is still making the bill (retried every 30 minutes); comparing: a day too large for one run,
   * compared a slice at a time over several timer runs (`progress`); no_statement: no trades at WeChat Pay that day */
  status: StatementStatus;
  /** while comparing: slices compared of the day's slices (the totals and differences appear once all are) */
  progress?: { slice: number; slices: number };
  attempts: number;
  nextAttemptAt?: number;
  lastError?: string;
  /** the bill's side, from its rows (its summary row agreed); absent until a bill was read */
  bill?: StatementTotals & { settlementFen: Fen; feeMilliFen: number; rows: number; sha1: string };
  books?: StatementTotals;
  /** at most 200 are kept; the counts cover all */
  differences: BillDifference[];
  differenceCount: number;
  healedCount: number;
  openCount: number;
  /** how many times the day was compared (a re-run replaces the statement) */
  runs: number;
  updatedAt: number;
  completedAt?: number;
  ms?: number;
}

/** One day's payment figures, rolled up from the collections by the books timer. */
export interface DailyMetrics {
  date: string;
  rolledUpAt: number;
  /** orders created that day, by what became of them; paid: orders whose payment succeeded that day */
  orders: { created: number; paid: number; expired: number; cancelled: number };
  /** payments that succeeded that day, by what settled them here */
  paidBy: { notification: number; query: number; reconcile: number; bill: number; unknown: number };
  /** from the payment's prepay to WeChat Pay's success time: counts per bucket (upper bound in seconds, null: beyond) */
  prepayToPaid: {
    count: number;
    buckets: { leSeconds: number | null; count: number }[];
    p50Seconds: number | null;
    p90Seconds: number | null;
  };
  /** notification deliveries received that day, by the verdict logged */
  notifications: { total: number; byVerdict: Record<string, number> };
  /** refunds created that day by their state now; and, at roll-up time, refunds not final after 5 minutes and after 3 days */
  refunds: { created: number; byStatus: Record<RefundStatus, number>; openOver5Minutes: number; openOver3Days: number };
  /** exceptions open at roll-up time, by kind */
  exceptionsOpen: Record<ExceptionKind, number>;
  /** the day's statement */
  bill: { status: StatementStatus | 'none'; differences: number; healed: number; open: number };
  /** the orders paid that day: how many reached each fulfilment step by roll-up time, and the medians from paid to
   * accepted and from paid to done (handed over, shipped, completed); uploads pending and failed at roll-up time
   * (absent on days rolled up before fulfilment existed) */
  fulfilment?: {
    accepted: number;
    ready: number;
    handedOver: number;
    shipped: number;
    completed: number;
    /** from paid to accepted, and from paid to handed over / received / completed */
    medianSecondsToAccept: number | null;
    medianSecondsToComplete: number | null;
    uploadsPending: number;
    uploadsFailed: number;
  };
}

export interface GetStatementRequest {
  billDate: string;
}
export interface ListStatementsRequest {
  /** where the page starts: the `nextCursor` of the page before; absent: the first page */
  cursor?: string;
  pageSize?: number;
}
export interface ListStatementsResponse {
  statements: StatementView[];
  hasMore: boolean;
  /** the next page's `cursor`, when `hasMore` */
  nextCursor?: string;
}
/** Compares a past day now (WeChat Pay keeps bills three months), replacing its statement. */
export interface RunBillDayRequest {
  billDate: string;
}
/** The last `days` days' metrics (at most 30), newest first. */
export interface ListMetricsRequest {
  days?: number;
}
export interface ListMetricsResponse {
  metrics: DailyMetrics[];
}
/** The admin accepted `accepted` alert subscribe messages (wx.requestSubscribeMessage): each allows one alert. */
export interface SubscribeAlertsRequest {
  accepted: number;
}
export interface SubscribeAlertsResponse {
  credits: number;
}
