/** The merchant's order search (domain/admin/orders.ts) on the in-memory harness: every kind of order it must find. */
import { createGuestOrder } from '../../../cloudfunctions/common/domain/orders/checkout';
import { classifyQuery, searchOrders } from '../../../cloudfunctions/common/domain/admin/orders';
import { listExceptions } from '../../../cloudfunctions/common/domain/admin/admin';
import { REFUSED_WINDOW_MS, type RefusedAdminEntry } from '../../../cloudfunctions/common/domain/admin/action';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { seedProducts } from '../../../localcloud/seed';
import { createHarness, seedUnpaidOrder, type Harness } from './harness';

let h: Harness;
const admin = { openid: 'o-admin-openid-01' };
beforeEach(async () => {
  h = createHarness();
  for (const product of seedProducts(h.now())) await h.store.insert(COLLECTIONS.products, product);
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

const search = (query: string) => searchOrders(h.deps, admin, { action: 'searchOrders', query });

describe('admin order search', () => {
  test("finds a guest's Native checkout order (G…) by its order number and by its out_trade_no, as written or typed", async () => {
    const { order } = await createGuestOrder(
      h.deps,
      { items: [{ productId: 'latte', quantity: 1 }] },
      { ip: '203.0.113.9' },
    );
    expect(order.id).toMatch(/^G[0-9A-F]{20}$/);
    await h.store.insert(COLLECTIONS.payments, { _id: `${order.id}P1`, orderId: order.id, status: 'prepaid' });
    for (const [query, by] of [
      [order.id, 'orderId'],
      [order.id.toLowerCase(), 'orderId'],
      [`${order.id}P1`, 'outTradeNo'],
      [` ${order.id.slice(0, 8)} ${order.id.slice(8)}p1 `, 'outTradeNo'],
    ] as const) {
      expect(classifyQuery(query.trim())).toEqual({ by, value: by === 'orderId' ? order.id : `${order.id}P1` });
      expect(await search(query)).toMatchObject({ matchedBy: by, orders: [expect.objectContaining({ id: order.id })] });
    }
  });

  test('a mini-program order (O…) still by both; other letters are no order number', async () => {
    const { order } = await seedUnpaidOrder(h, 1990);
    const id = `O${'A1'.repeat(10)}`;
    await h.store.insert(COLLECTIONS.orders, { ...order, _id: id });
    await h.store.insert(COLLECTIONS.payments, { _id: `${id}P2`, orderId: id, status: 'prepaid' });
    expect(await search(id)).toMatchObject({ matchedBy: 'orderId', orders: [expect.objectContaining({ id })] });
    expect(await search(`${id}P2`)).toMatchObject({
      matchedBy: 'outTradeNo',
      orders: [expect.objectContaining({ id })],
    });
    expect(classifyQuery(`X${'A1'.repeat(10)}`)).toBeUndefined();
  });
});

describe('refused admin calls', () => {
  const refused = () =>
    h.store.find<RefusedAdminEntry>(COLLECTIONS.adminLog, { count: h.store.command.gte(1) }, { limit: 100 });

  test('are audited (who, which action, why) and counted per caller and window, so a flood adds one document', async () => {
    const stranger = { openid: 'o-stranger-0001' };
    for (let i = 0; i < 25; i++)
      await expect(listExceptions(h.deps, stranger, { action: 'listExceptions' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    await expect(searchOrders(h.deps, {}, { action: 'searchOrders', query: 'x' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(
      (await refused())
        .map(({ admin, action, outcome, count }) => ({ admin, action, outcome, count }))
        .sort((a, b) => a.count - b.count),
    ).toEqual([
      { admin: '', action: 'searchOrders', outcome: 'UNAUTHENTICATED', count: 1 },
      { admin: stranger.openid, action: 'listExceptions', outcome: 'FORBIDDEN', count: 25 },
    ]);
    // the next window starts a new count
    h.advance(REFUSED_WINDOW_MS);
    await expect(listExceptions(h.deps, stranger, { action: 'listExceptions' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(
      (await refused())
        .filter((e) => e.admin === stranger.openid)
        .map((e) => e.count)
        .sort(),
    ).toEqual([1, 25]);
  });
});
