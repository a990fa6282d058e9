/** payment: pay (wx.requestPayment's parameters), confirm (ask WeChat Pay and settle), subscribe (the payment-success message). */

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
