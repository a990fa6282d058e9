/** payment: pay (prepay and wx.requestPayment parameters), confirm (query WeChat Pay and settle). */
import { confirmPayment, pay } from '../common/domain/payments';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime('payment'), byAction<unknown>({ pay, confirm: confirmPayment }));
