/**
 * The daily roll-up: one `metrics/<YYYY-MM-DD>` document per China day, computed by the books timer from the
 * collections themselves (nothing is counted on the notification's path; a payment's `settledVia` is written in the
 * same compare-and-set that settles it). Counts are one `count()` each; only the day's payments are read, a page at a
 * time, for the prepay-to-paid times. A re-roll replaces the document.
 */
import { EXCEPTION_KINDS, type DailyMetrics, type ExceptionKind, type RefundStatus } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { between, DAY_MS, pages } from '../days';
import type { Deps } from '../deps';
import type { OrderDoc, PaymentDoc, SettledVia } from '../records';
import { REFUND_STATES } from '../money/refund-table';
import type { StatementDoc } from './statements';

export type MetricsDoc = Omit<DailyMetrics, 'date'> & { _id: string };

/** upper bounds of the prepay-to-paid buckets, in seconds (the last bucket is everything beyond) */
export const PAID_BUCKETS_SECONDS: readonly number[] = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/**
 * Every verdict the notification log records (notify.ts: settlement's and the refund table's verdicts, the refusals
 * before acting, and `rejected:<reason>` for deliveries that failed verification or decryption). Any other verdict
 * is counted as `other`.
 */
export const NOTIFICATION_VERDICTS: readonly string[] = [
  'paid',
  'paid_repaired',
  'duplicate',
  'duplicate_charge',
  'amount_mismatch',
  'merchant_mismatch',
  'payment_mismatch',
  'transaction_reused',
  'unknown_payment',
  'not_paid',
  'closed',
  'settled',
  'moved',
  'unknown_refund',
  'refund_mismatch',
  'event_state_mismatch',
  'ignored_event_type',
  'error',
  ...[
    'MISSING_HEADER',
    'MALFORMED_HEADER',
    'SIGNTEST_PROBE',
    'UNKNOWN_SERIAL',
    'STALE_TIMESTAMP',
    'BAD_SIGNATURE',
    'DECRYPT_BAD_KEY',
    'DECRYPT_BAD_INPUT',
    'DECRYPT_AUTHENTICATION_FAILED',
    'MALFORMED',
  ].map((reason) => `rejected:${reason}`),
];

const OPEN_REFUNDS: readonly RefundStatus[] = ['queued', 'unknown', 'processing', 'abnormal'];

/** p-th percentile (0-100) as the upper bound of the bucket it falls in; null when beyond the last bound or no data. */
function percentile(counts: readonly number[], total: number, p: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil((total * p) / 100);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return PAID_BUCKETS_SECONDS[i] ?? null;
  }
  return null;
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

/**
 * The fulfilment of the orders paid that day (read a page at a time, as the day's payments are): how many reached each
 * step by roll-up time, the median seconds from paid to accepted and from paid to done (handed over, shipped, completed);
 * and the shipping uploads pending and failed at roll-up time.
 */
async function fulfilmentOfDay(deps: Deps, day: () => unknown): Promise<NonNullable<DailyMetrics['fulfilment']>> {
  const { store } = deps;
  const reached = { accepted: 0, ready: 0, handedOver: 0, shipped: 0, completed: 0 };
  const toAccept: number[] = [];
  const toComplete: number[] = [];
  for await (const page of pages<OrderDoc>(store, COLLECTIONS.orders, { paidAt: day() })) {
    for (const order of page) {
      const steps = order.fulfilment?.steps ?? [];
      const at = (state: string) => steps.find((s) => s.state === state)?.at;
      const paidAt = order.paidAt!;
      const accepted = at('accepted');
      const done = at('picked_up') ?? at('shipped') ?? at('completed');
      if (accepted !== undefined) {
        reached.accepted += 1;
        toAccept.push(Math.round((accepted - paidAt) / 1000));
      }
      if (at('ready') !== undefined) reached.ready += 1;
      if (at('picked_up') !== undefined) reached.handedOver += 1;
      if (at('shipped') !== undefined) reached.shipped += 1;
      if (at('completed') !== undefined) reached.completed += 1;
      if (done !== undefined) toComplete.push(Math.round((done - paidAt) / 1000));
    }
  }
  const [uploadsPending, uploadsFailed] = await Promise.all([
    store.countWhere(COLLECTIONS.orders, { 'wxShipping.status': 'pending' }),
    store.countWhere(COLLECTIONS.orders, { 'wxShipping.status': 'failed' }),
  ]);
  return {
    ...reached,
    medianSecondsToAccept: median(toAccept),
    medianSecondsToComplete: median(toComplete),
    uploadsPending,
    uploadsFailed,
  };
}

