/**
 * Orders: confirmation priced on the server, owner-only reads, listing, and cancelling an unpaid order.
 * Every state change is a compare-and-set on the order's current status.
 */
import { createHash } from 'node:crypto';
import type {
  CancelOrderRequest,
  ConfirmOrderRequest,
  GetOrderRequest,
  ListOrdersRequest,
  ListOrdersResponse,
  OrderItem,
  OrderStatus,
  OrderView,
  ProductKind,
  ShippingAddress,
} from '../../../../typings/api';
import { ORDER_STATUSES } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { entry, loadOwnedOrder, refundsOf, requireCaller } from '../access';
import { productKind, type ProductDoc } from './catalog';
import type { Caller, Deps } from '../deps';
import { DomainError, invalid } from '../errors';
import { merchantFields, orderMerchant } from '../merchants';
import { endUnpaidOrder } from '../money/payments';
import type { OrderDoc } from '../records';
import {
  asObject,
  ID_PATTERN,
  onlyKeys,
  readEnum,
  readInt,
  readOrderId,
  readString,
  type WithDefaults,
} from '../validate';
import { findPage, readCursor } from '../paging';
import { toView } from '../views';

export const MAX_ITEMS = 20;
export const MAX_ORDER_FEN = 100_000_000; // ¥1,000,000: far above this shop, far below unsafe integers
const PHONE = /^1[3-9]\d{9}$/;

/** The order's id is derived from its owner and the client's request id: a retried confirm finds the same order. */
export function orderIdFor(openid: string, requestId: string): string {
  return `O${createHash('sha256').update(`${openid}\n${requestId}`).digest('hex').slice(0, 20).toUpperCase()}`;
}

// ---- confirm --------------------------------------------------------------------------------------------------

/** The items of an order as a client sends them: product ids and quantities, never prices. */
export function parseItems(value: unknown): ConfirmOrderRequest['items'] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('items', 'items must be a non-empty array');
  if (value.length > MAX_ITEMS) throw invalid('items', `at most ${MAX_ITEMS} items`);
  const seen = new Set<string>();
  return value.map((raw, i) => {
    const item = asObject(raw, `items[${i}]`);
    onlyKeys(item, ['productId', 'quantity'], `items[${i}]`);
    const productId = readString(item, 'productId', { max: 64, pattern: ID_PATTERN, field: `items[${i}].productId` });
    if (seen.has(productId)) throw invalid(`items[${i}].productId`, 'each product once; use quantity');
    seen.add(productId);
    const quantity = readInt(item, 'quantity', { min: 1, max: 999, field: `items[${i}].quantity` })!;
    return { productId, quantity };
  });
}

/** The confirm request, its remark `''` when absent. */
export function parseConfirm(event: unknown): WithDefaults<ConfirmOrderRequest, 'remark'> {
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'requestId', 'items', 'contact', 'remark', 'address']);
  const requestId = readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN });
  const items = parseItems(obj.items);
  const contactObj = asObject(obj.contact, 'contact');
  onlyKeys(contactObj, ['name', 'phone'], 'contact');
  const contact = {
    name: readString(contactObj, 'name', { max: 20, field: 'contact.name' }),
    phone: readString(contactObj, 'phone', { max: 11, pattern: PHONE, field: 'contact.phone' }),
  };
  const remark = readString(obj, 'remark', { min: 0, max: 200, optional: true }) ?? '';
  const address = obj.address === undefined ? undefined : parseAddress(obj.address);
  return { requestId, items, contact, remark, ...(address ? { address } : {}) };
}

