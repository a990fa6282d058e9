/**
 * The client in partner mode (wechatpay/partner.ts): each call's path, query and body as a service provider sends
 * them for the sub-merchant it is given, and a mode mix-up (a direct client given a sub-merchant, a partner client
 * given none) refused before anything is sent.
 */
import {
  partnerPrepayBody,
  payingAppid,
  RsaSha256Signer,
  SignatureVerifier,
  WechatPayClient,
  type SubMerchantRef,
  type WechatPayMode,
} from '../../../cloudfunctions/common/wechatpay';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';

const merchant = testKeyPair('merchant');
const platform = testKeyPair('platform');
const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
const SP_MCHID = '1230000109';
const SP_APPID = 'wxd678efh567hg6787';
const A: SubMerchantRef = { subMchid: '1900000201' };
const B: SubMerchantRef = { subMchid: '1900000202', subAppid: 'wxb0000000000000b2' };

function client(mode: WechatPayMode) {
  const sent: { method: string; url: string; body?: unknown }[] = [];
  const fakeFetch: typeof fetch = async (url, init) => {
    sent.push({
      method: String(init?.method),
      url: String(url).replace('https://api.mch.weixin.qq.com', ''),
      ...(init?.body ? { body: JSON.parse(String(init.body)) as unknown } : {}),
    });
    const body = '{"prepay_id":"wx1","refund_id":"5000","out_refund_no":"R1","status":"PROCESSING"}';
    return new Response(init?.method === 'POST' && String(url).endsWith('/close') ? null : body, {
      status: String(url).endsWith('/close') ? 204 : 200,
      headers: signResponse(
        new RsaSha256Signer(platform.privateKey),
        SERIAL,
        String(url).endsWith('/close') ? '' : body,
        Math.floor(Date.now() / 1000),
      ),
    });
  };
  const wx = new WechatPayClient({
    mode,
    credential: { mchid: SP_MCHID, serialNo: 'ABCDEF0123456789', signer: new RsaSha256Signer(merchant.privateKey) },
    verifier: new SignatureVerifier({ keys: new Map([[SERIAL, platform.publicKey]]) }),
    fetch: fakeFetch,
  });
  return { wx, sent };
}

const order = {
  appid: SP_APPID,
  description: '拿铁',
  out_trade_no: 'ORD1P1',
  notify_url: 'https://example.com/notify',
  amount: { total: 1990, currency: 'CNY' as const },
};

test('partner prepay: sp_appid, sp_mchid, sub_mchid; payer.sp_openid, or sub_appid with payer.sub_openid', async () => {
  const { wx, sent } = client('partner');
  await wx.prepayJsapi({ ...order, payer: { openid: 'o-buyer' } }, A);
  await wx.prepayJsapi({ ...order, payer: { openid: 'o-buyer-in-b' } }, B);
  await wx.prepayNative(order, A);
  expect(sent.map((s) => [s.url, s.body])).toEqual([
    [
      '/v3/pay/partner/transactions/jsapi',
      {
        sp_appid: SP_APPID,
        sp_mchid: SP_MCHID,
        sub_mchid: A.subMchid,
        ...omitAppid(order),
        payer: { sp_openid: 'o-buyer' },
      },
    ],
    [
      '/v3/pay/partner/transactions/jsapi',
      {
        sp_appid: SP_APPID,
        sp_mchid: SP_MCHID,
        sub_appid: B.subAppid,
        sub_mchid: B.subMchid,
        ...omitAppid(order),
        payer: { sub_openid: 'o-buyer-in-b' },
      },
    ],
    [
      '/v3/pay/partner/transactions/native',
      { sp_appid: SP_APPID, sp_mchid: SP_MCHID, sub_mchid: A.subMchid, ...omitAppid(order) },
    ],
  ]);
  expect(payingAppid(SP_APPID, A)).toBe(SP_APPID);
  expect(payingAppid(SP_APPID, B)).toBe(B.subAppid);
  expect(partnerPrepayBody(SP_MCHID, { appid: SP_APPID }, B)).not.toHaveProperty('payer');
});

