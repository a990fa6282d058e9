/** orders: the owner's orders: confirm, get, list, cancel (unpaid), requestRefund (paid, under the refund policy). */
import type { OrderStatus, OrderView } from './shapes';

export interface ConfirmOrderRequest {
  /** a client-made id per checkout: a double tap or a retry creates one order */
  requestId: string;
  items: { productId: string; quantity: number }[];
  contact: { name: string; phone: string };
  remark?: string;
}
export interface GetOrderRequest {
  orderId: string;
}
export interface ListOrdersRequest {
  status?: OrderStatus | 'refunds';
  /** where the page starts: the `nextCursor` of the page before; absent: the first page */
  cursor?: string;
  pageSize?: number;
}
export interface ListOrdersResponse {
  orders: OrderView[];
  hasMore: boolean;
  /** the next page's `cursor`, when `hasMore` */
  nextCursor?: string;
}
export interface CancelOrderRequest {
  orderId: string;
}
export interface RequestRefundRequest {
  orderId: string;
  reason: string;
  /** a client-made id per refund request: a retry is the same refund */
  requestId: string;
}
