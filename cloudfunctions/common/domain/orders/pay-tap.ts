/**
 * The pay tap in one call (`payment.orderAndPay`): confirms the order, or finds the one this request id made (a double
 * tap, a retry), and answers wx.requestPayment's parameters in the same invocation. Between the tap and WeChat's
 * payment sheet there is then one cloud-function call (and one cold start at most) and at most one WeChat Pay call,
 * instead of `orders.confirm` and then `payment.pay`. It runs the same code as those two, so every guarantee holds:
 * prices from the catalogue, one order per request id, one out_trade_no per order, prepay reuse, the release guard
 * on the client. It saves the pay call's read of the order it has just written: 5 round trips for a new order against
 * 6 for confirm + pay.
 */
import type { OrderAndPayRequest, OrderAndPayResponse } from '../../../../typings/api';
import { requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { payOwnedOrder } from '../money/payments';
import type { WithDefaults } from '../validate';
import { toView } from '../views';
import { parseConfirm, placeOrder } from './orders';

export async function orderAndPay(deps: Deps, caller: Caller, event: unknown): Promise<OrderAndPayResponse> {
  const openid = requireCaller(caller);
  const input: WithDefaults<OrderAndPayRequest, 'remark'> = parseConfirm(event);
  const order = await placeOrder(deps, caller, input);
  const payment = await payOwnedOrder(deps, openid, order._id, order);
  return { ...payment, order: toView(order, deps) };
}
