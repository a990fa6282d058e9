/**
 * The merchant's order search and order view (admin only, audited like every admin action). One box takes what a
 * customer or WeChat Pay's merchant platform gives the merchant: the order number (a mini-program's O… or a guest's
 * G…), the out_trade_no of one of its payments, WeChat Pay's transaction_id, or the contact's phone number (the newest 20 orders).
 */
import type {
  AdminGetOrderRequest,
  AdminOrderSummary,
  AdminOrderView,
  AdminPaymentView,
  SearchOrdersRequest,
  SearchOrdersResponse,
} from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { refundsOf } from '../access';
import { adminAction } from './action';
import { loadOrder } from './admin';
import { inScope } from '../merchants';
import type { Deps } from '../deps';
import { invalid } from '../errors';
import type { OrderDoc, PaymentDoc } from '../records';
import { onlyKeys, readOrderId, readString } from '../validate';
import { toView } from '../views';

/** O: a mini-program order (orders.ts); G: a guest's Native checkout order (checkout.ts guestOrderId) */
const ORDER_ID = /^[OG][0-9A-F]{20}$/;
const OUT_TRADE_NO = /^([OG][0-9A-F]{20})P\d{1,6}$/;
const PHONE = /^1[3-9]\d{9}$/;
/** WeChat Pay's transaction_id: 28 digits today; a little room either side */
const TRANSACTION_ID = /^\d{20,32}$/;
export const PHONE_SEARCH_LIMIT = 20;

type MatchedBy = SearchOrdersResponse['matchedBy'];

export function classifyQuery(raw: string): { by: MatchedBy; value: string } | undefined {
  const compact = raw.replace(/[\s-]/g, '');
  const upper = compact.toUpperCase();
  if (ORDER_ID.test(upper)) return { by: 'orderId', value: upper };
  if (OUT_TRADE_NO.test(upper)) return { by: 'outTradeNo', value: upper };
  if (PHONE.test(compact)) return { by: 'phone', value: compact };
  if (TRANSACTION_ID.test(compact)) return { by: 'transactionId', value: compact };
  return undefined;
}

function toSummary(order: OrderDoc): AdminOrderSummary {
  return {
    id: order._id,
    status: order.status,
    items: order.items,
    totalFen: order.totalFen,
    paidFen: order.paidFen,
    refundedFen: order.refundedFen,
    refundableFen: order.refundableFen,
    contact: order.contact,
    createdAt: order.createdAt,
  };
}

function toPaymentView(payment: PaymentDoc): AdminPaymentView {
  return {
    outTradeNo: payment._id,
    status: payment.status,
    amountFen: payment.amountFen,
    ...(payment.paidTotalFen !== undefined ? { paidTotalFen: payment.paidTotalFen } : {}),
    ...(payment.transactionId ? { transactionId: payment.transactionId } : {}),
    createdAt: payment.createdAt,
    ...(payment.paidAt !== undefined ? { paidAt: payment.paidAt } : {}),
  };
}

async function orderOfPayment(deps: Deps, outTradeNo: string): Promise<OrderDoc | undefined> {
  const payment = await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, outTradeNo);
  return payment ? deps.store.getById<OrderDoc>(COLLECTIONS.orders, payment.orderId) : undefined;
}

async function find(deps: Deps, by: MatchedBy, value: string): Promise<OrderDoc[]> {
  const { store } = deps;
  let found: OrderDoc | undefined;
  switch (by) {
    case 'orderId':
      found = await store.getById<OrderDoc>(COLLECTIONS.orders, value);
      break;
    case 'outTradeNo':
      found = await orderOfPayment(deps, value);
      break;
    case 'transactionId': {
      // every successful transaction is claimed by the payment it settled (settlement.ts), duplicates included
      const claim = await store.getById<{ outTradeNo: string }>(COLLECTIONS.transactionClaims, value);
      found = claim ? await orderOfPayment(deps, claim.outTradeNo) : undefined;
      break;
    }
    case 'phone':
      return store.find<OrderDoc>(
        COLLECTIONS.orders,
        { 'contact.phone': value },
        { orderBy: [['createdAt', 'desc']], limit: PHONE_SEARCH_LIMIT },
      );
  }
  return found ? [found] : [];
}

/** admin.searchOrders { query } */
export const searchOrders = adminAction<SearchOrdersResponse>(
  'searchOrders',
  async (deps, _admin, obj, scope) => {
    onlyKeys(obj, ['action', 'query']);
    const { query }: SearchOrdersRequest = { query: readString(obj, 'query', { max: 64 }) };
    const kind = classifyQuery(query);
    if (!kind) throw invalid('query', '请输入订单号、商户单号、微信支付单号或手机号');
    // a sub-merchant admin finds its own sub-merchant's orders only
    const orders = (await find(deps, kind.by, kind.value)).filter((order) => inScope(scope, order));
    // the audit names what was looked up, the phone masked
    const target =
      kind.by === 'phone' ? `phone:${kind.value.slice(0, 3)}****${kind.value.slice(7)}` : `${kind.by}:${kind.value}`;
    return { result: { matchedBy: kind.by, orders: orders.map(toSummary) }, target, note: `${orders.length} found` };
  },
  { subMerchantAdmins: true },
);

/** admin.getOrder { orderId }: any order, with its payments, refunds and buyer. */
export const adminGetOrder = adminAction<AdminOrderView>(
  'getOrder',
  async (deps, _admin, obj, scope) => {
    onlyKeys(obj, ['action', 'orderId']);
    const { orderId }: AdminGetOrderRequest = { orderId: readOrderId(obj) };
    const order = await loadOrder(deps, orderId, scope);
    return { result: await adminOrderView(deps, order), target: orderId };
  },
  { subMerchantAdmins: true },
);

/** The order as the merchant sees it: the owner's view, its payments, buyer and WeChat-side shipping upload. */
export async function adminOrderView(deps: Deps, order: OrderDoc): Promise<AdminOrderView> {
  const orderId = order._id;
  const [refunds, payments] = await Promise.all([
    refundsOf(deps, orderId),
    deps.store.find<PaymentDoc>(COLLECTIONS.payments, { orderId }, { orderBy: [['createdAt', 'asc']], limit: 50 }),
  ]);
  const w = order.wxShipping;
  return {
    ...toView(order, deps, refunds),
    openid: order.openid,
    payments: payments.map(toPaymentView),
    ...(order.fulfilment && order.paidAt !== undefined
      ? {
          wechatShipping: w
            ? {
                status: w.status,
                logisticsType: w.logisticsType,
                attempts: w.attempts,
                ...(w.status === 'failed' || w.status === 'pending' ? { nextAttemptAt: w.nextAttemptAt } : {}),
                ...(w.lastError ? { lastError: w.lastError } : {}),
                ...(w.uploadedAt !== undefined ? { uploadedAt: w.uploadedAt } : {}),
                canCorrect: w.status === 'uploaded' && !w.corrected && !w.correctionPending && w.logisticsType === 1,
                ...(w.wxOrderState !== undefined ? { wxOrderState: w.wxOrderState } : {}),
              }
            : { status: 'none', attempts: 0, canCorrect: false },
        }
      : {}),
  };
}
