/**
 * Settlement: what WeChat Pay says about a transaction, from a verified notification or from a query, applied by one
 * function so both paths change state in exactly the same way.
 *
 * Before anything is marked paid the transaction must be this merchant's (mchid, appid; in partner mode sp_mchid,
 * sp_appid, and the payment's sub_mchid and sub_appid), of a payment we made, by the payer we prepaid for (under the
 * openid kind prepaid), for the order it names (attach), in CNY, with a transaction_id no other payment settled.
 * Order first, payment second: a crash between the two leaves a paid order whose payment a later delivery or
 * reconcile completes, never a paid payment with an unpaid order. A success the order cannot use (it is already paid
 * by another payment) is a duplicate charge, refunded in full automatically.
 */
import { fenToYuan } from '../../../../typings/money';
import { rfc3339, type SubMerchantRef, type Transaction } from '../../wechatpay';
import { COLLECTIONS } from '../../store/store';
import { entry } from '../access';
import type { Deps } from '../deps';
import { openException } from '../attention/exceptions';
import { isPartner, subMerchantOf } from '../merchants';
import { isNotFound, providerError } from '../provider-errors';
import { PAYABLE_ORDER_STATES, type OrderDoc, type PaymentDoc, type RefundDoc, type SettledVia } from '../records';
import { duplicateChargeRefundNo, refundDuplicateCharge } from './refunds';
import { claimPaidMessage, markPaidMessageFailed } from './subscriptions';

export type SettleVerdict =
  | 'paid'
  | 'paid_repaired'
  | 'duplicate'
  | 'duplicate_charge'
  | 'amount_mismatch'
  | 'merchant_mismatch'
  | 'payment_mismatch'
  | 'transaction_reused'
  | 'unknown_payment'
  | 'not_paid'
  | 'closed';

const UNSETTLED: PaymentDoc['status'][] = ['created', 'prepaid', 'closed'];

/**
 * Whether a transaction is ours at all: a direct merchant's names our mchid and appid; a service provider's our sp_mchid
 * and sp_appid (the sub-merchant is checked against the payment, below).
 */
function foreignMerchant(deps: Deps, tx: Transaction): boolean {
  const { mchid, appid } = deps.pay.config;
  if (isPartner(deps)) return tx.sp_mchid !== mchid || tx.sp_appid !== appid;
  return tx.mchid !== mchid || tx.appid !== appid;
}

/**
 * Partner mode: why a transaction is not for this payment's sub-merchant as prepaid (sub_mchid the order's, sub_appid
 * as prepaid), or undefined. Checked in every trade state: another sub-merchant's CLOSED must not close ours either.
 */
function subMerchantMismatchOf(deps: Deps, payment: PaymentDoc, tx: Transaction): string | undefined {
  if (!isPartner(deps)) return undefined;
  if (tx.sub_mchid !== payment.subMchid)
    return `sub_mchid ${String(tx.sub_mchid)} is not the order's sub-merchant ${String(payment.subMchid)}`;
  if (tx.sub_appid !== payment.subAppid)
    return `sub_appid ${String(tx.sub_appid)} is not the prepay's ${String(payment.subAppid)}`;
  return undefined;
}

/**
 * The payer field a payment was prepaid with: payer.openid (direct); in partner mode payer.sub_openid when the prepay
 * named sub_appid (the buyer in the sub-merchant's mini-program), payer.sp_openid otherwise.
 */
function prepaidPayerKey(deps: Deps, payment: PaymentDoc): 'openid' | 'sp_openid' | 'sub_openid' {
  if (!isPartner(deps)) return 'openid';
  return payment.subAppid ? 'sub_openid' : 'sp_openid';
}

