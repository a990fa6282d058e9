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
  const within = () => deps.clock() - started < TIME_BUDGET_MS;
  const guard = async (what: string, id: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      summary.errors += 1;
      deps.log.warn(`reconcile: ${what} failed`, { id, error: (error as Error).message });
    }
  };

  // 1. expired unpaid orders
  const seenOrders = new Set<string>();
  for (let page = 0; page < MAX_PAGES && within(); page++) {
    const expired = await store.find<OrderDoc>(COLLECTIONS.orders, { status: 'pending_payment', expiresAt: _.lte(deps.clock()) }, { orderBy: [['expiresAt', 'asc']], limit: batch });
    const fresh = expired.filter((o) => !seenOrders.has(o._id));
    for (const order of fresh) {
      seenOrders.add(order._id);
      await guard('closing an expired order', order._id, async () => {
        const result = await endUnpaidOrder(deps, order, 'closed');
        if (result === 'ended') summary.expiredClosed += 1;
        if (result === 'paid') summary.expiredFoundPaid += 1;
      });
    }
    if (expired.length < batch || fresh.length === 0) break;
  }

  // 2. payments prepaid (or created) and quiet for a while
  const stuckBefore = () => deps.clock() - config.reconcileStuckMinutes * 60_000;
  const seenPayments = new Set<string>();
  for (let page = 0; page < MAX_PAGES && within(); page++) {
    const stuck = await store.find<PaymentDoc>(COLLECTIONS.payments, { status: _.in(['created', 'prepaid']), updatedAt: _.lte(stuckBefore()) }, { orderBy: [['updatedAt', 'asc']], limit: batch });
    const fresh = stuck.filter((p) => !seenPayments.has(p._id));
    for (const payment of fresh) {
      seenPayments.add(payment._id);
      summary.paymentsChecked += 1;
      await guard('querying a payment', payment._id, async () => {
        const verdict = await settleByQuery(deps, payment._id);
        if (verdict === 'paid' || verdict === 'paid_repaired' || verdict === 'amount_mismatch' || verdict === 'closed') summary.paymentsSettled += 1;
        else await store.updateWhere(COLLECTIONS.payments, { _id: payment._id, status: payment.status, updatedAt: payment.updatedAt }, { updatedAt: deps.clock() });
      });
    }
    if (stuck.length < batch || fresh.length === 0) break;
  }

  // 3. refunds not settled after a while
  const seenRefunds = new Set<string>();
  for (let page = 0; page < MAX_PAGES && within(); page++) {
    const stuck = await store.find<RefundDoc>(COLLECTIONS.refunds, { status: _.in(['reserving', 'processing']), updatedAt: _.lte(stuckBefore()) }, { orderBy: [['updatedAt', 'asc']], limit: batch });
    const fresh = stuck.filter((r) => !seenRefunds.has(r._id));
    for (const refund of fresh) {
      seenRefunds.add(refund._id);
      summary.refundsChecked += 1;
      await guard('querying a refund', refund._id, async () => {
        const verdict = await settleRefundByQuery(deps, refund);
        if (verdict === 'settled') summary.refundsSettled += 1;
        else await store.updateWhere(COLLECTIONS.refunds, { _id: refund._id, updatedAt: refund.updatedAt }, { updatedAt: deps.clock() });
      });
    }
    if (stuck.length < batch || fresh.length === 0) break;
  }
  deps.log.info('reconcile done', { ...summary });
  return summary;
}
