/**
 * orders: the owner's orders: confirm, get, list, cancel (unpaid), requestRefund (paid, before acceptance, under the refund
 * policy), confirmReceipt (shipped), requestAfterSale (after acceptance).
 */
import type { ShippingAddress } from './fulfilment';
import type { OrderStatus, OrderView } from './shapes';

export interface ConfirmOrderRequest {
  /** a client-made id per checkout: a double tap or a retry creates one order */
  requestId: string;
  items: { productId: string; quantity: number }[];
  contact: { name: string; phone: string };
  remark?: string;
  /** required when an item is a `shipping` product (wx.chooseAddress's answer) */
  address?: ShippingAddress;
}
export interface GetOrderRequest {
  orderId: string;
}
export interface ListOrdersRequest {
  status?: OrderStatus | 'refunds';
  page?: number;
  pageSize?: number;
}
export interface ListOrdersResponse {
  orders: OrderView[];
  page: number;
  hasMore: boolean;
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
/** Shipping, shipped: the buyer has it (after WeChat's confirm-receipt component, for trade-managed orders). */
export interface ConfirmReceiptRequest {
  orderId: string;
}
/** 售后申请: after acceptance, the buyer asks for a refund with a reason and optional photos; the merchant decides. */
export interface RequestAfterSaleRequest {
  orderId: string;
  reason: string;
  /** cloud file IDs (wx.cloud.uploadFile), at most 3 */
  photos?: string[];
  /** a client-made id per request: a retry is the same request */
  requestId: string;
}
