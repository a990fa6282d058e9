/**
 * The cashier: the paying user in WeChat's payment sheet. Given the wx.requestPayment parameters (with the appId of
 * the mini-program calling it), it first checks what the sheet checks: the parameters' types, the prepay_id, the
 * appId against the prepay's appid, paySign against the merchant's certificate, the prepay's 2 hours; a failure
 * reads as WeChat's `requestPayment:fail …`. Then the user pays (SUCCESS, and the TRANSACTION.SUCCESS
 * notification), cancels (nothing changes), or the payment fails (PAYERROR, still payable). A bare prepay_id skips
 * the sheet's checks: a tester's shortcut.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { HttpError } from '../http';
import type { SimContext } from './context';
import { transactionView, userPays } from './transactions';

export type CashierAction = 'pay' | 'cancel' | 'fail' | 'userpaying';
export const CASHIER_ACTIONS: readonly CashierAction[] = ['pay', 'cancel', 'fail', 'userpaying'];

/** What wx.requestPayment hands WeChat: its parameters, and the appId of the mini-program calling it. */
export interface RequestPaymentInput {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

export class Cashier {
  private readonly merchantKey: KeyObject;

  constructor(private readonly ctx: SimContext) {
    this.merchantKey = createPublicKey(ctx.keys.merchantCertificatePem);
  }

  async act(
    action: CashierAction,
    payment: string | RequestPaymentInput,
  ): Promise<{ result: string; transaction?: unknown }> {
    const { ledger, clock } = this.ctx;
    const prepayId = typeof payment === 'string' ? payment : await this.check(payment);
    const prepay = await ledger.getPrepay(prepayId);
    if (!prepay) throw new HttpError(404, 'PREPAY_NOT_FOUND', 'requestPayment:fail 无效的prepay_id');
    if (prepay.expires_at <= clock.now())
      throw new HttpError(400, 'PREPAY_EXPIRED', 'requestPayment:fail prepay_id已失效，请重新下单（有效期2小时）');
    const tx = (await ledger.getTransaction(prepay.out_trade_no))!;
    if (action === 'cancel') return { result: 'cancel', transaction: transactionView(tx) };
    return userPays(this.ctx, tx, action);
  }

  /** The payment sheet's checks; returns the prepay_id the parameters carry. */
  private async check(input: RequestPaymentInput): Promise<string> {
    const fail = (code: string, message: string, status = 400) =>
      new HttpError(status, code, `requestPayment:fail ${message}`);
    for (const name of ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const) {
      const value: unknown = (input as unknown as Record<string, unknown>)[name];
      if (typeof value !== 'string') {
        const got =
          value === undefined
            ? 'Undefined'
            : value === null
              ? 'Null'
              : `${typeof value}`.replace(/^./, (c) => c.toUpperCase());
        throw fail('PARAMETER_ERROR', `parameter error: parameter.${name} should be String instead of ${got};`);
      }
    }
    const match = /^prepay_id=(.+)$/.exec(input.package);
    if (!match) throw fail('PARAMETER_ERROR', 'parameter error: package should be prepay_id=…;');
    const prepayId = match[1]!;
    const prepay = await this.ctx.ledger.getPrepay(prepayId);
    if (!prepay) throw fail('PREPAY_NOT_FOUND', '无效的prepay_id', 404);
    const tx = (await this.ctx.ledger.getTransaction(prepay.out_trade_no))!;
    // a service provider's prepay for a buyer in the sub-merchant's mini-program is paid there: sub_appid
    if (input.appId !== (tx.sub_appid ?? tx.appid))
      throw fail('APPID_MISMATCH', '调用支付的小程序appid与下单时的appid不一致');
    // the message WeChat's client builds, written here apart from the merchant's paysign module so that a slip there
    // cannot be hidden by the same slip here
    const message = `${input.appId}\n${input.timeStamp}\n${input.nonceStr}\n${input.package}\n`;
    const signature = Buffer.from(input.paySign, 'base64');
    const verified =
      input.signType === 'RSA' &&
      signature.length > 0 &&
      verify('sha256', Buffer.from(message, 'utf8'), this.merchantKey, signature);
    if (!verified) throw fail('PAYSIGN_ERROR', '支付验证签名失败');
    return prepayId;
  }
}