/** Why a successful transaction does not belong to this payment, or undefined when it does. */
function mismatchOf(deps: Deps, payment: PaymentDoc, tx: Transaction): string | undefined {
  if (!tx.transaction_id) return 'no transaction_id';
  // The payer check compares with a payer only where the prepay named one. A JSAPI prepay names its payer
  // (payer.openid, or in partner mode payer.sp_openid / payer.sub_openid), so a success by anyone else, or under the
  // other openid kind, is not this payment's. A Native prepay names nobody: whoever scans the code_url and pays is the
  // payer, known only from what WeChat Pay reports with the payment; it must be there, and the other proofs (this
  // merchant, our out_trade_no, attach, CNY, amount, an unclaimed transaction_id) still hold.
  const key = prepaidPayerKey(deps, payment);
  const reported = tx.payer?.[key];
  if (payment.tradeType === 'NATIVE') {
    if (!reported) return `no payer.${key} reported for a Native payment`;
  } else if (reported !== payment.openid) return `payer.${key} differs from the payment’s payer`;
  if (tx.attach !== payment.orderId) return 'attach differs from the order id';
  if (tx.amount?.currency !== 'CNY') return `currency ${String(tx.amount?.currency)} is not CNY`;
  return undefined;
}

/** A transaction that names this payment but not as it was made: nothing changes, a person looks at it. */
async function refuseMismatch(deps: Deps, payment: PaymentDoc, tx: Transaction, detail: string): Promise<void> {
  await openException(deps, {
    kind: 'payment_mismatch',
    key: payment._id,
    orderId: payment.orderId,
    outTradeNo: payment._id,
    ...(tx.transaction_id ? { transactionId: tx.transaction_id } : {}),
    expectedFen: payment.amountFen,
    ...(tx.amount?.total !== undefined ? { actualFen: tx.amount.total } : {}),
    detail,
  });
  deps.log.error('a transaction does not match its payment: not settled', { outTradeNo: payment._id, detail });
}

/**
 * Claims a transaction_id for a payment (its `_id` is the transaction_id, so the claim is one atomic insert); false
 * when another payment holds it.
 */
async function claimTransaction(deps: Deps, transactionId: string, outTradeNo: string): Promise<boolean> {
  const claim = { _id: transactionId, outTradeNo, at: deps.clock() };
  if ((await deps.store.insert(COLLECTIONS.transactionClaims, claim)) === 'created') return true;
  const held = await deps.store.getById<typeof claim>(COLLECTIONS.transactionClaims, transactionId);
  return held?.outTradeNo === outTradeNo;
}

/**
 * Applies what WeChat Pay says about a transaction. Round trips on a first success: read payment, claim the
 * transaction_id, CAS order, CAS payment. On a duplicate: read payment.
 */
