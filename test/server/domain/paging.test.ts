/**
 * Cursor paging (domain/paging.ts) of the user's order list and the exception queue on the in-memory harness: orders
 * created, or leaving a tab, between two pages are neither repeated nor skipped, and ties in the sort key are broken
 * by `_id`.
 */
import type { ListExceptionsResponse, ListOrdersResponse } from '../../../typings/api';
import { listExceptions } from '../../../cloudfunctions/common/domain/admin/admin';
import { listOrders } from '../../../cloudfunctions/common/domain/orders/orders';
import { encodeCursor } from '../../../cloudfunctions/common/domain/paging';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { BUYER, createHarness, getOrder, seedUnpaidOrder, type Harness } from './harness';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

const buyer = { openid: BUYER };
const list = (extra: Record<string, unknown> = {}): Promise<ListOrdersResponse> =>
  listOrders(h.deps, buyer, { action: 'list', pageSize: 4, ...extra });

/** 10 unpaid orders, three of them created in the same millisecond */
async function seedOrders(): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    if (i !== 4 && i !== 5) h.advance(1000);
    ids.push((await seedUnpaidOrder(h, 100 + i)).order._id);
  }
  return ids;
}

describe("the user's order list", () => {
  test('pages by cursor: every order once, newest first, ties by _id, whatever is created between pages', async () => {
    const ids = await seedOrders();
    const seen: string[] = [];
    let answer = await list();
    seen.push(...answer.orders.map((o) => o.id));
    // a new order arrives after the first page: it belongs before it, so no page repeats a card
    h.advance(1000);
    await seedUnpaidOrder(h, 999);
    while (answer.hasMore) {
      answer = await list({ cursor: answer.nextCursor });
      seen.push(...answer.orders.map((o) => o.id));
    }
    expect(answer.nextCursor).toBeUndefined();
    const expected = (await Promise.all(ids.map((id) => getOrder(h, id))))
      .sort((a, b) => b.createdAt - a.createdAt || (a._id < b._id ? 1 : -1))
      .map((o) => o._id);
    expect(seen).toEqual(expected);
  });

  test('an order leaving the tab between pages skips nothing', async () => {
    await seedOrders();
    const first = await list({ status: 'pending_payment' });
    // the first page's newest order is cancelled: with an offset the next page would start one order late
    await h.store.updateWhere(COLLECTIONS.orders, { _id: first.orders[0]!.id }, { status: 'cancelled' });
    const rest: string[] = [];
    let answer = first;
    while (answer.hasMore) {
      answer = await list({ status: 'pending_payment', cursor: answer.nextCursor });
      rest.push(...answer.orders.map((o) => o.id));
    }
    expect([...first.orders.map((o) => o.id), ...rest]).toHaveLength(10);
    expect(new Set([...first.orders.map((o) => o.id), ...rest]).size).toBe(10);
  });

  test('a cursor is input: malformed ones are refused, and one names only a place, never another user', async () => {
    for (const cursor of ['', '!!', 42, 'x'.repeat(201), Buffer.from('{"a":1}').toString('base64url')])
      await expect(list({ cursor })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'cursor' });
    await seedOrders();
    const other = await listOrders(
      h.deps,
      { openid: 'o-someone-else' },
      {
        action: 'list',
        cursor: encodeCursor({ key: Number.MAX_SAFE_INTEGER, id: 'ZZZ' }),
      },
    );
    expect(other.orders).toEqual([]);
  });
});

describe('the exception queue', () => {
  test('pages by lastSeenAt then _id: a tie of many never repeats or skips one', async () => {
    for (let i = 0; i < 7; i++)
      await h.store.insert(COLLECTIONS.exceptions, {
        _id: `bill_difference:2026-03-01|x|${i}`,
        kind: 'bill_difference',
        status: 'open',
        detail: 'tie',
        firstSeenAt: h.now(),
        lastSeenAt: h.now(),
        occurrences: 1,
      });
    const seen: string[] = [];
    let answer: ListExceptionsResponse | undefined;
    do {
      answer = await listExceptions(
        h.deps,
        { openid: 'o-admin-openid-01' },
        {
          action: 'listExceptions',
          pageSize: 3,
          ...(answer?.nextCursor ? { cursor: answer.nextCursor } : {}),
        },
      );
      seen.push(...answer.exceptions.map((e) => e.id));
    } while (answer.hasMore);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `bill_difference:2026-03-01|x|${6 - i}`));
  });
});