/** wx.chooseAddress's answer: the fields the shipment needs, each bounded. */
export function parseAddress(value: unknown): ShippingAddress {
  const obj = asObject(value, 'address');
  // the client sends the address fields, not wx.chooseAddress's whole answer (errMsg, nationalCode, …)
  onlyKeys(
    obj,
    ['userName', 'telNumber', 'provinceName', 'cityName', 'countyName', 'detailInfo', 'postalCode'],
    'address',
  );
  // wx.chooseAddress answers more (errMsg, nationalCode, …): only what a shipment needs is read and kept
  const read = (k: string, max: number) => readString(obj, k, { max, field: `address.${k}` });
  const address: ShippingAddress = {
    userName: read('userName', 40),
    telNumber: readString(obj, 'telNumber', { max: 20, pattern: /^[0-9+\- ]{5,20}$/, field: 'address.telNumber' }),
    provinceName: read('provinceName', 40),
    cityName: read('cityName', 40),
    countyName: readString(obj, 'countyName', { min: 0, max: 40, field: 'address.countyName' }),
    detailInfo: read('detailInfo', 200),
  };
  const postalCode = readString(obj, 'postalCode', { min: 0, max: 10, optional: true, field: 'address.postalCode' });
  return postalCode ? { ...address, postalCode } : address;
}

/** Prices the items from the catalogue on the server: products on sale, within their per-order limit. */
export async function priceItems(
  deps: Deps,
  input: ConfirmOrderRequest['items'],
): Promise<{
  items: OrderItem[];
  totalFen: number;
  serviceStartsAt?: number;
  kind: ProductKind;
  products: ProductDoc[];
}> {
  const { store } = deps;
  const ids = input.map((i) => i.productId);
  const products = await store.find<ProductDoc>(
    COLLECTIONS.products,
    { _id: store.command.in(ids) },
    { limit: MAX_ITEMS },
  );
  const byId = new Map(products.map((p) => [p._id, p]));
  const items: OrderItem[] = input.map(({ productId, quantity }, i) => {
    const product = byId.get(productId);
    if (!product || !product.onSale) throw invalid(`items[${i}].productId`, '商品不存在或已下架');
    if (quantity > product.maxPerOrder) throw invalid(`items[${i}].quantity`, `每单最多购买 ${product.maxPerOrder} 件`);
    return {
      productId,
      title: product.title,
      unitPriceFen: product.priceFen,
      quantity,
      subtotalFen: product.priceFen * quantity,
    };
  });
  const totalFen = items.reduce((sum, item) => sum + item.subtotalFen, 0);
  if (totalFen <= 0) throw invalid('items', '订单金额必须大于 0');
  if (totalFen > MAX_ORDER_FEN) throw invalid('items', '订单金额超过上限');
  const starts = products.map((p) => p.serviceStartsAt).filter((t): t is number => typeof t === 'number');
  // one order, one way to the buyer: a coffee and a parcel are two orders (two fulfilments, two WeChat uploads)
  const kinds = new Set(input.map(({ productId }) => productKind(byId.get(productId)!)));
  if (kinds.size > 1) throw invalid('items', '自取、快递和服务类商品请分开下单');
  const kind = [...kinds][0]!;
  return { items, totalFen, kind, ...(starts.length ? { serviceStartsAt: Math.min(...starts) } : {}), products };
}

/** A new unpaid order: it expires after ORDER_EXPIRY_MINUTES, when reconcile looks at it next. */
export function pendingOrder(
  deps: Deps,
  fields: Pick<
    OrderDoc,
    | '_id'
    | 'openid'
    | 'requestId'
    | 'items'
    | 'totalFen'
    | 'contact'
    | 'remark'
    | 'serviceStartsAt'
    | 'guest'
    | 'fulfilment'
    | 'subMchid'
    | 'subAppid'
  >,
): OrderDoc {
  const now = deps.clock();
  const { serviceStartsAt, guest, fulfilment, ...rest } = fields; // rest names a sub-merchant only in partner mode
  return {
    ...rest,
    ...(guest ? { guest } : {}),
    ...(fulfilment ? { fulfilment } : {}),
    status: 'pending_payment',
    createdAt: now,
    updatedAt: now,
    expiresAt: now + deps.config.orderExpiryMinutes * 60_000,
    nextCheckAt: now + deps.config.orderExpiryMinutes * 60_000,
    ...(serviceStartsAt !== undefined ? { serviceStartsAt } : {}),
    paidFen: 0,
    refundableFen: 0,
    refundedFen: 0,
    refundReservations: {},
    paymentSeq: 0,
    timeline: [entry(now, 'created')],
  };
}