export async function settleTransaction(
  deps: Deps,
  tx: Transaction,
  via: SettledVia = 'query',
): Promise<SettleVerdict> {
  const { store } = deps;
  if (foreignMerchant(deps, tx)) return 'merchant_mismatch';
  const payment = await store.getById<PaymentDoc>(COLLECTIONS.payments, tx.out_trade_no);
  const paid = tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND';
  if (!payment) {
    if (paid) {
      await openException(deps, {
        kind: 'unknown_payment',
        key: tx.out_trade_no,
        outTradeNo: tx.out_trade_no,
        ...(tx.transaction_id ? { transactionId: tx.transaction_id } : {}),
        ...(tx.amount?.total !== undefined ? { actualFen: tx.amount.total } : {}),
        detail: 'WeChat Pay reports a payment for an out_trade_no this backend never made',
      });
    }
    return 'unknown_payment';
  }
  const otherSubMerchant = subMerchantMismatchOf(deps, payment, tx);
  if (otherSubMerchant) {
    await refuseMismatch(deps, payment, tx, otherSubMerchant);
    return 'merchant_mismatch';
  }
  const now = deps.clock();
  const _ = store.command;

  if (!paid) {
    if (tx.trade_state === 'CLOSED' || tx.trade_state === 'REVOKED') {
      await store.updateWhere(
        COLLECTIONS.payments,
        { _id: payment._id, status: _.in(['created', 'prepaid']) },
        { status: 'closed', updatedAt: now },
      );
      return 'closed';
    }
    return 'not_paid';
  }
  if (payment.status === 'duplicate') {
    // a crash may have come between marking the duplicate and recording its exception or refund: complete them
    if (!(await store.getById<RefundDoc>(COLLECTIONS.refunds, duplicateChargeRefundNo(payment._id)))) {
      await handleDuplicateCharge(
        deps,
        payment,
        payment.transactionId ?? tx.transaction_id ?? '',
        payment.paidTotalFen ?? payment.amountFen,
        'unknown',
      );
    }
    return 'duplicate';
  }
  if (payment.status === 'success' || payment.status === 'amount_mismatch') return 'duplicate';

  const mismatch = mismatchOf(deps, payment, tx);
  if (mismatch || !(await claimTransaction(deps, tx.transaction_id!, payment._id))) {
    await refuseMismatch(
      deps,
      payment,
      tx,
      mismatch ?? `transaction_id ${tx.transaction_id} already settled another payment`,
    );
    return mismatch ? 'payment_mismatch' : 'transaction_reused';
  }
  const transactionId = tx.transaction_id!;
  const totalTaken = tx.amount!.total!;
  const paidAt = tx.success_time ? Date.parse(tx.success_time) : now;

  if (totalTaken !== payment.amountFen) {
    const detail = `WeChat Pay total ${totalTaken} fen, payment ${payment.amountFen} fen`;
    await store.updateWhere(
      COLLECTIONS.orders,
      { _id: payment.orderId, status: _.in([...PAYABLE_ORDER_STATES]) },
      {
        status: 'review',
        review: { reason: 'amount_mismatch', at: now, detail, outTradeNo: payment._id },
        updatedAt: now,
        timeline: _.push([entry(now, 'review', detail)]),
      },
    );
    await store.updateWhere(
      COLLECTIONS.payments,
      { _id: payment._id, status: _.in(UNSETTLED) },
      {
        status: 'amount_mismatch',
        transactionId,
        paidTotalFen: totalTaken,
        paidAt,
        settledVia: via,
        updatedAt: now,
      },
    );
    await openException(deps, {
      kind: 'amount_mismatch',
      key: payment._id,
      orderId: payment.orderId,
      outTradeNo: payment._id,
      transactionId,
      expectedFen: payment.amountFen,
      actualFen: totalTaken,
      detail,
    });
    return 'amount_mismatch';
  }

  const orderPaid = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: payment.orderId, status: _.in([...PAYABLE_ORDER_STATES]) },
    {
      status: 'paid',
      paidFen: payment.amountFen,
      refundableFen: payment.amountFen,
      refundedFen: 0,
      paidAt,
      paidOutTradeNo: payment._id,
      transactionId,
      updatedAt: now,
      timeline: _.push([entry(now, 'paid', transactionId)]),
    },
  );
  const order = orderPaid ? undefined : await store.getById<OrderDoc>(COLLECTIONS.orders, payment.orderId);
  if (orderPaid || order?.paidOutTradeNo === payment._id) {
    const paymentDone = await store.updateWhere(
      COLLECTIONS.payments,
      { _id: payment._id, status: _.in(UNSETTLED) },
      {
        status: 'success',
        transactionId,
        paidTotalFen: totalTaken,
        paidAt,
        settledVia: via,
        updatedAt: now,
      },
    );
    if (orderPaid) {
      await notifyPaid(deps, payment, paidAt);
      return 'paid';
    }
    return paymentDone ? 'paid_repaired' : 'duplicate';
  }
  // the order is settled by another payment (or is in a state that takes no payment): money the order never uses
  const marked = await store.updateWhere(
    COLLECTIONS.payments,
    { _id: payment._id, status: _.in(UNSETTLED) },
    {
      status: 'duplicate',
      transactionId,
      paidTotalFen: totalTaken,
      paidAt,
      settledVia: via,
      updatedAt: now,
    },
  );
  if (!marked) return 'duplicate'; // another delivery marked it: that one completes the rest
  await handleDuplicateCharge(deps, payment, transactionId, totalTaken, order?.status ?? 'missing');
  return 'duplicate_charge';
}

