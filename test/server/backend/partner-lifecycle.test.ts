/**
 * The money path in partner mode on the local cloud (LOCALCLOUD_WECHATPAY_MODE=partner): one deployment, the service
 * provider's keys, two sub-merchants. A buyer pays sub-merchant A in the service provider's mini-program (sp_appid,
 * payer.sp_openid) and sub-merchant B in B's own mini-program (sub_appid, payer.sub_openid); confirm, pay, the partner
 * notification, query, close, refund, reconcile and the bill, each through the partner endpoints of the simulator.
 * The direct-mode lifecycle (lifecycle.test.ts) runs in the same `npm test`, so neither mode regresses.
 */
import { createPublicKey } from 'node:crypto';
import type { OrderView, PayResponse } from '../../../typings/api';
import { decryptAesGcm, verifySha256Rsa } from '../../../cloudfunctions/common/wechatpay';
import { chinaDate, chinaDayStart } from '../../../cloudfunctions/common/domain/days';
import type { StatementView } from '../../../typings/api';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
let A: { sub_mchid: string };
let B: { sub_mchid: string; sub_appid: string };
beforeAll(async () => {
  t = await startTestCloud({ wechatpayMode: 'partner', env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  const [a, b] = t.cloud.pay.subMerchants;
  A = a!;
  B = { sub_mchid: b!.sub_mchid, sub_appid: b!.sub_appid! };
});
afterAll(() => t.close());

const db = () => t.cloud.engine.database();
/** A user in sub-merchant B's own mini-program (its openid there differs from ours). */
const inB = <T>(fn: string, event: unknown, user: string) => t.cloud.call(fn, event, user, B.sub_appid) as Promise<T>;
const okInB = async <T>(fn: string, event: unknown, user: string): Promise<T> => {
  const result = await inB<{ ok: boolean; data: T; error?: unknown }>(fn, event, user);
  if (!result.ok) throw new Error(`${fn} failed: ${JSON.stringify(result.error)}`);
  return result.data;
};
const SHIPPING_ADDRESS = {
  userName: '张三',
  telNumber: '13800138000',
  provinceName: '广东省',
  cityName: '深圳市',
  countyName: '南山区',
  detailInfo: '科技园 1 号',
};

const confirmIn = (call: typeof t.ok, user: string, productId: string) =>
  call<OrderView>(
    'orders',
    {
      action: 'confirm',
      requestId: `req-partner-${productId}-${Math.random().toString(36).slice(2, 10)}`,
      items: [{ productId, quantity: 1 }],
      contact: { name: '张三', phone: '13800138000' },
      remark: '',
      // the beans are shipped: their orders carry an address (fulfilment)
      ...(productId === 'beans-250g' ? { address: SHIPPING_ADDRESS } : {}),
    },
    user,
  );

/** The decrypted resource of a notification the simulator sent. */
function resourceOf(body: string): Record<string, unknown> {
  const { resource } = JSON.parse(body) as { resource: { nonce: string; associated_data: string; ciphertext: string } };
  return JSON.parse(
    decryptAesGcm({
      key: t.cloud.keys.apiV3Key,
      nonce: resource.nonce,
      associatedData: resource.associated_data,
      ciphertext: resource.ciphertext,
    }),
  ) as Record<string, unknown>;
}

/** Pays through the payment sheet's checks with the appId of the mini-program the buyer is in. */
async function payIn(appId: string, pay: PayResponse) {
  const { transaction } = await t.cloud.pay.cashier('pay', { appId, ...pay.params });
  return transaction as { out_trade_no: string };
}

test('the products belong to the two sub-merchants; an order of both is refused at confirmation', async () => {
  const owners = (await db().collection('products').where({}).get()).data.map((p) => [p._id, p.subMchid]);
  expect(Object.fromEntries(owners)).toMatchObject({ latte: A.sub_mchid, americano: B.sub_mchid });
  const mixed = await t.call(
    'orders',
    {
      action: 'confirm',
      requestId: 'req-partner-mixed-0001',
      items: [
        { productId: 'latte', quantity: 1 },
        { productId: 'americano', quantity: 1 },
      ],
      contact: { name: '张三', phone: '13800138000' },
      remark: '',
    },
    'alice',
  );
  expect(mixed).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'items' } });
  expect((await db().collection('orders').where({ requestId: 'req-partner-mixed-0001' }).count()).total).toBe(0);
});

