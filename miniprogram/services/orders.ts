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

/** Tests start each case with no page listening. */
export function resetOrderListeners(): void {
  listeners.clear();
}
