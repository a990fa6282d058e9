/**
 * The WeChat Pay simulator in partner mode held to wechatpay-axios-plugin (TheNorthMemory) as a service provider uses
 * it: the plugin configured with the service provider's mchid (sp_mchid), serial and key, the WeChat Pay public key in
 * `certs`, and every call by the partner path WeChat Pay documents (服务商 JSAPI下单, 查询订单, 关闭订单, 退款 with
 * sub_mchid, 查询单笔退款 ?sub_mchid=, 申请交易账单 ?sub_mchid=). Every 2xx answer comes back only once the plugin
 * verified it; notifications are checked with the plugin's own verifier and decrypted with its AES-GCM helper.
 *
 * (The Python `wechatpayv3` library is not run: this machine reaches the npm registry and Debian packages only, no
 * PyPI. See docs/partner-mode.md.)
 */
import { rmSync } from 'node:fs';
import type { AxiosResponse } from 'axios';
import { Aes, Decorator, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { chinaDate, chinaDayStart } from '../../../cloudfunctions/common/domain/days';
import type { LocalKeys } from '../../../localcloud/keys';
import { WechatPaySimulator, type SimSubMerchant } from '../../../localcloud/wechatpay-sim/simulator';
import { deliveredNotification, sentBy, type Answer, type Json } from '../../support/conformance';
import { freshLocalKeys } from '../../support/local-keys';
import { NotifyReceiver } from '../../support/notify-receiver';

type Verifier = (this: { url: string }, data: string, headers: Record<string, string>, status: number) => unknown;

let keys: LocalKeys;
let keysDir: string;
let sim: WechatPaySimulator;
let receiver: NotifyReceiver;
let wxpay: Wechatpay;
let verifier: Verifier;
let A: SimSubMerchant;
let B: SimSubMerchant & { sub_appid: string };

beforeAll(async () => {
  ({ keys, dir: keysDir } = freshLocalKeys());
  receiver = await new NotifyReceiver().start();
  sim = new WechatPaySimulator({ keys, mode: 'partner', refundDelayMs: 50, refundIntervalMs: 0 });
  const baseUrl = await sim.start();
  [A, B] = sim.subMerchants as [SimSubMerchant, SimSubMerchant & { sub_appid: string }];
  const certs = { [keys.publicKeyId]: keys.platformPublicKeyPem };
  wxpay = new Wechatpay({
    baseURL: `${baseUrl}/`,
    mchid: keys.mchid,
    serial: keys.merchantSerialNo,
    privateKey: keys.merchantPrivateKeyPem,
    certs,
  });
  verifier = Decorator.responseVerifier({
    [keys.publicKeyId]: Rsa.from(keys.platformPublicKeyPem, Rsa.KEY_TYPE_PUBLIC),
  }) as Verifier;
});
afterAll(async () => {
  await sim?.close();
  await receiver?.close();
  rmSync(keysDir, { recursive: true, force: true });
});

/** A call through the plugin: a 2xx comes back only once the plugin verified it; a 4xx/5xx is the error's response. */
async function call(request: () => Promise<AxiosResponse<Json | ''>>): Promise<Answer> {
  try {
    const response = await request();
    return { status: response.status, body: response.data === '' ? {} : response.data };
  } catch (error) {
    const response = (error as { response?: AxiosResponse<Json> }).response;
    if (!response || (response.status >= 200 && response.status < 300)) throw error;
    return { status: response.status, body: response.data };
  }
}
const api = (path: string) => wxpay.chain(path);
let seq = 0;
const outTradeNo = () => `PC${Date.now()}${seq++}`;

function partnerOrder(no: string, sub: SimSubMerchant, extra: Json = {}): Json {
  return {
    sp_appid: keys.appid,
    sp_mchid: keys.mchid,
    sub_mchid: sub.sub_mchid,
    description: '服务商一致性测试',
    out_trade_no: no,
    notify_url: receiver.url,
    amount: { total: 990, currency: 'CNY' },
    payer: { sp_openid: 'o_partner_payer_sp' },
    ...extra,
  };
}

/** README "APIv3数据签名 · JSAPI": paySign over the appId the buyer pays in. */
function requestPayment(appId: string, prepayId: string) {
  const params = {
    appId,
    timeStamp: `${Formatter.timestamp()}`,
    nonceStr: Formatter.nonce(),
    package: `prepay_id=${prepayId}`,
    signType: 'RSA',
  };
  const paySign = Rsa.sign(
    Formatter.joinedByLineFeed(params.appId, params.timeStamp, params.nonceStr, params.package),
    Rsa.from(keys.merchantPrivateKeyPem, Rsa.KEY_TYPE_PRIVATE),
  );
  return { ...params, paySign };
}

const query = (no: string, sub: SimSubMerchant) =>
  call(() =>
    api('v3/pay/partner/transactions/out-trade-no/{out_trade_no}').get({
      params: { sp_mchid: keys.mchid, sub_mchid: sub.sub_mchid },
      out_trade_no: no,
    }),
  );

/** The notification as the plugin checks it (its verifier) and reads it (its AES-GCM). */
async function notified(no: string, eventType: string): Promise<Json> {
  const sent = sentBy(await deliveredNotification({ sim } as never, { outTradeNo: no, eventType }), 0);
  expect(verifier.call({ url: '/notify' }, sent.body, sent.headers, 200)).toBe(sent.body);
  const { resource } = JSON.parse(sent.body) as {
    resource: { ciphertext: string; nonce: string; associated_data: string };
  };
  return JSON.parse(
    Aes.AesGcm.decrypt(resource.ciphertext, keys.apiV3Key, resource.nonce, resource.associated_data),
  ) as Json;
}

test('JSAPI prepay for sub-merchant A (sp_openid), paid, the partner notification, query by out_trade_no and transaction_id', async () => {
  const no = outTradeNo();
  const prepaid = await call(() => api('v3/pay/partner/transactions/jsapi').post(partnerOrder(no, A)));
  expect(prepaid.status).toBe(200);
  await sim.cashier('pay', requestPayment(keys.appid, String(prepaid.body.prepay_id)));
  const resource = await notified(no, 'TRANSACTION.SUCCESS');
  expect(resource).toMatchObject({
    sp_appid: keys.appid,
    sp_mchid: keys.mchid,
    sub_mchid: A.sub_mchid,
    out_trade_no: no,
    trade_state: 'SUCCESS',
    payer: { sp_openid: 'o_partner_payer_sp' },
  });
  expect(resource).not.toHaveProperty('mchid');
  expect((await query(no, A)).body).toMatchObject({ trade_state: 'SUCCESS', sub_mchid: A.sub_mchid });
  const byId = await call(() =>
    api('v3/pay/partner/transactions/id/{transaction_id}').get({
      params: { sp_mchid: keys.mchid, sub_mchid: A.sub_mchid },
      transaction_id: String(resource.transaction_id),
    }),
  );
  expect(byId).toMatchObject({ status: 200, body: { out_trade_no: no } });
  // under the other sub-merchant the order does not exist
  expect(await query(no, B)).toMatchObject({ status: 404, body: { code: 'ORDER_NOT_EXIST' } });
});

test('JSAPI prepay for sub-merchant B in its own mini-program: sub_appid, sub_openid, paySign with sub_appid', async () => {
  const no = outTradeNo();
  const order = partnerOrder(no, B, { sub_appid: B.sub_appid, payer: { sub_openid: 'o_partner_payer_sub' } });
  const prepaid = await call(() => api('v3/pay/partner/transactions/jsapi').post(order));
  expect(prepaid.status).toBe(200);
  await expect(sim.cashier('pay', requestPayment(keys.appid, String(prepaid.body.prepay_id)))).rejects.toMatchObject({
    code: 'APPID_MISMATCH',
  });
  await sim.cashier('pay', requestPayment(B.sub_appid, String(prepaid.body.prepay_id)));
  expect(await notified(no, 'TRANSACTION.SUCCESS')).toMatchObject({
    sub_mchid: B.sub_mchid,
    sub_appid: B.sub_appid,
    payer: { sub_openid: 'o_partner_payer_sub' },
  });
});

test('close with sp_mchid and sub_mchid in the body: 204, then CLOSED', async () => {
  const no = outTradeNo();
  expect((await call(() => api('v3/pay/partner/transactions/jsapi').post(partnerOrder(no, A)))).status).toBe(200);
  const closed = await call(() =>
    api('v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close').post(
      { sp_mchid: keys.mchid, sub_mchid: A.sub_mchid },
      { out_trade_no: no },
    ),
  );
  expect(closed.status).toBe(204);
  expect((await query(no, A)).body).toMatchObject({ trade_state: 'CLOSED' });
});

test('refund with sub_mchid, its query with ?sub_mchid=, the partner refund notification; the trade bill by sub_mchid', async () => {
  const no = outTradeNo();
  const prepaid = await call(() => api('v3/pay/partner/transactions/jsapi').post(partnerOrder(no, A)));
  await sim.cashier('pay', requestPayment(keys.appid, String(prepaid.body.prepay_id)));
  await notified(no, 'TRANSACTION.SUCCESS');
  const refund = {
    sub_mchid: A.sub_mchid,
    out_trade_no: no,
    out_refund_no: `R${no}`,
    notify_url: receiver.url,
    amount: { refund: 300, total: 990, currency: 'CNY' },
  };
  expect(await call(() => api('v3/refund/domestic/refunds').post(refund))).toMatchObject({
    status: 200,
    body: { out_refund_no: `R${no}`, status: 'PROCESSING' },
  });
  // another sub-merchant's refund of A's order: not found
  expect(
    await call(() =>
      api('v3/refund/domestic/refunds').post({ ...refund, sub_mchid: B.sub_mchid, out_refund_no: `S${no}` }),
    ),
  ).toMatchObject({ status: 404, body: { code: 'RESOURCE_NOT_EXISTS' } });
  expect(await notified(no, 'REFUND.SUCCESS')).toMatchObject({
    sp_mchid: keys.mchid,
    sub_mchid: A.sub_mchid,
    out_refund_no: `R${no}`,
    refund_status: 'SUCCESS',
  });
  const refundQuery = (sub: SimSubMerchant) =>
    call(() =>
      api('v3/refund/domestic/refunds/{out_refund_no}').get({
        params: { sub_mchid: sub.sub_mchid },
        out_refund_no: `R${no}`,
      }),
    );
  expect(await refundQuery(A)).toMatchObject({ status: 200, body: { status: 'SUCCESS' } });
  expect(await refundQuery(B)).toMatchObject({ status: 404 });

  const day = chinaDate(sim.now());
  sim.setClock(chinaDayStart(day)! + (24 + 10.5) * 3600_000);
  try {
    const bill = await call(() =>
      api('v3/bill/tradebill').get({ params: { bill_date: day, sub_mchid: A.sub_mchid, bill_type: 'ALL' } }),
    );
    expect(bill).toMatchObject({ status: 200, body: { hash_type: 'SHA1' } });
    const file = (await sim.bills.buildTradeBill(day, 'ALL', { subMchid: A.sub_mchid }))!.bytes.toString('utf8');
    expect(file).toContain(no);
    expect(
      (await sim.bills.buildTradeBill(day, 'ALL', { subMchid: B.sub_mchid }))!.bytes.toString('utf8'),
    ).not.toContain(no);
  } finally {
    sim.simClock.reset();
  }
});

test('the service provider’s errors: an unbound sub-merchant, an appid not bound, a product not authorised', async () => {
  const prepay = (order: Json) => call(() => api('v3/pay/partner/transactions/jsapi').post(order));
  expect(await prepay(partnerOrder(outTradeNo(), { ...A, sub_mchid: '1999999999' }))).toMatchObject({
    status: 403,
    body: { code: 'NO_AUTH', message: '受理关系不存在' },
  });
  expect(await prepay(partnerOrder(outTradeNo(), A, { sp_appid: 'wx00000000000000ab' }))).toMatchObject({
    status: 400,
    body: { code: 'APPID_MCHID_NOT_MATCH' },
  });
  expect(
    await prepay(partnerOrder(outTradeNo(), A, { sub_appid: B.sub_appid, payer: { sub_openid: 'o_x_sub_openid' } })),
  ).toMatchObject({ status: 400, body: { code: 'APPID_MCHID_NOT_MATCH' } });
  expect(await prepay(partnerOrder(outTradeNo(), A, { payer: { sub_openid: 'o_x_sub_openid' } }))).toMatchObject({
    status: 400,
    body: { code: 'PARAM_ERROR' },
  });
  const bound = sim.subMerchants;
  sim.subMerchants = bound.map((s) => (s.sub_mchid === A.sub_mchid ? { ...s, products: ['NATIVE' as const] } : s));
  try {
    expect(await prepay(partnerOrder(outTradeNo(), A))).toMatchObject({ status: 403, body: { code: 'NO_AUTH' } });
  } finally {
    sim.subMerchants = bound;
  }
});
