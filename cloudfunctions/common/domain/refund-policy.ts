/**
 * Who may refund what. A user may fully refund a paid order until USER_REFUND_CUTOFF_MINUTES before its service
 * starts, and only while nothing has been refunded yet; admins may refund any paid order, fully or in part.
 */
import type { Deps } from './deps';
import type { OrderDoc } from './records';

export function userRefundAllowed(order: OrderDoc, deps: Pick<Deps, 'clock' | 'config'>): boolean {
  if (order.status !== 'paid' || order.refundedFen > 0) return false;
  // once staff took the order the buyer asks (after-sale) instead; refunds.ts holds this in its compare-and-set
  if (order.fulfilment && order.fulfilment.state !== USER_REFUNDABLE_FULFILMENT) return false;
  if (order.serviceStartsAt === undefined) return true;
  return deps.clock() < order.serviceStartsAt - deps.config.userRefundCutoffMinutes * 60_000;
}

/** The fulfilment state in which a user may still refund alone. */
export const USER_REFUNDABLE_FULFILMENT = 'awaiting';

/** WeChat Pay allows at most 50 refunds of one payment. */
export const MAX_REFUNDS_PER_PAYMENT = 50;
/** …and wants the refunds of one payment at least a minute apart. */
export const REFUND_GAP_MS = 60_000;
