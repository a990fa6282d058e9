/**
 * payment: orderAndPay (the pay tap in one call: confirm the order and answer wx.requestPayment's parameters), pay
 * (wx.requestPayment's parameters for an order that exists), confirm (ask WeChat Pay and settle), subscribe (the
 * payment-success message).
 */
import type { ConfirmOrderRequest } from './orders';
import type { OrderView } from './shapes';

export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface PayRequest {
  orderId: string;
}
export interface PayResponse {
  orderId: string;
  params: RequestPaymentParams;
  /** the local cloud only: what the cashier sheet needs to stand in for wx.requestPayment */
  prepayId: string;
}
/**
 * `payment.orderAndPay`: the confirm request itself. It makes the order (or finds the one this requestId made: a double
 * tap or a retry) and prepays it in the same invocation, so one cloud-function call stands between the pay tap and
 * WeChat's payment sheet.
 */
export type OrderAndPayRequest = ConfirmOrderRequest;
export interface OrderAndPayResponse extends PayResponse {
  /** the order as confirmed (before its payment started) */
  order: OrderView;
}
export interface ConfirmPaymentRequest {
  orderId: string;
}

/**
 * `payment.subscribe`: the user accepted the payment-success subscribe message (wx.requestSubscribeMessage answered
 * 'accept' for this template) while paying this order. The server sends that message only after such an acceptance,
 * at most once per order.
 */
export interface SubscribePaidRequest {
  orderId: string;
  templateId: string;
}
export interface SubscribePaidResponse {
  orderId: string;
  templateId: string;
  acceptedAt: number;
}