/** Rolls up one China day (`dayStart` its 00:00 +08:00) and stores it. */
export async function rollUpDay(deps: Deps, date: string, dayStart: number): Promise<DailyMetrics> {
  const { store } = deps;
  const _ = store.command;
  const day = () => between(store, dayStart, dayStart + DAY_MS);
  const count = (collection: Parameters<typeof store.countWhere>[0], where: Record<string, unknown>) =>
    store.countWhere(collection, where);
  const now = deps.clock();

  const [created, paid, expired, cancelled] = await Promise.all([
    count(COLLECTIONS.orders, { createdAt: day() }),
    count(COLLECTIONS.orders, { paidAt: day() }),
    count(COLLECTIONS.orders, { createdAt: day(), status: 'closed' }),
    count(COLLECTIONS.orders, { createdAt: day(), status: 'cancelled' }),
  ]);

  const paidBy: DailyMetrics['paidBy'] = { notification: 0, query: 0, reconcile: 0, bill: 0, unknown: 0 };
  const buckets = new Array<number>(PAID_BUCKETS_SECONDS.length + 1).fill(0);
  let paidCount = 0;
  for await (const page of pages<PaymentDoc>(store, COLLECTIONS.payments, { paidAt: day() })) {
    for (const p of page) {
      paidCount += 1;
      const via: SettledVia | 'unknown' = p.settledVia ?? 'unknown';
      paidBy[via] += 1;
      const seconds = Math.max(0, (p.paidAt! - p.createdAt) / 1000);
      const index = PAID_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
      buckets[index < 0 ? PAID_BUCKETS_SECONDS.length : index]! += 1;
    }
  }

  const verdictCounts = await Promise.all(
    NOTIFICATION_VERDICTS.map((verdict) => count(COLLECTIONS.notifications, { receivedAt: day(), verdict })),
  );
  const notificationsTotal = await count(COLLECTIONS.notifications, { receivedAt: day() });
  const byVerdict: Record<string, number> = {};
  NOTIFICATION_VERDICTS.forEach((verdict, i) => {
    if (verdictCounts[i]! > 0) byVerdict[verdict] = verdictCounts[i]!;
  });
  const known = verdictCounts.reduce((a, b) => a + b, 0);
  if (notificationsTotal > known) byVerdict.other = notificationsTotal - known;

  const refundCounts = await Promise.all(
    REFUND_STATES.map((status) => count(COLLECTIONS.refunds, { createdAt: day(), status })),
  );
  const byStatus = Object.fromEntries(REFUND_STATES.map((s, i) => [s, refundCounts[i]!])) as Record<
    RefundStatus,
    number
  >;
  const [openOver5Minutes, openOver3Days] = await Promise.all([
    count(COLLECTIONS.refunds, { status: _.in([...OPEN_REFUNDS]), createdAt: _.lte(now - 5 * 60_000) }),
    count(COLLECTIONS.refunds, { status: _.in([...OPEN_REFUNDS]), createdAt: _.lte(now - 3 * DAY_MS) }),
  ]);

  const exceptionCounts = await Promise.all(
    EXCEPTION_KINDS.map((kind) => count(COLLECTIONS.exceptions, { status: 'open', kind })),
  );
  const exceptionsOpen = Object.fromEntries(EXCEPTION_KINDS.map((k, i) => [k, exceptionCounts[i]!])) as Record<
    ExceptionKind,
    number
  >;

  const fulfilment = await fulfilmentOfDay(deps, day);
  const statement = await store.getById<StatementDoc>(COLLECTIONS.statements, date);
  const metrics: MetricsDoc = {
    _id: date,
    rolledUpAt: now,
    orders: { created, paid, expired, cancelled },
    paidBy,
    prepayToPaid: {
      count: paidCount,
      buckets: buckets.map((n, i) => ({ leSeconds: PAID_BUCKETS_SECONDS[i] ?? null, count: n })),
      p50Seconds: percentile(buckets, paidCount, 50),
      p90Seconds: percentile(buckets, paidCount, 90),
    },
    notifications: { total: notificationsTotal, byVerdict },
    refunds: { created: refundCounts.reduce((a, b) => a + b, 0), byStatus, openOver5Minutes, openOver3Days },
    exceptionsOpen,
    bill: statement
      ? {
          status: statement.status,
          differences: statement.differenceCount,
          healed: statement.healedCount,
          open: statement.openCount,
        }
      : { status: 'none', differences: 0, healed: 0, open: 0 },
    fulfilment,
  };
  const { _id, ...fields } = metrics;
  if ((await store.insert(COLLECTIONS.metrics, metrics)) === 'exists') {
    await store.updateWhere(
      COLLECTIONS.metrics,
      { _id },
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'object' ? _.set(v) : v])),
    );
  }
  return toMetricsView(metrics);
}

export function toMetricsView(doc: MetricsDoc): DailyMetrics {
  const { _id, ...rest } = doc;
  return { date: _id, ...rest };
}
