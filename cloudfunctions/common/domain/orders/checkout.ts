/**
 * The Native checkout: a guest on a PC picks items, gets a server-priced order and pays it by scanning a QR code
 * (WeChat Pay's Native下单), on the same order core as the mini-program (orders.ts pricing, payments.ts prepay,
 * settlement.ts for notifications, queries, reconcile, refunds and bills).
 *
 * Identity: a guest has no login. Creating an order answers a random token (32 bytes) that is the order's bearer
 * credential; only its SHA-256 is kept, and the order's id is derived from that hash, so the token finds its order in
 * one read and the id (which WeChat Pay shows the payer as part of the out_trade_no) reveals nothing of the token. A
 * token that is malformed, unknown or another order's answers NOT_FOUND, exactly like a missing order.
 *
 * Rate limits, per client IP and per token (rate-limit.ts): creating orders, every API call, renewing the code, and
 * asking WeChat Pay.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CheckoutAnswer, CheckoutCatalog, CheckoutCreated, CheckoutOrderView } from '../../../../typings/checkout';
import { COLLECTIONS } from '../../store/store';
import { listCatalog } from './catalog';
import type { Deps } from '../deps';
import { DomainError } from '../errors';
import { merchantFields, orderMerchant } from '../merchants';
import { parseItems, pendingOrder, priceItems } from './orders';
import { payNative } from '../money/payments';
import type { OrderDoc, PaymentDoc } from '../records';
import { takeRate, type RateLimit } from '../rate-limit';
import { settleByQuery } from '../money/settlement';
import { asObject, onlyKeys } from '../validate';

/** Who is calling: the client's IP address as the platform reports it. */
export interface CheckoutClient {
  ip: string;
}

const MINUTE = 60_000;
/** The limits, by what they protect. */
export const CHECKOUT_LIMITS = {
  /** new orders from one address */
  create: { scope: 'checkout-create-ip', max: 10, windowMs: 10 * MINUTE },
  /** every call from one address (a shared office NAT included) */
  ip: { scope: 'checkout-ip', max: 300, windowMs: MINUTE },
  /** every call with one token: the page polls every 2 s, then slower */
  token: { scope: 'checkout-token', max: 60, windowMs: MINUTE },
  /** code renewals with one token (each may prepay at WeChat Pay) */
  pay: { scope: 'checkout-pay', max: 10, windowMs: 10 * MINUTE },
  /** "我已支付" with one token (each queries WeChat Pay) */
  check: { scope: 'checkout-check', max: 6, windowMs: MINUTE },
} as const satisfies Record<string, RateLimit>;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const notFound = () => new DomainError('NOT_FOUND', '订单不存在');

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A guest order's id: from the token's hash, so the token finds it and the id tells nothing of the token. */
export const guestOrderId = (tokenHash: string) => `G${tokenHash.slice(0, 20).toUpperCase()}`;

/** The order the token is the bearer of; NOT_FOUND for anything else. Costs the address's limit, then the token's. */
async function loadByToken(
  deps: Deps,
  token: unknown,
  client: CheckoutClient,
): Promise<{ order: OrderDoc; tokenHash: string }> {
  await takeRate(deps, CHECKOUT_LIMITS.ip, client.ip);
  if (typeof token !== 'string' || !TOKEN.test(token)) throw notFound();
  const tokenHash = sha256(token);
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, guestOrderId(tokenHash));
  const stored = order?.guest?.tokenHash;
  if (
    !order ||
    !stored ||
    stored.length !== tokenHash.length ||
    !timingSafeEqual(Buffer.from(stored), Buffer.from(tokenHash))
  )
    throw notFound();
  // the token's own budget only once it is a real order's: a guessed token costs its address, and writes nothing
  await takeRate(deps, CHECKOUT_LIMITS.token, tokenHash);
  return { order, tokenHash };
}

