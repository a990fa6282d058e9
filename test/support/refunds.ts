/**
 * Driving refunds through time on the local cloud without waiting: WeChat Pay wants refunds of one payment a minute
 * apart and reconcile looks at open refunds on a backoff, so tests move those clocks back and run reconcile.
 */
import type { OrderView } from '../../typings/api';
import type { ReconcileSummary } from '../../cloudfunctions/common/domain/money/reconcile';
import { waitFor, type TestCloud } from './localcloud';

const OPEN = ['queued', 'unknown', 'processing'];

export const runReconcile = (t: TestCloud) => t.cloud.host.runTimer('reconcile') as Promise<ReconcileSummary>;

/** Opens every payment's one-minute refund gate and makes every open refund due for reconcile. */
export async function makeRefundsDue(t: TestCloud): Promise<void> {
  const db = t.cloud.engine.database();
  await db
    .collection('payments')
    .where({})
    .update({ data: { refundGateAt: 0 } });
  await db
    .collection('refunds')
    .where({})
    .update({ data: { nextAttemptAt: 0 } });
}

/**
 * Runs reconcile (gates open, refunds due) until the order has no refund WeChat Pay still has to decide (queued,
 * unknown or processing), waiting for the simulator's notifications in between. Bounded: 10 rounds.
 */
export async function settleRefunds(t: TestCloud, user: string, orderId: string): Promise<OrderView> {
  for (let round = 0; round < 10; round++) {
    const order = await waitFor(
      () => t.order(user, orderId),
      (o) => o.refunds.every((r) => r.status !== 'processing'),
      2000,
    ).catch(() => undefined);
    if (order && order.refunds.every((r) => !OPEN.includes(r.status)) && order.status !== 'refunding') return order;
    await makeRefundsDue(t);
    await runReconcile(t);
  }
  throw new Error(
    `refunds of ${orderId} still open after 10 reconcile rounds: ${JSON.stringify((await t.order(user, orderId)).refunds)}`,
  );
}
