/** Reading an order on behalf of its owner, and the small helpers every order-touching module shares. */
import type { TimelineEntry } from '../../../typings/api';
import { COLLECTIONS } from '../store/store';
import type { Caller, Deps } from './deps';
import { DomainError } from './errors';
import type { OrderDoc, RefundDoc } from './records';

export const isAdmin = (deps: Pick<Deps, 'config'>, openid: string) => deps.config.adminOpenids.has(openid);

export function requireCaller(caller: Caller): string {
  if (!caller.openid) throw new DomainError('UNAUTHENTICATED', 'call from the mini-program after logging in');
  return caller.openid;
}

export function entry(at: number, event: string, detail?: string): TimelineEntry {
  return detail ? { at, event, detail } : { at, event };
}

/** Loads an order the caller owns. Someone else's order is NOT_FOUND, so ids reveal nothing. */
export async function loadOwnedOrder(deps: Deps, openid: string, orderId: string): Promise<OrderDoc> {
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  if (!order || order.openid !== openid) throw new DomainError('NOT_FOUND', '订单不存在');
  return order;
}

export async function refundsOf(deps: Deps, orderId: string): Promise<RefundDoc[]> {
  return deps.store.find<RefundDoc>(COLLECTIONS.refunds, { orderId }, { orderBy: [['createdAt', 'asc']], limit: 100 });
}