test('sub-merchant A, paid in the service provider’s mini-program: sp_openid, paySign with sp_appid, partner notification', async () => {
  const order = await confirmIn(t.ok, 'alice', 'latte');
  const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
  const message = `${t.cloud.keys.appid}\n${pay.params.timeStamp}\n${pay.params.nonceStr}\n${pay.params.package}\n`;
  expect(verifySha256Rsa(message, pay.params.paySign, createPublicKey(t.cloud.keys.merchantCertificatePem))).toBe(true);
  // the sheet in another mini-program refuses it: the prepay named no sub_appid
  await expect(payIn(B.sub_appid, pay)).rejects.toMatchObject({ code: 'APPID_MISMATCH' });
  await payIn(t.cloud.keys.appid, pay);
  const paid = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'paid',
  );
  expect(paid.paidFen).toBe(order.totalFen);
  const tx = await t.cloud.pay.getTransaction(`${order.id}P1`);
  expect(tx).toMatchObject({ sub_mchid: A.sub_mchid, payer_kind: 'sp_openid', payer: { openid: t.openid('alice') } });
  expect(tx!.sub_appid).toBeUndefined();
  const [paidNotice] = await waitFor(
    () => t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1`, state: 'delivered' }),
    (ds) => ds.length === 1,
  );
  expect(resourceOf(paidNotice!.body)).toMatchObject({
    sp_appid: t.cloud.keys.appid,
    sp_mchid: t.cloud.keys.mchid,
    sub_mchid: A.sub_mchid,
    payer: { sp_openid: t.openid('alice') },
  });
  expect(resourceOf(paidNotice!.body)).not.toHaveProperty('sub_appid');
  expect((await db().collection('payments').doc(`${order.id}P1`).get()).data).toMatchObject({
    status: 'success',
    settledVia: 'notification',
    subMchid: A.sub_mchid,
  });
});

test('sub-merchant B, paid in B’s own mini-program: sub_appid, sub_openid, paySign with sub_appid; confirm queries the partner endpoint', async () => {
  const order = await confirmIn(okInB as typeof t.ok, 'bob', 'americano');
  const pay = await okInB<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'bob');
  const message = `${B.sub_appid}\n${pay.params.timeStamp}\n${pay.params.nonceStr}\n${pay.params.package}\n`;
  expect(verifySha256Rsa(message, pay.params.paySign, createPublicKey(t.cloud.keys.merchantCertificatePem))).toBe(true);
  await expect(payIn(t.cloud.keys.appid, pay)).rejects.toMatchObject({ code: 'APPID_MISMATCH' });
  // the notification lost: the result page's "I have paid" asks WeChat Pay (the partner query) instead
  await fetch(`${t.cloud.urls.wechatpay}/sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'notify', kind: 'DROP' }),
  });
  await payIn(B.sub_appid, pay);
  const confirmed = await okInB<OrderView>('payment', { action: 'confirm', orderId: order.id }, 'bob');
  expect(confirmed.status).toBe('paid');
  expect(await t.cloud.pay.getTransaction(`${order.id}P1`)).toMatchObject({
    sub_mchid: B.sub_mchid,
    sub_appid: B.sub_appid,
    payer_kind: 'sub_openid',
    payer: { openid: t.cloud.wxApi.openidFor('bob', B.sub_appid) },
  });
  expect((await db().collection('payments').doc(`${order.id}P1`).get()).data).toMatchObject({
    status: 'success',
    settledVia: 'query',
    subMchid: B.sub_mchid,
    subAppid: B.sub_appid,
  });
});

test('close: cancelling B’s unpaid order closes it at WeChat Pay with sp_mchid and sub_mchid', async () => {
  const order = await confirmIn(t.ok, 'carol', 'beans-250g');
  const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'carol');
  expect(await t.ok<OrderView>('orders', { action: 'cancel', orderId: order.id }, 'carol')).toMatchObject({
    status: 'cancelled',
  });
  expect(await t.cloud.pay.getTransaction(`${order.id}P1`)).toMatchObject({
    trade_state: 'CLOSED',
    sub_mchid: B.sub_mchid,
  });
  await expect(t.cloud.pay.cashier('pay', prepayId)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
});

