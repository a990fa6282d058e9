/** orders: confirm, get, list, cancel (unpaid), requestRefund (paid, not yet taken), confirmReceipt, requestAfterSale. */
import { cancelOrder, confirmOrder, getOrder, listOrders } from '../common/domain/orders/orders';
import { requestRefund } from '../common/domain/money/refunds';
import { confirmReceipt, requestAfterSale } from '../common/domain/fulfilment/buyer';
import { subscribeProgress } from '../common/domain/fulfilment/progress';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(
  cloudRuntime('orders'),
  byAction<unknown>({
    confirm: confirmOrder,
    get: getOrder,
    list: listOrders,
    cancel: cancelOrder,
    requestRefund,
    confirmReceipt,
    requestAfterSale,
    subscribeProgress,
  }),
);
