/** Parameters for `wx.requestPayment` (typings/api/payment.ts has the same shape for the client; a test keeps them equal): paySign over `appId\ntimeStamp\nnonceStr\nprepay_id=…\n`, signType RSA. */
import type { Signer } from './signer';

export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export function buildPaySignMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}

export function buildRequestPaymentParams(
  signer: Signer,
  appId: string,
  prepayId: string,
  timeStamp: string,
  nonceStr: string,
): RequestPaymentParams {
  const pkg = `prepay_id=${prepayId}`;
  return {
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign: signer.sign(buildPaySignMessage(appId, timeStamp, nonceStr, pkg)),
  };
}
