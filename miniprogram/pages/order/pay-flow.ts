/**
 * The pay flow shared by the confirm and detail pages: get the pay parameters, run the cashier, then
 *   ok     → redirectTo the result page (which asks the server; Back does not return here);
 *   cancel → a choice, not an error: "继续支付" or "放弃" (the order stays payable);
 *   fail   → the reason and a retry.
 * A lock makes a double tap one payment attempt.
 */
import { ApiFailure, showError } from '../../services/errors';
import { payOrder, type CashierChoice } from '../../services/payment';

export interface PayFlowData {
  paying: boolean;
  payOrderId: string;
  cancelDialogVisible: boolean;
  failDialogVisible: boolean;
  failReason: string;
}

export const payFlowData: PayFlowData = { paying: false, payOrderId: '', cancelDialogVisible: false, failDialogVisible: false, failReason: '' };

export interface PayHost {
  data: PayFlowData;
  setData(data: Partial<PayFlowData>): void;
  selectComponent(selector: string): unknown;
}

const resultUrl = (orderId: string) => `/pages/order/result/index?id=${orderId}`;
export const detailUrl = (orderId: string) => `/pages/order/detail/index?id=${orderId}`;

export async function startPayment(host: PayHost, orderId: string): Promise<void> {
  if (host.data.paying) return;
  host.setData({ paying: true, payOrderId: orderId, cancelDialogVisible: false, failDialogVisible: false });
  try {
    const cashier = () => (host.selectComponent('#cashier') as { open(): Promise<CashierChoice> }).open();
    const outcome = await payOrder(orderId, cashier);
    if (outcome.kind === 'ok') wx.redirectTo({ url: resultUrl(orderId) });
    else if (outcome.kind === 'cancel') host.setData({ cancelDialogVisible: true });
    else host.setData({ failDialogVisible: true, failReason: outcome.reason });
  } catch (error) {
    showError(error);
    if (error instanceof ApiFailure && error.code === 'CONFLICT') wx.redirectTo({ url: resultUrl(orderId) });
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

/** The dialog handlers both paying pages wire into their `methods`. */
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
