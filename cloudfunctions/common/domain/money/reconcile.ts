/**
 * Reconciliation, run by a timer: a lost notification never leaves money in the wrong state.
 * 1. open refunds (queued, unknown, processing, abnormal) whose next look is due: submitted, or queried and settled —
 *    first, so a backlog of payments can never starve them;
 * 2. expired unpaid orders (an unpaid order's next check is its expiry) are closed (their payment closed at WeChat Pay first; one paid meanwhile is settled);
 * 3. payments still unsettled whose next check is due are queried and settled;
 * 4. refunding orders whose next check is due: a reservation whose refund was never recorded (a crash between the two
 *    writes) gets its refund recorded from the intent the reservation keeps, for step 1 to submit.
 * Inside the platform's 60-second limit: no new item starts after TIME_BUDGET_MS, and at most `maxCalls` WeChat Pay
 * calls are made per run. An item handled with no result, or that failed, moves behind the others (its next look is
 * pushed back with a growing backoff), so one bad item cannot hold the queue. Every transition is a compare-and-set,
 * so two runs at once do no harm.
 */
import { COLLECTIONS } from '../../store/store';
import type { Deps } from '../deps';
import { refundMerchant } from '../merchants';
import type { OrderDoc, PaymentDoc, RefundDoc } from '../records';
import { endUnpaidOrder } from './payments';
import { OPEN_REFUND_STATES } from './refund-table';
import { advanceRefund, recordRefund } from './refunds';
import { settleByQuery } from './settlement';
import { sweepRateWindows } from '../rate-limit';

export interface ReconcileSummary {
  refundsChecked: number;
  refundsSettled: number;
  expiredClosed: number;
  expiredFoundPaid: number;
  paymentsChecked: number;
  paymentsSettled: number;
  orphanReservationsRecorded: number;
  wechatPayCalls: number;
  rateWindowsRemoved: number;
  errors: number;
  stoppedEarly: boolean;
}

export const TIME_BUDGET_MS = 40_000;
const MAX_PAGES = 10;

/** Backoff for an unsettled payment's next query: the stuck time, doubling per check, capped at an hour. */
const paymentBackoffMs = (stuckMs: number, checks: number) => Math.min(3600_000, stuckMs * 2 ** Math.min(checks, 10));

