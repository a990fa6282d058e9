/** payment: orderAndPay (the pay tap: confirm and prepay in one call), pay (prepay and wx.requestPayment parameters), confirm (query WeChat Pay and settle), subscribe (the user accepted the payment-success message). */
import { confirmPayment, pay } from '../common/domain/money/payments';
import { subscribePaid } from '../common/domain/money/subscriptions';
import { orderAndPay } from '../common/domain/orders/pay-tap';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(
  cloudRuntime('payment'),
  byAction<unknown>({ orderAndPay, pay, confirm: confirmPayment, subscribe: subscribePaid }),
);
