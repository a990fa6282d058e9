/**
 * Reconciliation, run by a timer: a lost notification never leaves money in the wrong state.
 * 1. expired unpaid orders are closed (their payment closed at WeChat Pay first; one paid meanwhile is settled);
 * 2. payments still unsettled after a while are queried and settled;
 * 3. refunds still reserving or processing after a while are queried (or resubmitted) and settled.
 * Bounded batches, each re-queried from the start (settled items drop out of the query) up to a page limit and a
 * time budget. Every transition is a compare-and-set, so two runs at once do no harm.
 */
import { COLLECTIONS } from '../store/store';
import type { Deps } from './deps';
import { endUnpaidOrder, type OrderDoc } from './orders';
import { settleByQuery, type PaymentDoc } from './payments';
import { settleRefundByQuery, type RefundDoc } from './refunds';

export interface ReconcileSummary {
  expiredClosed: number;
  expiredFoundPaid: number;
  paymentsChecked: number;
  paymentsSettled: number;
  refundsChecked: number;
  refundsSettled: number;
  errors: number;
}

const MAX_PAGES = 10;
const TIME_BUDGET_MS = 40_000;

export async function reconcile(deps: Deps): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { expiredClosed: 0, expiredFoundPaid: 0, paymentsChecked: 0, paymentsSettled: 0, refundsChecked: 0, refundsSettled: 0, errors: 0 };
  const started = deps.clock();
  const { store, config } = deps;
  const _ = store.command;
  const batch = config.reconcileBatchSize;
  const stuckBefore = () => deps.clock() - config.reconcileStuckMinutes * 60_000;

  /**
   * Handles what `find` returns, page after page: handled documents drop out of the query, so the query is simply
   * run again; each document is handled once per run, failures are counted and logged, and the run is bounded.
   */
  const sweep = async <T extends { _id: string }>(what: string, find: () => Promise<T[]>, handle: (doc: T) => Promise<void>) => {
    const seen = new Set<string>();
    for (let page = 0; page < MAX_PAGES && deps.clock() - started < TIME_BUDGET_MS; page++) {
      const found = await find();
      const fresh = found.filter((doc) => !seen.has(doc._id));
      for (const doc of fresh) {
        seen.add(doc._id);
        try {
          await handle(doc);
        } catch (error) {
          summary.errors += 1;
          deps.log.warn(`reconcile: ${what} failed`, { id: doc._id, error: (error as Error).message });
        }
      }
      if (found.length < batch || fresh.length === 0) return;
    }
  };

  // 1. expired unpaid orders
  await sweep(
    'closing an expired order',
    () => store.find<OrderDoc>(COLLECTIONS.orders, { status: 'pending_payment', expiresAt: _.lte(deps.clock()) }, { orderBy: [['expiresAt', 'asc']], limit: batch }),
    async (order) => {
      const result = await endUnpaidOrder(deps, order, 'closed');
      if (result === 'ended') summary.expiredClosed += 1;
      if (result === 'paid') summary.expiredFoundPaid += 1;
    },
  );

  // 2. payments prepaid (or created) and quiet for a while; one still unpaid is touched so the next page moves on
  await sweep(
    'querying a payment',
    () => store.find<PaymentDoc>(COLLECTIONS.payments, { status: _.in(['created', 'prepaid']), updatedAt: _.lte(stuckBefore()) }, { orderBy: [['updatedAt', 'asc']], limit: batch }),
    async (payment) => {
      summary.paymentsChecked += 1;
      const verdict = await settleByQuery(deps, payment._id);
      if (verdict === 'paid' || verdict === 'paid_repaired' || verdict === 'amount_mismatch' || verdict === 'closed') summary.paymentsSettled += 1;
      else await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: payment.status, updatedAt: payment.updatedAt }, { updatedAt: deps.clock() });
    },
  );

  // 3. refunds not settled after a while
  await sweep(
    'querying a refund',
    () => store.find<RefundDoc>(COLLECTIONS.refunds, { status: _.in(['reserving', 'processing']), updatedAt: _.lte(stuckBefore()) }, { orderBy: [['updatedAt', 'asc']], limit: batch }),
    async (refund) => {
      summary.refundsChecked += 1;
      const verdict = await settleRefundByQuery(deps, refund);
      if (verdict === 'settled') summary.refundsSettled += 1;
      else await store.updateWhere(COLLECTIONS.refunds, { _id: refund._id, updatedAt: refund.updatedAt }, { updatedAt: deps.clock() });
    },
  );
  deps.log.info('reconcile done', { ...summary });
  return summary;
}
