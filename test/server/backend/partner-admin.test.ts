/**
 * Sub-merchants as data and the sub-merchant admin role (partner mode, on the local cloud): merchants.save names
 * a sub-merchant's admins; such an admin sees and acts on its own sub-merchant's orders only (another's is not found,
 * the actions of the whole merchant are forbidden), and merchants.list gives each sub-merchant's day figures.
 */
import type { ListMerchantsResponse, MerchantView, OrderView, SearchOrdersResponse } from '../../../typings/api';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
let A: string;
let B: string;
let paidA: OrderView;
let paidB: OrderView;
beforeAll(async () => {
  t = await startTestCloud({ wechatpayMode: 'partner', env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  [A, B] = t.cloud.pay.subMerchants.map((s) => s.sub_mchid) as [string, string];
  paidA = await t.payAndWait('alice', (await t.confirm('alice', [{ productId: 'latte', quantity: 1 }])).id);
  paidB = await t.payAndWait('bob', (await t.confirm('bob', [{ productId: 'americano', quantity: 2 }])).id);
});
afterAll(() => t.close());

const saveA = (adminOpenids: string[]) =>
  t.call<MerchantView>(
    'merchants',
    { action: 'save', subMchid: A, name: '演示特约商户A', active: true, adminOpenids },
    'admin',
  );
const refund = (orderId: string, user: string, requestId: string) =>
  t.call<OrderView>('admin', { action: 'refund', orderId, amountFen: 100, reason: '补差', requestId }, user);

test('merchants.save names the sub-merchant’s admins; an openid administers one sub-merchant only', async () => {
  expect(await saveA([t.openid('shopA')])).toMatchObject({
    ok: true,
    data: { subMchid: A, adminOpenids: [t.openid('shopA')], day: { paidOrders: 1, paidFen: paidA.paidFen } },
  });
  const taken = await t.call(
    'merchants',
    { action: 'save', subMchid: B, name: '演示特约商户B', active: true, adminOpenids: [t.openid('shopA')] },
    'admin',
  );
  expect(taken).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  // a sub-merchant admin cannot manage sub-merchants
  expect(
    await t.call(
      'merchants',
      { action: 'save', subMchid: A, name: 'x', active: true, adminOpenids: [t.openid('mallory')] },
      'shopA',
    ),
  ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(await t.call('merchants', { action: 'save', subMchid: 'A1', name: 'x', active: true }, 'admin')).toMatchObject(
    { ok: false, error: { code: 'INVALID_ARGUMENT', field: 'subMchid' } },
  );
});

test('a sub-merchant admin sees and refunds its own orders; another sub-merchant’s order is not found and not refunded', async () => {
  expect(await t.call('admin', { action: 'getOrder', orderId: paidA.id }, 'shopA')).toMatchObject({
    ok: true,
    data: { id: paidA.id },
  });
  expect(await t.call('admin', { action: 'getOrder', orderId: paidB.id }, 'shopA')).toMatchObject({
    ok: false,
    error: { code: 'NOT_FOUND' },
  });
  expect(await refund(paidB.id, 'shopA', 'shop-a-refund-b-0001')).toMatchObject({
    ok: false,
    error: { code: 'NOT_FOUND' },
  });
  expect((await t.order('bob', paidB.id)).refundedFen).toBe(0);
  expect(await t.cloud.pay.listRefunds(`${paidB.id}P1`)).toEqual([]);
  const found = await t.ok<SearchOrdersResponse>('admin', { action: 'searchOrders', query: paidB.id }, 'shopA');
  expect(found.orders).toEqual([]);
  expect(await refund(paidA.id, 'shopA', 'shop-a-refund-a-0001')).toMatchObject({ ok: true });
  await waitFor(
    () => t.order('alice', paidA.id),
    (o) => o.refundedFen === 100,
  );
});

test('a sub-merchant admin is refused the whole merchant’s actions and sees its own sub-merchant only', async () => {
  for (const [fn, event] of [
    ['admin', { action: 'listExceptions' }],
    ['books', { action: 'listStatements' }],
    ['books', { action: 'listMetrics' }],
  ] as const)
    expect(await t.call(fn, event, 'shopA')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  const own = await t.ok<ListMerchantsResponse>('merchants', { action: 'list' }, 'shopA');
  expect(own.merchants.map((m) => m.subMchid)).toEqual([A]);
  const all = await t.ok<ListMerchantsResponse>('merchants', { action: 'list' }, 'admin');
  expect(Object.fromEntries(all.merchants.map((m) => [m.subMchid, m.day]))).toMatchObject({
    [A]: { paidOrders: 1, paidFen: paidA.paidFen, refundedFen: 100 },
    [B]: { paidOrders: 1, paidFen: paidB.paidFen, refundedFen: 0 },
  });
  // the buyers and a stranger are no admins at all
  expect(await t.call('admin', { action: 'getOrder', orderId: paidA.id }, 'bob')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
});

test('taken off the list, a sub-merchant admin is no admin any more', async () => {
  expect(await saveA([])).toMatchObject({ ok: true, data: { adminOpenids: [] } });
  expect(await t.call('admin', { action: 'getOrder', orderId: paidA.id }, 'shopA')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
});
