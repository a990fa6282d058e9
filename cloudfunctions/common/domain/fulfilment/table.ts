/**
 * Fulfilment as one table per product kind: every move names the states it leaves, the state it reaches and the roles
 * that may make it. The staff function, the buyer's actions, the admin's and WeChat's settlement event all move an
 * order through `transitionFor`; nothing else decides a fulfilment state (nothing a buyer sends names one).
 *
 *   pickup    awaiting →accept→ accepted →ready→ ready (pickup code) →hand_over→ picked_up
 *   shipping  awaiting →accept→ accepted →ship→ shipped (express + tracking) →receive→ received
 *   service   awaiting →assign→ assigned →accept→ accepted →start→ in_service →complete→ completed
 *             (a staff member may also accept from awaiting; decline gives an assigned order back: → awaiting)
 *   any kind  a state before the hand-over →give_up→ unfulfillable (the exception queue: refund in full)
 */
import type { FulfilmentRole, FulfilmentState, ProductKind } from '../../../../typings/api';

export type FulfilmentMove =
  'accept' | 'assign' | 'decline' | 'ready' | 'hand_over' | 'ship' | 'receive' | 'start' | 'complete' | 'give_up';

export interface FulfilmentTransition {
  move: FulfilmentMove;
  from: readonly FulfilmentState[];
  to: FulfilmentState;
  roles: readonly FulfilmentRole[];
  /** staff may make it only on an order they hold (accepted or assigned to them) */
  holderOnly: boolean;
}

const t = (
  move: FulfilmentMove,
  from: readonly FulfilmentState[],
  to: FulfilmentState,
  roles: readonly FulfilmentRole[],
  holderOnly = true,
): FulfilmentTransition => ({ move, from, to, roles, holderOnly });

export const FULFILMENT_TABLE: Readonly<Record<ProductKind, readonly FulfilmentTransition[]>> = {
  pickup: [
    t('accept', ['awaiting'], 'accepted', ['staff', 'admin'], false),
    t('ready', ['accepted'], 'ready', ['staff', 'admin']),
    t('hand_over', ['ready'], 'picked_up', ['staff', 'admin']),
    t('give_up', ['awaiting', 'accepted', 'ready'], 'unfulfillable', ['admin', 'system'], false),
  ],
  shipping: [
    t('accept', ['awaiting'], 'accepted', ['staff', 'admin'], false),
    t('ship', ['accepted'], 'shipped', ['staff', 'admin']),
    t('receive', ['shipped'], 'received', ['buyer', 'wechat'], false),
    t('give_up', ['awaiting', 'accepted'], 'unfulfillable', ['admin', 'system'], false),
  ],
  service: [
    t('assign', ['awaiting'], 'assigned', ['admin'], false),
    // from awaiting: a staff member takes it from the queue; from assigned: only the one it was assigned to
    t('accept', ['awaiting', 'assigned'], 'accepted', ['staff'], false),
    t('decline', ['assigned'], 'awaiting', ['staff']),
    t('start', ['accepted'], 'in_service', ['staff', 'admin']),
    t('complete', ['in_service'], 'completed', ['staff', 'admin']),
    t('give_up', ['awaiting', 'assigned', 'accepted'], 'unfulfillable', ['admin', 'system'], false),
  ],
};

/** The states after which the buyer has what they paid for (or has it in hand, on its way). */
export const HANDED_OVER: ReadonlySet<FulfilmentState> = new Set(['picked_up', 'shipped', 'received', 'completed']);

/** Still to be done by someone (the staff's queues, the admin home's counts). */
export const OPEN_STATES: readonly FulfilmentState[] = ['awaiting', 'assigned', 'accepted', 'ready', 'in_service'];

export type TransitionVerdict =
  { ok: true; transition: FulfilmentTransition } | { ok: false; why: 'no_such_move' | 'role' | 'state' };

/** Whether `role` may make `move` on an order of `kind` now in `state`, and the transition if so. */
export function transitionFor(
  kind: ProductKind,
  move: FulfilmentMove,
  role: FulfilmentRole,
  state: FulfilmentState,
): TransitionVerdict {
  const transition = FULFILMENT_TABLE[kind].find((x) => x.move === move);
  if (!transition) return { ok: false, why: 'no_such_move' };
  if (!transition.roles.includes(role)) return { ok: false, why: 'role' };
  if (!transition.from.includes(state)) return { ok: false, why: 'state' };
  return { ok: true, transition };
}