test('refund: the user’s refund of A’s order goes with sub_mchid and settles by the partner refund notification', async () => {
  const order = await confirmIn(t.ok, 'alice', 'croissant');
  await t.payAndWait('alice', order.id);
  await t.ok(
    'orders',
    { action: 'requestRefund', orderId: order.id, reason: '不想要了', requestId: 'refund-partner-0001' },
    'alice',
  );
  const refunded = await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'refunded',
  );
  expect(refunded.refundedFen).toBe(order.totalFen);
  const refunds = (await db().collection('refunds').where({ orderId: order.id }).get()).data;
  expect(refunds).toEqual([expect.objectContaining({ subMchid: A.sub_mchid, status: 'success' })]);
  const [refundNotice] = await waitFor(
    () => t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1`, eventType: 'REFUND.SUCCESS', state: 'delivered' }),
    (ds) => ds.length === 1,
  );
  // the partner refund resource names the service provider and the sub-merchant, no mchid
  expect(resourceOf(refundNotice!.body)).toMatchObject({ sp_mchid: t.cloud.keys.mchid, sub_mchid: A.sub_mchid });
  expect(resourceOf(refundNotice!.body)).not.toHaveProperty('mchid');
});

test('reconcile: a paid order whose notification was lost is settled by the partner query', async () => {
  const order = await confirmIn(t.ok, 'dave', 'class-latte-art');
  const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'dave');
  await fetch(`${t.cloud.urls.wechatpay}/sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ target: 'notify', kind: 'DROP' }),
  });
  await payIn(t.cloud.keys.appid, pay);
  await db()
    .collection('payments')
    .where({ _id: `${order.id}P1` })
    .update({ data: { nextCheckAt: 0 } });
  await t.cloud.host.runTimer('reconcile');
  expect(await t.order('dave', order.id)).toMatchObject({ status: 'paid' });
  expect((await db().collection('payments').doc(`${order.id}P1`).get()).data).toMatchObject({
    settledVia: 'reconcile',
  });
});

test('the bill: the service provider’s bill of all sub-merchants matches the books; one sub-merchant’s holds only its trades', async () => {
  const day = chinaDate(t.cloud.pay.now());
  const ledger = await t.cloud.pay.listTransactions();
  const paidOf = (sub: string) =>
    ledger.filter((tx) => tx.sub_mchid === sub && ['SUCCESS', 'REFUND'].includes(tx.trade_state)).map((tx) => tx._id);
  const billOf = async (sub?: string) => {
    const file = (await t.cloud.pay.bills.buildTradeBill(day, 'ALL', sub ? { subMchid: sub } : {}))!;
    return file.bytes.toString('utf8');
  };
  const billA = await billOf(A.sub_mchid);
  for (const no of paidOf(A.sub_mchid)) expect(billA).toContain(no);
  for (const no of paidOf(B.sub_mchid)) expect(billA).not.toContain(no);
  expect(billA).toContain(`\`${A.sub_mchid}`); // the 特约商户号 column
  // the books job compares the day with the service provider's whole bill
  t.cloud.pay.setClock(chinaDayStart(day)! + (24 + 10.5) * 3600_000);
  const statement = await t.ok<StatementView>('books', { action: 'runBillDay', billDate: day }, 'admin');
  t.cloud.pay.simClock.reset();
  expect(statement).toMatchObject({ status: 'done', differenceCount: 0, openCount: 0 });
  expect(statement.bill!.rows).toBe(ledger.filter((tx) => tx.transaction_id).length + 1); // + the refund row
});

test('Native (the PC checkout) for sub-merchant B: the partner Native prepay, a scan, payer.sp_openid, paid', async () => {
  const post = async <T>(path: string, body: unknown, token?: string) => {
    const response = await fetch(`${t.cloud.urls.http}/checkout${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  const created = await post<{ token: string; order: { id: string } }>('/api/orders', {
    items: [{ productId: 'sample-1fen', quantity: 1 }],
  });
  expect(created.status).toBe(201);
  const paying = await post<{ order: { code: { codeUrl: string } } }>('/api/order/pay', {}, created.json.token);
  expect(paying.status).toBe(200);
  const outTradeNo = `${created.json.order.id}P1`;
  expect(await t.cloud.pay.getTransaction(outTradeNo)).toMatchObject({
    trade_type: 'NATIVE',
    sub_mchid: B.sub_mchid,
    payer_kind: 'sp_openid',
  });
  await t.cloud.pay.scan('pay', paying.json.order.code.codeUrl, t.openid('erin'));
  const [notice] = await waitFor(
    () => t.cloud.pay.notifier.list({ outTradeNo, state: 'delivered' }),
    (ds) => ds.length === 1,
  );
  expect(resourceOf(notice!.body)).toMatchObject({
    trade_type: 'NATIVE',
    sub_mchid: B.sub_mchid,
    payer: { sp_openid: t.openid('erin') },
  });
  expect((await db().collection('orders').doc(created.json.order.id).get()).data).toMatchObject({
    status: 'paid',
    subMchid: B.sub_mchid,
  });
});