async function answer(deps: Deps, order: OrderDoc): Promise<CheckoutAnswer> {
  const now = deps.clock();
  const view: CheckoutOrderView = {
    id: order._id,
    status: order.status,
    items: order.items,
    totalFen: order.totalFen,
    refundedFen: order.refundedFen,
    createdAt: order.createdAt,
    expiresAt: order.expiresAt,
    ...(order.paidAt !== undefined ? { paidAt: order.paidAt } : {}),
  };
  if (order.status === 'pending_payment' && order.activePaymentId) {
    const payment = await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, order.activePaymentId);
    if (payment?.status === 'prepaid' && payment.codeUrl && payment.prepayExpiresAt !== undefined) {
      view.code = {
        codeUrl: payment.codeUrl,
        expiresAt: payment.prepayExpiresAt,
        lapsed: now >= payment.prepayExpiresAt,
      };
    }
  }
  return { order: view, now };
}

export async function checkoutCatalog(deps: Deps, client: CheckoutClient): Promise<CheckoutCatalog> {
  await takeRate(deps, CHECKOUT_LIMITS.ip, client.ip);
  return listCatalog(deps, { action: 'list' });
}

/** A guest's order, priced on the server; answers its token once. */
export async function createGuestOrder(deps: Deps, body: unknown, client: CheckoutClient): Promise<CheckoutCreated> {
  await takeRate(deps, CHECKOUT_LIMITS.ip, client.ip);
  const obj = asObject(body, 'body');
  onlyKeys(obj, ['items'], 'body');
  const input = parseItems(obj.items);
  const { items, totalFen, serviceStartsAt, products } = await priceItems(deps, input);
  const merchant = await orderMerchant(deps, products, undefined); // a guest pays by scanning: no mini-program of ours
  await takeRate(deps, CHECKOUT_LIMITS.create, client.ip);
  const token = randomBytes(32).toString('base64url');
  const tokenHash = sha256(token);
  const id = guestOrderId(tokenHash);
  const order = pendingOrder(deps, {
    ...merchantFields(merchant),
    _id: id,
    openid: '',
    requestId: id,
    items,
    totalFen,
    contact: { name: '', phone: '' },
    remark: '',
    guest: { tokenHash },
    ...(serviceStartsAt !== undefined ? { serviceStartsAt } : {}),
  });
  if ((await deps.store.insert(COLLECTIONS.orders, order)) !== 'created')
    throw new DomainError('INTERNAL', '订单创建失败，请重试');
  return { token, ...(await answer(deps, order)) };
}

export async function readGuestOrder(deps: Deps, token: unknown, client: CheckoutClient): Promise<CheckoutAnswer> {
  const { order } = await loadByToken(deps, token, client);
  return answer(deps, order);
}

/** The QR code: the order's code_url, reused while it lasts, renewed (same out_trade_no) when it is about to lapse. */
export async function payGuestOrder(deps: Deps, token: unknown, client: CheckoutClient): Promise<CheckoutAnswer> {
  const { order, tokenHash } = await loadByToken(deps, token, client);
  if (order.status === 'pending_payment' && deps.clock() < order.expiresAt) {
    await takeRate(deps, CHECKOUT_LIMITS.pay, tokenHash);
    await payNative(deps, order._id);
  } else if (order.status === 'pending_payment') {
    throw new DomainError('ORDER_EXPIRED', '订单已过期，请重新下单');
  }
  return answer(deps, (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!);
}

/** "我已支付": asks WeChat Pay about the order's payment and settles what it says; the page never decides paid itself. */
export async function checkGuestOrder(deps: Deps, token: unknown, client: CheckoutClient): Promise<CheckoutAnswer> {
  const { order, tokenHash } = await loadByToken(deps, token, client);
  if (order.status === 'pending_payment' && order.activePaymentId) {
    await takeRate(deps, CHECKOUT_LIMITS.check, tokenHash);
    await settleByQuery(deps, order.activePaymentId);
  }
  return answer(deps, (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!);
}
