/**
 * The fulfilment tables as data (domain/fulfilment/table.ts), against the life cycles the issue describes, written out
 * here independently: every move of every kind from every state by every role is either the one expected, or refused
 * for the right reason.
 */
import {
  FULFILMENT_STATES,
  PRODUCT_KINDS,
  type FulfilmentRole,
  type FulfilmentState,
  type ProductKind,
} from '../../../typings/api';
import {
  FULFILMENT_TABLE,
  transitionFor,
  type FulfilmentMove,
} from '../../../cloudfunctions/common/domain/fulfilment/table';

const ROLES: readonly FulfilmentRole[] = ['buyer', 'staff', 'admin', 'wechat', 'system'];
const MOVES: readonly FulfilmentMove[] = [
  'accept',
  'assign',
  'decline',
  'ready',
  'hand_over',
  'ship',
  'receive',
  'start',
  'complete',
  'give_up',
];

type Row = [FulfilmentMove, FulfilmentState[], FulfilmentState, FulfilmentRole[]];
/** move, from, to, who */
const EXPECTED: Record<ProductKind, Row[]> = {
  pickup: [
    ['accept', ['awaiting'], 'accepted', ['staff', 'admin']],
    ['ready', ['accepted'], 'ready', ['staff', 'admin']],
    ['hand_over', ['ready'], 'picked_up', ['staff', 'admin']],
    ['give_up', ['awaiting', 'accepted', 'ready'], 'unfulfillable', ['admin', 'system']],
  ],
  shipping: [
    ['accept', ['awaiting'], 'accepted', ['staff', 'admin']],
    ['ship', ['accepted'], 'shipped', ['staff', 'admin']],
    // the buyer's confirmation, or WeChat's (its settlement event)
    ['receive', ['shipped'], 'received', ['buyer', 'wechat']],
    ['give_up', ['awaiting', 'accepted'], 'unfulfillable', ['admin', 'system']],
  ],
  service: [
    ['assign', ['awaiting'], 'assigned', ['admin']],
    ['accept', ['awaiting', 'assigned'], 'accepted', ['staff']],
    ['decline', ['assigned'], 'awaiting', ['staff']],
    ['start', ['accepted'], 'in_service', ['staff', 'admin']],
    ['complete', ['in_service'], 'completed', ['staff', 'admin']],
    ['give_up', ['awaiting', 'assigned', 'accepted'], 'unfulfillable', ['admin', 'system']],
  ],
};

describe.each(PRODUCT_KINDS)('%s', (kind) => {
  const rows = EXPECTED[kind];
  const cases = MOVES.flatMap((move) =>
    ROLES.flatMap((role) => FULFILMENT_STATES.map((state) => [move, role, state] as const)),
  );

  test('the table has exactly the expected moves', () => {
    expect(FULFILMENT_TABLE[kind].map((t) => [t.move, [...t.from], t.to, [...t.roles]])).toEqual(rows);
  });

  test.each(cases)('%s by %s from %s', (move, role, state) => {
    const row = rows.find(([m]) => m === move);
    const verdict = transitionFor(kind, move, role, state);
    if (!row) return expect(verdict).toEqual({ ok: false, why: 'no_such_move' });
    const [, from, to, roles] = row;
    if (!roles.includes(role)) return expect(verdict).toEqual({ ok: false, why: 'role' });
    if (!from.includes(state)) return expect(verdict).toEqual({ ok: false, why: 'state' });
    expect(verdict).toMatchObject({ ok: true, transition: { to } });
  });

  test('nothing leaves a final state, and the buyer never moves anything but a receipt', () => {
    const finals: FulfilmentState[] = ['picked_up', 'received', 'completed', 'unfulfillable'];
    for (const t of FULFILMENT_TABLE[kind]) {
      expect(t.from.filter((s) => finals.includes(s))).toEqual([]);
      if (t.roles.includes('buyer')) expect(t.move).toBe('receive');
    }
  });
});

test('staff act only on orders they hold, except taking one from the queue', () => {
  for (const kind of PRODUCT_KINDS)
    for (const t of FULFILMENT_TABLE[kind])
      expect([kind, t.move, t.holderOnly]).toEqual([
        kind,
        t.move,
        !['accept', 'assign', 'receive', 'give_up'].includes(t.move),
      ]);
});
