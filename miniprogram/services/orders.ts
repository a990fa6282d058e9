import type { ListOrdersResponse, OrderView } from '../../typings/api';
import type { OrderTab } from '../constants/order';
import { callApi } from './api';

export interface ConfirmInput {
  requestId: string;
  items: { productId: string; quantity: number }[];
  contact: { name: string; phone: string };
  remark: string;
}

export const confirmOrder = (input: ConfirmInput): Promise<OrderView> => callApi('orders.confirm', { action: 'confirm', ...input });
export const getOrder = (orderId: string): Promise<OrderView> => callApi('orders.get', { action: 'get', orderId });
export const cancelOrder = (orderId: string): Promise<OrderView> => callApi('orders.cancel', { action: 'cancel', orderId });

export function listOrders(tab: OrderTab, page: number, pageSize = 10): Promise<ListOrdersResponse> {
  return callApi('orders.list', { action: 'list', page, pageSize, ...(tab === 'all' ? {} : { status: tab }) });
}

export function requestRefund(orderId: string, reason: string, requestId: string): Promise<OrderView> {
  return callApi('orders.requestRefund', { action: 'requestRefund', orderId, reason, requestId });
}
