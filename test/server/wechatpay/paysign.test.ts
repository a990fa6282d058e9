import { createPublicKey } from 'node:crypto';
import {
  buildPaySignMessage,
  buildRequestPaymentParams,
  RsaSha256Signer,
  verifySha256Rsa,
} from '../../../cloudfunctions/common/wechatpay';
import { describeVectors, vector, vectorText } from '../../support/vectors';

describeVectors('paySign: official vector v06', () => {
  const v = vector('v06_official_jsapi_miniprogram_paysign.json');
  const signer = () => new RsaSha256Signer(vectorText(v.private_key_file));

  test('message and signature for wx.requestPayment', () => {
    expect(buildPaySignMessage(v.appId, v.timeStamp, v.nonceStr, v.package)).toBe(v.message);
    const params = buildRequestPaymentParams(
      signer(),
      v.appId,
      v.package.replace('prepay_id=', ''),
      v.timeStamp,
      v.nonceStr,
    );
    expect(params).toEqual({
      timeStamp: v.timeStamp,
      nonceStr: v.nonceStr,
      package: v.package,
      signType: 'RSA',
      paySign: v.expected_signature,
    });
  });

  test('the APP form (bare prepay_id) is a different signature: negative control', () => {
    const params = buildRequestPaymentParams(
      signer(),
      v.appId,
      v.package.replace('prepay_id=', ''),
      v.timeStamp,
      v.nonceStr,
    );
    expect(params.paySign).not.toBe(v.app_variant.expected_signature);
    expect(signer().sign(v.app_variant.message)).toBe(v.app_variant.expected_signature);
    const publicKey = createPublicKey(vectorText('official_test_merchant_key.public.pem'));
    expect(verifySha256Rsa(v.message, params.paySign, publicKey)).toBe(true);
    expect(verifySha256Rsa(v.app_variant.message, params.paySign, publicKey)).toBe(false);
  });
});

// typings/ (the client's contract) and the protocol module (node built-ins only, so it cannot import typings/) each
// describe wx.requestPayment's parameters; this fails to type-check the moment the two drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contractMatchesWire: Same<
  import('../../../typings/api').RequestPaymentParams,
  import('../../../cloudfunctions/common/wechatpay').RequestPaymentParams
> = true;
test('the contract and the protocol module agree on wx.requestPayment parameters', () =>
  expect(contractMatchesWire).toBe(true));
