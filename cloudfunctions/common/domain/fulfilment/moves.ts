/**
 * Moving an order's fulfilment: one compare-and-set on the order per move, conditioned on the state the move leaves
 * (so of two staff accepting at once exactly one wins), on the order still being paid and not being refunded (so a
 * refund request racing an acceptance is decided by whichever compare-and-set lands first: the user refund's
 * reservation holds only while the state is `awaiting`), and, for staff, on holding the order. Who may make a move is
 * the table's (table.ts); each move is on the order's timeline and its steps, and a staff member's move is audited in
 * admin_log (admins' actions are audited by adminAction).
 */
import { randomInt } from 'node:crypto';
import type { FulfilmentRole, FulfilmentState, OrderStatus } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { entry } from '../access';
import type { Deps } from '../deps';
import { DomainError } from '../errors';
import type { FulfilmentStepRecord, OrderDoc } from '../records';
import { transitionFor, type FulfilmentMove } from './table';

/** An order is fulfilled while paid (in full or partly refunded); a refund in flight or a full refund stops it. */
export const FULFILLING_STATUSES: readonly OrderStatus[] = ['paid', 'partially_refunded'];

export interface Actor {
  role: FulfilmentRole;
  /** '' for the buyer's own moves, WeChat and the system */
  openid: string;
  /** shown to the buyer: a staff member's name, 买家, 微信 */
  name?: string;
}

export const STATE_TEXT: Record<FulfilmentState, string> = {
  awaiting: '待接单',
  assigned: '已指派',
  accepted: '已接单',
  ready: '待取餐',
  picked_up: '已取餐',
  shipped: '已发货',
  received: '已收货',
  in_service: '服务中',
  completed: '已完成',
  unfulfillable: '无法履约',
};

export interface MoveOptions {
  /** more of `fulfilment` to set with the move (the pickup code, the tracking number, who holds it) */
  fulfilment?: Record<string, unknown>;
  /** more of the order to set with the move (the shipping upload that becomes due) */
  order?: Record<string, unknown>;
  detail?: string;
}

/** A 6-digit pickup code (the issue allows 4–6): from the CSPRNG, so it cannot be guessed from the order. */
export const newPickupCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

/** Makes `move` on `order` as `actor`, or throws FORBIDDEN / CONFLICT / FAILED_PRECONDITION; returns the order after. */
export async function moveFulfilment(
  deps: Deps,
  order: OrderDoc,
  move: FulfilmentMove,
  actor: Actor,
  options: MoveOptions = {},
): Promise<OrderDoc> {
  const { store } = deps;
  const _ = store.command;
  const f = order.fulfilment;
  if (!f) throw new DomainError('FAILED_PRECONDITION', '此订单无需履约');
  const verdict = transitionFor(f.kind, move, actor.role, f.state);
  if (!verdict.ok) {
    if (verdict.why === 'no_such_move') throw new DomainError('FAILED_PRECONDITION', '此类订单没有这一步');
    if (verdict.why === 'role') throw new DomainError('FORBIDDEN', '无权进行这一步');
    throw stateConflict(order);
  }
  const { transition } = verdict;
  const holds = f.staffOpenid !== undefined && f.staffOpenid === actor.openid;
  // staff act on orders they hold; accepting an assigned service order is for the one it was assigned to
  const needsHolder = actor.role === 'staff' && (transition.holderOnly || f.state === 'assigned');
  if (needsHolder && !holds) throw new DomainError('FORBIDDEN', '这不是你负责的订单');
  const checksPayment = actor.role !== 'wechat' && actor.role !== 'system';
  if (checksPayment && !FULFILLING_STATUSES.includes(order.status))
    throw new DomainError('CONFLICT', order.status === 'refunding' ? '订单退款处理中' : '订单已退款或不可履约');

  const now = deps.clock();
  const step: FulfilmentStepRecord = {
    state: transition.to,
    at: now,
    role: actor.role,
    actor: actor.openid,
    ...(actor.name ? { by: actor.name } : {}),
    ...(options.detail ? { detail: options.detail } : {}),
  };
  const where: Record<string, unknown> = { _id: order._id, 'fulfilment.state': f.state };
  if (checksPayment) where.status = _.in([...FULFILLING_STATUSES]);
  if (needsHolder) where['fulfilment.staffOpenid'] = actor.openid;
  const won = await store.updateWhere(COLLECTIONS.orders, where, {
    fulfilment: { state: transition.to, at: now, steps: _.push([step]), ...options.fulfilment },
    timeline: _.push([entry(now, `fulfil_${transition.to}`, actor.name ?? options.detail)]),
    updatedAt: now,
    ...options.order,
  });
  const after = (await store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
  if (!won) throw stateConflict(after);
  if (actor.role === 'staff')
    await store.append(COLLECTIONS.adminLog, {
      at: now,
      admin: actor.openid,
      action: `staff.${move}`,
      target: order._id,
      outcome: 'ok',
      ...(options.detail ? { note: options.detail } : {}),
    });
  return after;
}

/** What the caller is told when the order is no longer where the move starts: its state now, and who holds it. */
function stateConflict(order: OrderDoc): DomainError {
  const f = order.fulfilment!;
  if (!FULFILLING_STATUSES.includes(order.status) && f.state === 'awaiting')
    return new DomainError('CONFLICT', order.status === 'refunding' ? '订单退款处理中' : '订单已退款');
  const who = f.staffName && f.state !== 'awaiting' ? `（${f.staffName}）` : '';
  if (f.state === 'accepted' && f.staffName) return new DomainError('CONFLICT', `已被${f.staffName}接单`);
  return new DomainError('CONFLICT', `订单当前为「${STATE_TEXT[f.state]}」${who}，请刷新`);
}