/**
 * The rest of a duplicate charge, each step idempotent so a repeat completes what a crash interrupted: the exception
 * (and, the first time it opens, the order's timeline entry), then the full refund under its derived out_refund_no.
 */
async function handleDuplicateCharge(
  deps: Deps,
  payment: PaymentDoc,
  transactionId: string,
  totalTaken: number,
  orderStatus: string,
): Promise<void> {
  const opened = await openException(deps, {
    kind: 'duplicate_charge',
    key: payment._id,
    orderId: payment.orderId,
    outTradeNo: payment._id,
    ...(transactionId ? { transactionId } : {}),
    actualFen: totalTaken,
    detail: `a second successful payment for order ${payment.orderId} (${orderStatus}): refunded in full automatically`,
  });
  if (opened.created) {
    const now = deps.clock();
    await deps.store.updateWhere(
      COLLECTIONS.orders,
      { _id: payment.orderId },
      { updatedAt: now, timeline: deps.store.command.push([entry(now, 'duplicate_charge', payment._id)]) },
    );
  }
  await refundDuplicateCharge(deps, payment, totalTaken);
}

async function notifyPaid(deps: Deps, payment: PaymentDoc, paidAt: number): Promise<void> {
  if (!payment.openid) return; // a guest's order (Native checkout): no mini-program user to message; the page shows paid
  const templateId = deps.config.subscribeTemplateId;
  if (!templateId) {
    deps.log.info('subscribe message skipped: SUBSCRIBE_TEMPLATE_ID is not set', { orderId: payment.orderId });
    return;
  }
  // only to a user who accepted it for this order (WeChat refuses others with 43101), and once
  if (!(await claimPaidMessage(deps, payment.orderId, payment.openid, templateId))) {
    deps.log.info('subscribe message skipped: not accepted for this order', { orderId: payment.orderId });
    return;
  }
  try {
    await deps.messenger.sendSubscribeMessage({
      touser: payment.openid,
      templateId,
      page: `pages/order/detail/index?id=${payment.orderId}`,
      data: {
        character_string1: { value: payment.orderId },
        amount2: { value: `${fenToYuan(payment.amountFen)}元` },
        thing3: { value: [...payment.description].slice(0, 20).join('') },
        time4: { value: rfc3339(paidAt).slice(0, 16).replace('T', ' ') },
      },
    });
  } catch (error) {
    // WeChat refused it (the user turned messages off meanwhile, say): payment stands regardless
    deps.log.warn('subscribe message not sent', { orderId: payment.orderId, error: (error as Error).message });
    await markPaidMessageFailed(deps, payment.orderId, (error as Error).message).catch(() => undefined);
  }
}

/**
 * Asks WeChat Pay about one out_trade_no, for its payment's sub-merchant in partner mode (a payment we never made
 * cannot be asked about there: undefined, as WeChat Pay's 404 would be). Errors are WeChat Pay's, unmapped.
 */
export async function queryTransaction(deps: Deps, outTradeNo: string): Promise<Transaction | undefined> {
  let sub: SubMerchantRef | undefined;
  if (isPartner(deps)) {
    const payment = await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, outTradeNo);
    if (!payment) return undefined;
    sub = subMerchantOf(deps, payment);
  }
  return deps.pay.client.queryByOutTradeNo(outTradeNo, sub);
}

/** Queries WeChat Pay for one out_trade_no and settles from the answer. */
export async function settleByQuery(
  deps: Deps,
  outTradeNo: string,
  via: SettledVia = 'query',
): Promise<SettleVerdict | 'not_found'> {
  let tx: Transaction | undefined;
  try {
    tx = await queryTransaction(deps, outTradeNo);
  } catch (error) {
    if (isNotFound(error)) return 'not_found';
    throw providerError(error);
  }
  if (!tx) return 'not_found';
  return settleTransaction(deps, tx, via);
}
