/**
 * Orders. Every order the backend answers with is also published to the pages that show it (the list keeps its
 * cards and scroll position and updates only the order that changed, instead of reloading from page 1).
 */
import type { ConfirmOrderRequest, ListOrdersResponse, OrderView } from '../../typings/api';
import type { OrderTab } from '../constants/order';
import { callApi } from './api';

type Listener = (order: OrderView) => void;
const listeners = new Set<Listener>();

/** Calls `listener` with every order the backend answers with, until the returned function is called. */
export function onOrderChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function publishOrder(order: OrderView): OrderView {
  for (const listener of listeners) listener(order);
  return order;
}

export const confirmOrder = async (request: ConfirmOrderRequest): Promise<OrderView> =>
  publishOrder(await callApi('orders.confirm', request));
export const getOrder = async (orderId: string): Promise<OrderView> =>
  publishOrder(await callApi('orders.get', { orderId }));
export const cancelOrder = async (orderId: string): Promise<OrderView> =>
  publishOrder(await callApi('orders.cancel', { orderId }));

/** `cursor`: the previous page's nextCursor, '' for the first page */
export function listOrders(tab: OrderTab, cursor: string, pageSize = 10): Promise<ListOrdersResponse> {
  return callApi('orders.list', { pageSize, ...(cursor ? { cursor } : {}), ...(tab === 'all' ? {} : { status: tab }) });
}

export async function requestRefund(orderId: string, reason: string, requestId: string): Promise<OrderView> {
  return publishOrder(await callApi('orders.requestRefund', { orderId, reason, requestId }));
}

/** 售后申请: after acceptance the buyer asks; the merchant decides. Photos are cloud file IDs. */
export async function requestAfterSale(
  orderId: string,
  reason: string,
  requestId: string,
  photos: string[] = [],
): Promise<OrderView> {
  return publishOrder(
    await callApi('orders.requestAfterSale', { orderId, reason, requestId, ...(photos.length ? { photos } : {}) }),
  );
}

export const confirmReceipt = async (orderId: string): Promise<OrderView> =>
  publishOrder(await callApi('orders.confirmReceipt', { orderId }));

export type ReceiptOutcome =
  { kind: 'confirmed'; order: OrderView } | { kind: 'cancelled' } | { kind: 'failed'; message: string };

/**
 * 确认收货. A trade-managed order (the backend gave `receiptComponent`) is confirmed in WeChat's own component
 * (wx.openBusinessView, businessType weappOrderConfirm, the order named by merchant_id + merchant_trade_no and
 * transaction_id); it answers status success / fail / cancel, and only on success is the backend told (it checks with
 * WeChat's get_order before it believes it). Others are confirmed with the backend directly.
 */
export async function confirmReceiptFlow(order: OrderView): Promise<ReceiptOutcome> {
  const component = order.fulfilment?.receiptComponent;
  if (!component) return { kind: 'confirmed', order: await confirmReceipt(order.id) };
  // not in miniprogram-api-typings 5.2.3; base library ≥ 2.6.0
  const open = (wx as unknown as { openBusinessView?: (options: Record<string, unknown>) => void }).openBusinessView;
  if (typeof open !== 'function') return { kind: 'failed', message: '请升级微信后再确认收货' };
  const answer = await new Promise<{ status?: string; errormsg?: string }>((resolve) => {
    open({
      businessType: 'weappOrderConfirm',
      extraData: {
        merchant_id: component.merchantId,
        merchant_trade_no: component.merchantTradeNo,
        ...(component.transactionId ? { transaction_id: component.transactionId } : {}),
      },
      success: (res: { extraData?: { status?: string; errormsg?: string } }) => resolve(res.extraData ?? {}),
      fail: (err: { errMsg?: string }) => resolve({ status: 'fail', errormsg: err.errMsg }),
    });
  });
  if (answer.status === 'success') return { kind: 'confirmed', order: await confirmReceipt(order.id) };
  if (answer.status === 'cancel') return { kind: 'cancelled' };
  return { kind: 'failed', message: '微信没有确认收货，请稍后再试或联系客服' };
}

/** Tests start each case with no page listening. */
export function resetOrderListeners(): void {
  listeners.clear();
}