export async function confirmOrder(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  return toView(await placeOrder(deps, caller, parseConfirm(event)), deps);
}

/** The order this request makes: created, or the one the same requestId made before (the same items, or CONFLICT). */
export async function placeOrder(
  deps: Deps,
  caller: Caller,
  input: WithDefaults<ConfirmOrderRequest, 'remark'>,
): Promise<OrderDoc> {
  const openid = requireCaller(caller);
  const { store } = deps;
  const { items, serviceStartsAt, totalFen, kind, products } = await priceItems(deps, input.items);
  if (kind === 'shipping' && !input.address) throw invalid('address', '请选择收货地址');
  const merchant = await orderMerchant(deps, products, caller.appid);
  const order = pendingOrder(deps, {
    ...merchantFields(merchant),
    _id: orderIdFor(openid, input.requestId),
    openid,
    requestId: input.requestId,
    items,
    totalFen,
    contact: input.contact,
    remark: input.remark,
    ...(serviceStartsAt !== undefined ? { serviceStartsAt } : {}),
    // awaiting from the start; the catalogue decides the kind, nothing the buyer sends picks a state
    fulfilment: {
      kind,
      state: 'awaiting',
      at: deps.clock(),
      steps: [],
      ...(kind === 'shipping' && input.address ? { address: input.address } : {}),
    },
  });
  if ((await store.insert(COLLECTIONS.orders, order)) === 'created') return order;
  const existing = (await store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
  const sameItems =
    JSON.stringify(existing.items.map((i) => [i.productId, i.quantity])) ===
    JSON.stringify(items.map((i) => [i.productId, i.quantity]));
  if (!sameItems) throw new DomainError('CONFLICT', 'requestId was already used for a different order');
  return existing;
}

// ---- get, list, cancel ----------------------------------------------------------------------------------------

export async function getOrder(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const { orderId }: GetOrderRequest = { orderId: readOrderId(obj) };
  const order = await loadOwnedOrder(deps, openid, orderId);
  return toView(order, deps, await refundsOf(deps, order._id));
}

export const REFUND_TAB: readonly OrderStatus[] = ['refunding', 'partially_refunded', 'refunded'];

export async function listOrders(deps: Deps, caller: Caller, event: unknown): Promise<ListOrdersResponse> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'status', 'cursor', 'pageSize']);
  const { status, pageSize }: WithDefaults<ListOrdersRequest, 'pageSize'> = {
    status: readEnum(obj, 'status', [...ORDER_STATUSES, 'refunds'] as const, { optional: true }),
    pageSize: readInt(obj, 'pageSize', { min: 1, max: 50, optional: true }) ?? 10,
  };
  const cursor = readCursor(obj);
  const where: Record<string, unknown> = { openid };
  if (status === 'refunds') where.status = deps.store.command.in([...REFUND_TAB]);
  else if (status) where.status = status;
  const { docs, nextCursor } = await findPage<OrderDoc & Record<string, unknown>>(
    deps.store,
    COLLECTIONS.orders,
    where,
    'createdAt',
    pageSize,
    cursor,
  );
  return {
    orders: docs.map((o) => toView(o, deps)),
    hasMore: nextCursor !== undefined,
    ...(nextCursor ? { nextCursor } : {}),
  };
}

export async function cancelOrder(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const { orderId }: CancelOrderRequest = { orderId: readOrderId(obj) };
  const order = await loadOwnedOrder(deps, openid, orderId);
  if (order.status !== 'pending_payment')
    throw new DomainError('CONFLICT', order.status === 'paid' ? '订单已支付，请申请退款' : '订单不能取消');
  const result = await endUnpaidOrder(deps, order, 'cancelled');
  if (result === 'paid') throw new DomainError('CONFLICT', '订单已支付，请申请退款');
  const now = (await deps.store.getById<OrderDoc>(COLLECTIONS.orders, order._id))!;
  if (result === 'unchanged' && now.status !== 'cancelled') throw new DomainError('CONFLICT', '订单状态已变化，请刷新');
  return toView(now, deps);
}
