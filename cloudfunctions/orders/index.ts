/** orders: confirm, get, list, cancel (unpaid), requestRefund (paid, under the refund policy). */
import { cancelOrder, confirmOrder, getOrder, listOrders } from '../common/domain/orders/orders';
import { requestRefund } from '../common/domain/money/refunds';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(
  cloudRuntime('orders'),
  byAction<unknown>({ confirm: confirmOrder, get: getOrder, list: listOrders, cancel: cancelOrder, requestRefund }),
);
