/**
 * Settlement in partner mode (domain/money/settlement.ts): a service provider's transaction settles a payment only
 * when sp_mchid and sp_appid are ours, sub_mchid is the order's sub-merchant, sub_appid is as prepaid, and the payer
 * is named under the openid kind prepaid (payer.sp_openid, or payer.sub_openid when the prepay named sub_appid).
 * Anything else changes nothing and opens an exception; another sub-merchant's CLOSED does not close ours.
 */
import { exceptionId } from '../../../cloudfunctions/common/domain/attention/exceptions';
import { settleByQuery, settleTransaction } from '../../../cloudfunctions/common/domain/money/settlement';
import type { PaymentDoc } from '../../../cloudfunctions/common/domain/records';
import type { Transaction } from '../../../cloudfunctions/common/wechatpay';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import {
  APPID,
  BUYER,
  createHarness,
  exceptions,
  getException,
  getOrder,
  getPayment,
  MCHID,
  seedUnpaidOrder,
  successTx,
  type Harness,
} from './harness';

const SUB_A = '1900000201';
const SUB_B = '1900000202';
const SUB_APPID_B = 'wxb0000000000000b2';

let h: Harness;
beforeEach(() => {
  h = createHarness({ mode: 'partner' });
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

/** An unpaid order of a sub-merchant, prepaid as the buyer in our mini-program (sp_openid) or in the sub-merchant's. */
async function seedPartnerOrder(subMchid: string, subAppid?: string): Promise<PaymentDoc> {
  const { order, payments } = await seedUnpaidOrder(h, 1990);
  const fields = { subMchid, ...(subAppid ? { subAppid } : {}) };
  await h.store.updateWhere(COLLECTIONS.orders, { _id: order._id }, fields);
  await h.store.updateWhere(COLLECTIONS.payments, { _id: payments[0]!._id }, fields);
  return { ...payments[0]!, ...fields };
}

/** WeChat Pay's partner transaction for a payment as prepaid; `overrides` replace fields of it. */
function partnerTx(payment: PaymentDoc, overrides: Partial<Transaction> = {}): Transaction {
  const { appid: _appid, mchid: _mchid, payer: _payer, ...rest } = successTx(payment);
  return {
    ...rest,
    sp_appid: APPID,
    sp_mchid: MCHID,
    sub_mchid: payment.subMchid!,
    ...(payment.subAppid ? { sub_appid: payment.subAppid } : {}),
    payer: payment.subAppid ? { sub_openid: BUYER } : { sp_openid: BUYER },
    ...overrides,
  };
}

async function expectUnchanged(payment: PaymentDoc, detail: RegExp) {
  expect((await getOrder(h, payment.orderId)).status).toBe('pending_payment');
  expect(await getPayment(h, payment._id)).toMatchObject({ status: 'prepaid' });
  expect(await h.store.getById(COLLECTIONS.transactionClaims, `4200${payment._id}`)).toBeUndefined();
  expect(await getException(h, exceptionId('payment_mismatch', payment._id))).toMatchObject({
    status: 'open',
    orderId: payment.orderId,
    detail: expect.stringMatching(detail),
  });
}

test('a transaction of the order’s sub-merchant as prepaid settles it: sp_openid, and sub_openid with sub_appid', async () => {
  const a = await seedPartnerOrder(SUB_A);
  expect(await settleTransaction(h.deps, partnerTx(a), 'notification')).toBe('paid');
  const b = await seedPartnerOrder(SUB_B, SUB_APPID_B);
  expect(await settleTransaction(h.deps, partnerTx(b), 'notification')).toBe('paid');
  expect((await getOrder(h, a.orderId)).status).toBe('paid');
  expect((await getOrder(h, b.orderId)).status).toBe('paid');
  expect(await exceptions(h)).toEqual([]);
});

test('sub-merchant B’s notification naming A’s order changes nothing and opens an exception', async () => {
  const a = await seedPartnerOrder(SUB_A);
  expect(await settleTransaction(h.deps, partnerTx(a, { sub_mchid: SUB_B }), 'notification')).toBe('merchant_mismatch');
  await expectUnchanged(a, /sub_mchid 1900000202 is not the order's sub-merchant 1900000201/);
});

test('another sub-merchant’s CLOSED does not close our payment', async () => {
  const a = await seedPartnerOrder(SUB_A);
  const closed = partnerTx(a, { sub_mchid: SUB_B, trade_state: 'CLOSED' });
  delete closed.transaction_id;
  expect(await settleTransaction(h.deps, closed)).toBe('merchant_mismatch');
  expect(await getPayment(h, a._id)).toMatchObject({ status: 'prepaid' });
});

test('a wrong sp_appid or sp_mchid is not ours: nothing changes', async () => {
  const a = await seedPartnerOrder(SUB_A);
  expect(await settleTransaction(h.deps, partnerTx(a, { sp_appid: 'wx0000000000other1' }))).toBe('merchant_mismatch');
  expect(await settleTransaction(h.deps, partnerTx(a, { sp_mchid: '1900000999' }))).toBe('merchant_mismatch');
  // a direct merchant's transaction (appid, mchid) is not a service provider's
  expect(await settleTransaction(h.deps, successTx(a))).toBe('merchant_mismatch');
  expect((await getOrder(h, a.orderId)).status).toBe('pending_payment');
  expect(await getPayment(h, a._id)).toMatchObject({ status: 'prepaid' });
});

test('a sub_appid other than the prepay’s (or one the prepay did not name) changes nothing', async () => {
  const b = await seedPartnerOrder(SUB_B, SUB_APPID_B);
  expect(await settleTransaction(h.deps, partnerTx(b, { sub_appid: 'wxb0000000000000zz' }))).toBe('merchant_mismatch');
  await expectUnchanged(b, /sub_appid wxb0000000000000zz is not the prepay's wxb0000000000000b2/);
  const a = await seedPartnerOrder(SUB_A);
  expect(await settleTransaction(h.deps, partnerTx(a, { sub_appid: SUB_APPID_B }))).toBe('merchant_mismatch');
  await expectUnchanged(a, /sub_appid wxb0000000000000b2 is not the prepay's undefined/);
});

test('the payer under the other openid kind is not the payer prepaid', async () => {
  const a = await seedPartnerOrder(SUB_A);
  expect(await settleTransaction(h.deps, partnerTx(a, { payer: { sub_openid: BUYER } }))).toBe('payment_mismatch');
  await expectUnchanged(a, /payer\.sp_openid differs/);
  const b = await seedPartnerOrder(SUB_B, SUB_APPID_B);
  expect(await settleTransaction(h.deps, partnerTx(b, { payer: { sp_openid: BUYER } }))).toBe('payment_mismatch');
  await expectUnchanged(b, /payer\.sub_openid differs/);
});

test('a query asks for the payment’s sub-merchant; a payment we never made is not asked about', async () => {
  const b = await seedPartnerOrder(SUB_B, SUB_APPID_B);
  const asked: unknown[] = [];
  h.deps.pay.client.queryByOutTradeNo = async (outTradeNo, sub) => {
    asked.push([outTradeNo, sub]);
    return partnerTx(b);
  };
  expect(await settleByQuery(h.deps, b._id)).toBe('paid');
  expect(asked).toEqual([[b._id, { subMchid: SUB_B, subAppid: SUB_APPID_B }]]);
  expect(await settleByQuery(h.deps, 'ORD-never-made-P1')).toBe('not_found');
  expect(asked).toHaveLength(1);
});
