/**
 * The pay flow shared by the confirm, detail and list pages. One tap from confirmation to the payment sheet: the pay
 * tap makes or reuses the order, gets the pay parameters and opens the sheet (the progress message is asked on the
 * paid page, after payment), then
 *   ok     → redirectTo the result page (which asks the server; Back does not return here);
 *   cancel → a choice, not an error: "继续支付" or "放弃" (the order stays payable);
 *   fail   → a plain message and a retry (or, when it may have gone through, the result page).
 * A lock makes a double tap one payment attempt.
 */
import { ApiFailure, showError } from '../services/errors';
import type { ConfirmOrderRequest, OrderView } from '../../typings/api';
import { orderAndPay, payOrder, type CashierChoice, type PayOutcome } from '../services/payment';

export interface PayFlowData {
  paying: boolean;
  payOrderId: string;
  cancelDialogVisible: boolean;
  failDialogVisible: boolean;
  failReason: string;
}

export const payFlowData: PayFlowData = {
  paying: false,
  payOrderId: '',
  cancelDialogVisible: false,
  failDialogVisible: false,
  failReason: '',
};

export interface PayHost {
  data: PayFlowData;
  setData(data: Partial<PayFlowData>): void;
  selectComponent(selector: string): unknown;
}

/** `paid`: the payment sheet answered ok, so the result page asks WeChat Pay at once instead of waiting for the notification */
const resultUrl = (orderId: string, paid = false) => `/pages/order/result/index?id=${orderId}${paid ? '&paid=1' : ''}`;
export const detailUrl = (orderId: string) => `/pages/order/detail/index?id=${orderId}`;

/**
 * The order to pay: an id, or the confirm request (the confirm page's first tap: the order is made and prepaid in one
 * call, `payment.orderAndPay`), with what to do with the order once it exists.
 */
export type OrderSource = string | { request: ConfirmOrderRequest; onOrder(order: OrderView): void };

/** Call from a tap handler. */
export async function startPayment(host: PayHost, source: OrderSource): Promise<void> {
  if (host.data.paying) return;
  host.setData({
    paying: true,
    cancelDialogVisible: false,
    failDialogVisible: false,
    ...(typeof source === 'string' ? { payOrderId: source } : {}),
  });
  let orderId = typeof source === 'string' ? source : '';
  try {
    const cashier = () => (host.selectComponent('#cashier') as { open(): Promise<CashierChoice> }).open();
    let outcome: PayOutcome;
    if (typeof source === 'string') outcome = await payOrder(orderId, cashier);
    else {
      // the page shows the order as soon as it exists, while the sheet is open
      const placed = await orderAndPay(source.request, cashier, (order) => {
        orderId = order.id;
        host.setData({ payOrderId: orderId });
        source.onOrder(order);
      });
      outcome = placed.outcome;
    }
    if (outcome.kind === 'ok') wx.redirectTo({ url: resultUrl(orderId, true) });
    else if (outcome.kind === 'cancel') host.setData({ cancelDialogVisible: true });
    else if (outcome.action === 'check') {
      wx.showToast({ title: outcome.message, icon: 'none', duration: 2500 });
      wx.redirectTo({ url: resultUrl(orderId) });
    } else host.setData({ failDialogVisible: true, failReason: outcome.message });
  } catch (error) {
    showError(error);
    // CONFLICT: paid (or changed) meanwhile: the result page finds out which
    if (orderId && error instanceof ApiFailure && error.code === 'CONFLICT') wx.redirectTo({ url: resultUrl(orderId) });
  } finally {
    host.setData({ paying: false });
  }
}

export function continuePaying(host: PayHost): Promise<void> {
  host.setData({ cancelDialogVisible: false });
  return startPayment(host, host.data.payOrderId);
}

export function giveUpPaying(host: PayHost, stayOnPage: boolean): void {
  host.setData({ cancelDialogVisible: false });
  if (!stayOnPage) wx.redirectTo({ url: detailUrl(host.data.payOrderId) });
}

export function retryPaying(host: PayHost): Promise<void> {
  host.setData({ failDialogVisible: false });
  return startPayment(host, host.data.payOrderId);
}

export function closeFailDialog(host: PayHost): void {
  host.setData({ failDialogVisible: false });
}

/** The dialog handlers the paying pages wire into their `methods`. */
export function payFlowMethods(options: { stayOnGiveUp: boolean }) {
  return {
    onContinuePaying(this: unknown) {
      void continuePaying(this as PayHost);
    },
    onGiveUp(this: unknown) {
      giveUpPaying(this as PayHost, options.stayOnGiveUp);
    },
    onRetryPay(this: unknown) {
      void retryPaying(this as PayHost);
    },
    onCloseFail(this: unknown) {
      closeFailDialog(this as PayHost);
    },
  };
}