export async function reconcile(deps: Deps, options: { maxCalls?: number } = {}): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = {
    refundsChecked: 0,
    refundsSettled: 0,
    expiredClosed: 0,
    expiredFoundPaid: 0,
    paymentsChecked: 0,
    paymentsSettled: 0,
    orphanReservationsRecorded: 0,
    wechatPayCalls: 0,
    rateWindowsRemoved: 0,
    errors: 0,
    stoppedEarly: false,
  };
  const started = deps.clock();
  const { store, config } = deps;
  const _ = store.command;
  const batch = config.reconcileBatchSize;
  const maxCalls = options.maxCalls ?? config.reconcileMaxCalls;
  const stuckMs = config.reconcileStuckMinutes * 60_000;

  // every WeChat Pay call of this run goes through a counter, so the run can stop at its budget
  const client = deps.pay.client;
  const counted = new Proxy(client, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        summary.wechatPayCalls += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const run: Deps = { ...deps, pay: { ...deps.pay, client: counted } };
  const outOfBudget = () => deps.clock() - started >= TIME_BUDGET_MS || summary.wechatPayCalls >= maxCalls;

  /**
   * Handles what `find` returns, page after page: handled documents drop out of the query (their next look moves
   * into the future), so the query is simply run again; each document is handled once per run.
   */
  const sweep = async <T extends { _id: string }>(
    what: string,
    find: () => Promise<T[]>,
    handle: (doc: T) => Promise<void>,
    onError: (doc: T) => Promise<void>,
  ) => {
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const found = await find();
      const fresh = found.filter((doc) => !seen.has(doc._id));
      for (const doc of fresh) {
        if (outOfBudget()) {
          summary.stoppedEarly = true;
          return;
        }
        seen.add(doc._id);
        try {
          await handle(doc);
        } catch (error) {
          summary.errors += 1;
          deps.log.warn(`reconcile: ${what} failed`, { id: doc._id, error: (error as Error).message });
          await onError(doc).catch(() => undefined);
        }
      }
      if (found.length < batch || fresh.length === 0) return;
    }
  };

  // 1. open refunds
  await sweep(
    'advancing a refund',
    () =>
      store.find<RefundDoc>(
        COLLECTIONS.refunds,
        { status: _.in([...OPEN_REFUND_STATES]), nextAttemptAt: _.lte(deps.clock()) },
        { orderBy: [['nextAttemptAt', 'asc']], limit: batch },
      ),
    async (refund) => {
      summary.refundsChecked += 1;
      const verdict = await advanceRefund(run, refund);
      if (verdict === 'settled' || verdict === 'moved' || verdict === 'submitted') summary.refundsSettled += 1;
    },
    async (refund) => {
      await store.updateWhere(
        COLLECTIONS.refunds,
        { _id: refund._id, nextAttemptAt: refund.nextAttemptAt },
        { nextAttemptAt: deps.clock() + 60_000 * 2 ** Math.min(refund.attempts, 10), attempts: _.inc(1) },
      );
    },
  );

  // 2. expired unpaid orders
  await sweep(
    'closing an expired order',
    () =>
      store.find<OrderDoc>(
        COLLECTIONS.orders,
        { status: 'pending_payment', nextCheckAt: _.lte(deps.clock()) },
        { orderBy: [['nextCheckAt', 'asc']], limit: batch },
      ),
    async (order) => {
      if (order.expiresAt > deps.clock()) return; // not expired after all: its next check was moved early
      const result = await endUnpaidOrder(run, order, 'closed');
      if (result === 'ended') summary.expiredClosed += 1;
      if (result === 'paid') summary.expiredFoundPaid += 1;
    },
    async (order) => {
      await store.updateWhere(
        COLLECTIONS.orders,
        { _id: order._id, status: 'pending_payment', nextCheckAt: order.nextCheckAt },
        { nextCheckAt: deps.clock() + stuckMs },
      );
    },
  );

  // 3. payments prepaid (or created) whose next check is due
  const pushBack = async (payment: PaymentDoc) => {
    await store.updateWhere(
      COLLECTIONS.payments,
      { _id: payment._id, status: payment.status, nextCheckAt: payment.nextCheckAt },
      {
        nextCheckAt: deps.clock() + paymentBackoffMs(stuckMs, payment.checks ?? 0),
        checks: _.inc(1),
      },
    );
  };
  await sweep(
    'querying a payment',
    () =>
      store.find<PaymentDoc>(
        COLLECTIONS.payments,
        { status: _.in(['created', 'prepaid']), nextCheckAt: _.lte(deps.clock()) },
        { orderBy: [['nextCheckAt', 'asc']], limit: batch },
      ),
    async (payment) => {
      summary.paymentsChecked += 1;
      const verdict = await settleByQuery(run, payment._id, 'reconcile');
      if (
        verdict === 'paid' ||
        verdict === 'paid_repaired' ||
        verdict === 'amount_mismatch' ||
        verdict === 'closed' ||
        verdict === 'duplicate_charge'
      )
        summary.paymentsSettled += 1;
      else await pushBack(payment);
    },
    pushBack,
  );

  // 4. reservations whose refund document was never written
  await sweep(
    'checking a refunding order',
    () =>
      store.find<OrderDoc>(
        COLLECTIONS.orders,
        { status: 'refunding', nextCheckAt: _.lte(deps.clock()) },
        { orderBy: [['nextCheckAt', 'asc']], limit: batch },
      ),
    async (order) => {
      const recorded = new Set(
        (await store.find<RefundDoc>(COLLECTIONS.refunds, { orderId: order._id }, { limit: 100 })).map((r) => r._id),
      );
      for (const [outRefundNo, reservation] of Object.entries(order.refundReservations ?? {})) {
        if (reservation.state !== 'reserved' || recorded.has(outRefundNo)) continue;
        await recordRefund(deps, {
          _id: outRefundNo,
          kind: 'order',
          orderId: order._id,
          outTradeNo: order.paidOutTradeNo!,
          openid: order.openid,
          ...refundMerchant(order),
          amountFen: reservation.amountFen,
          totalFen: order.paidFen,
          reason: reservation.reason ?? '',
          requestedBy: reservation.requestedBy ?? 'admin',
          requestedByOpenid: reservation.requestedByOpenid ?? '',
        });
        summary.orphanReservationsRecorded += 1;
      }
      await store.updateWhere(
        COLLECTIONS.orders,
        { _id: order._id, nextCheckAt: order.nextCheckAt },
        { nextCheckAt: deps.clock() + stuckMs },
      );
    },
    async () => undefined,
  );
  // 5. rate-limit windows that ended (the Native checkout's): a window is never read again
  summary.rateWindowsRemoved = await sweepRateWindows(deps).catch((error: unknown) => {
    deps.log.warn('reconcile: removing ended rate-limit windows failed', { error: (error as Error).message });
    return 0;
  });
  deps.log.info('reconcile done', { ...summary });
  return summary;
}
