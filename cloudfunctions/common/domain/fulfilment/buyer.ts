/**
 * The buyer's fulfilment actions: confirm receipt of a shipped order, and ask for an after-sale once the order was
 * taken (before that the buyer refunds alone, money/refunds.ts). The buyer names the order, never a state.
 */
import type { ConfirmReceiptRequest, OrderView, RequestAfterSaleRequest } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { entry, loadOwnedOrder, refundsOf, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError, invalid } from '../errors';
import type { AfterSaleRecord } from '../records';
import { asObject, ID_PATTERN, onlyKeys, readOrderId, readString } from '../validate';
import { afterSaleAllowed, toView } from '../views';
import { moveFulfilment } from './moves';

export const MAX_AFTER_SALE_PHOTOS = 3;
/** a cloud file ID as wx.cloud.uploadFile answers it: cloud://<env>.<bucket>/<path> */
const FILE_ID = /^cloud:\/\/[A-Za-z0-9._-]+\/[A-Za-z0-9._\-/]+$/;

async function view(deps: Deps, orderId: string): Promise<OrderView> {
  const order = (await deps.store.getById<Parameters<typeof toView>[0]>(COLLECTIONS.orders, orderId))!;
  return toView(order, deps, await refundsOf(deps, orderId));
}

export async function confirmReceipt(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId']);
  const { orderId }: ConfirmReceiptRequest = { orderId: readOrderId(obj) };
  const order = await loadOwnedOrder(deps, openid, orderId);
  // a retry after the confirmation landed (or WeChat's event beat it) answers the order as it is
  if (order.fulfilment?.state === 'received') return view(deps, order._id);
  await moveFulfilment(
    deps,
    order,
    'receive',
    { role: 'buyer', openid: '', name: '买家' },
    {
      fulfilment: { receivedBy: 'buyer' },
    },
  );
  return view(deps, order._id);
}

export function parseAfterSale(obj: Record<string, unknown>): RequestAfterSaleRequest {
  onlyKeys(obj, ['action', 'orderId', 'reason', 'photos', 'requestId']);
  const photos = obj.photos;
  if (photos !== undefined) {
    if (!Array.isArray(photos) || photos.length > MAX_AFTER_SALE_PHOTOS)
      throw invalid('photos', `最多 ${MAX_AFTER_SALE_PHOTOS} 张照片`);
    photos.forEach((p, i) => {
      if (typeof p !== 'string' || p.length > 300 || !FILE_ID.test(p)) throw invalid(`photos[${i}]`, '照片无效');
    });
  }
  return {
    orderId: readOrderId(obj),
    reason: readString(obj, 'reason', { max: 200 }),
    ...(photos !== undefined ? { photos: photos as string[] } : {}),
    requestId: readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN }),
  };
}

export async function requestAfterSale(deps: Deps, caller: Caller, event: unknown): Promise<OrderView> {
  const openid = requireCaller(caller);
  const input = parseAfterSale(asObject(event));
  const order = await loadOwnedOrder(deps, openid, input.orderId);
  if (order.afterSale) {
    if (order.afterSale.requestId === input.requestId) return view(deps, order._id);
    throw new DomainError('CONFLICT', '已提交过售后申请');
  }
  if (!afterSaleAllowed(order))
    throw new DomainError(
      'FAILED_PRECONDITION',
      order.fulfilment?.state === 'awaiting' ? '订单尚未接单，可直接申请退款' : '当前订单不能申请售后',
    );
  const now = deps.clock();
  const record: AfterSaleRecord = {
    requestId: input.requestId,
    status: 'requested',
    reason: input.reason,
    ...(input.photos?.length ? { photos: input.photos } : {}),
    at: now,
  };
  const _ = deps.store.command;
  const won = await deps.store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id, afterSale: _.exists(false) },
    { afterSale: record, updatedAt: now, timeline: _.push([entry(now, 'after_sale_requested', input.reason)]) },
  );
  if (!won) {
    const current = await loadOwnedOrder(deps, openid, order._id);
    if (current.afterSale?.requestId !== input.requestId) throw new DomainError('CONFLICT', '已提交过售后申请');
  }
  return view(deps, order._id);
}