test('partner query, close, refund, refund query and trade bill name the sub-merchant', async () => {
  const { wx, sent } = client('partner');
  await wx.queryByOutTradeNo('ORD1P1', A);
  await wx.queryByTransactionId('4200001', A);
  await wx.closeByOutTradeNo('ORD1P1', A);
  await wx.createRefund(
    { out_trade_no: 'ORD1P1', out_refund_no: 'R1', amount: { refund: 1, total: 1990, currency: 'CNY' } },
    A,
  );
  await wx.queryRefund('R1', A);
  await wx.applyTradeBill({ bill_date: '2026-03-01' }, A);
  await wx.applyTradeBill({ bill_date: '2026-03-01' });
  expect(sent.map((s) => [s.method, s.url, s.body])).toEqual([
    ['GET', `/v3/pay/partner/transactions/out-trade-no/ORD1P1?sp_mchid=${SP_MCHID}&sub_mchid=${A.subMchid}`, undefined],
    ['GET', `/v3/pay/partner/transactions/id/4200001?sp_mchid=${SP_MCHID}&sub_mchid=${A.subMchid}`, undefined],
    ['POST', '/v3/pay/partner/transactions/out-trade-no/ORD1P1/close', { sp_mchid: SP_MCHID, sub_mchid: A.subMchid }],
    [
      'POST',
      '/v3/refund/domestic/refunds',
      {
        sub_mchid: A.subMchid,
        out_trade_no: 'ORD1P1',
        out_refund_no: 'R1',
        amount: { refund: 1, total: 1990, currency: 'CNY' },
      },
    ],
    ['GET', `/v3/refund/domestic/refunds/R1?sub_mchid=${A.subMchid}`, undefined],
    ['GET', `/v3/bill/tradebill?bill_date=2026-03-01&sub_mchid=${A.subMchid}`, undefined],
    // a service provider may ask for all its sub-merchants' bill at once
    ['GET', '/v3/bill/tradebill?bill_date=2026-03-01', undefined],
  ]);
});

/** A call's outcome as a promise, whether it throws at once or rejects. */
const attempt = (call: () => Promise<unknown>) => Promise.resolve().then(call);

test('a mode mix-up is refused before anything is sent', async () => {
  const direct = client('direct');
  await expect(attempt(() => direct.wx.queryByOutTradeNo('ORD1P1', A))).rejects.toThrow(TypeError);
  await expect(attempt(() => direct.wx.prepayJsapi({ ...order, payer: { openid: 'o' } }, A))).rejects.toThrow(
    TypeError,
  );
  const partner = client('partner');
  await expect(attempt(() => partner.wx.queryByOutTradeNo('ORD1P1'))).rejects.toThrow(/sub_mchid/);
  await expect(attempt(() => partner.wx.closeByOutTradeNo('ORD1P1'))).rejects.toThrow(/sub_mchid/);
  const refund = { out_refund_no: 'R1', amount: { refund: 1, total: 1, currency: 'CNY' as const } };
  await expect(attempt(() => partner.wx.createRefund(refund))).rejects.toThrow(/sub_mchid/);
  expect([...direct.sent, ...partner.sent]).toEqual([]);
  // direct mode is as before
  await direct.wx.queryByOutTradeNo('ORD1P1');
  await direct.wx.closeByOutTradeNo('ORD1P1');
  expect(direct.sent.map((s) => [s.url, s.body])).toEqual([
    [`/v3/pay/transactions/out-trade-no/ORD1P1?mchid=${SP_MCHID}`, undefined],
    ['/v3/pay/transactions/out-trade-no/ORD1P1/close', { mchid: SP_MCHID }],
  ]);
});

function omitAppid<T extends { appid: string }>(o: T): Omit<T, 'appid'> {
  const { appid: _appid, ...rest } = o;
  return rest;
}
