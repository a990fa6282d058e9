/**
 * The simulator's Native room as WeChat Pay documents it: Native下单 answers a code_url valid 2 hours on the business
 * clock; a phone scans it and pays as a given user, who becomes the payer WeChat Pay reports; identical re-prepays
 * renew the code, different ones are OUT_TRADE_NO_USED, across JSAPI and Native too. Driven through the project's
 * protocol client, the facade and the control API.
 */
import { recordsLedger } from '../../../localcloud/wechatpay-sim/bills';
import { CODE_URL_LIFETIME_MS, type PendingView } from '../../../localcloud/wechatpay-sim/simulator';
import {
  apiError,
  control,
  outTradeNo,
  parser,
  prepayRequest,
  useSimulator,
  type SimHarness,
} from '../../support/sim-harness';

const h = useSimulator();
const SCANNER = 'o_local_bob_scanned';

const nativeRequest = (sim: SimHarness, no: string, overrides: Record<string, unknown> = {}) => {
  const { payer: _payer, ...rest } = prepayRequest(sim, no, { attach: 'ORDER-1', ...overrides });
  return rest;
};

test('code_url, scan-and-pay as a user: that user is the payer in the notification and the query, trade_type NATIVE', async () => {
  const no = outTradeNo();
  const { code_url } = await h.pay.client.prepayNative(nativeRequest(h, no));
  expect(code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=[0-9A-Za-z]{9}$/);
  const unpaid = await h.pay.client.queryByOutTradeNo(no);
  expect(unpaid).toMatchObject({ trade_state: 'NOTPAY' });
  expect(unpaid).not.toHaveProperty('payer');
  expect(unpaid).not.toHaveProperty('trade_type');

  await expect(h.sim.scan('pay', code_url, SCANNER)).resolves.toMatchObject({ result: 'pay' });
  const [notice] = await h.receiver.waitFor(1);
  const parsed = parser(h).parse({ headers: notice!.headers as Record<string, string>, body: notice!.body });
  expect(parsed.resource).toMatchObject({
    out_trade_no: no,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    payer: { openid: SCANNER },
    attach: 'ORDER-1',
  });
  expect(await h.pay.client.queryByOutTradeNo(no)).toMatchObject({
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    payer: { openid: SCANNER },
    amount: { total: 1990 },
  });
  // a refund goes the usual way
  await expect(
    h.pay.client.createRefund({
      out_trade_no: no,
      out_refund_no: `R${no}`,
      amount: { refund: 1990, total: 1990, currency: 'CNY' },
    }),
  ).resolves.toMatchObject({ status: 'PROCESSING' });
});

test('validated as WeChat Pay does: notify_url and amount required, scene_info.payer_client_ip when scene_info is given', async () => {
  const { notify_url: _n, ...noNotify } = nativeRequest(h, outTradeNo());
  expect(await apiError(h.pay.client.prepayNative(noNotify as never))).toMatchObject({
    status: 400,
    code: 'PARAM_ERROR',
  });
  expect(
    await apiError(h.pay.client.prepayNative(nativeRequest(h, outTradeNo(), { amount: { total: 0 } }))),
  ).toMatchObject({ status: 400, code: 'PARAM_ERROR' });
  expect(await apiError(h.pay.client.prepayNative(nativeRequest(h, outTradeNo(), { scene_info: {} })))).toMatchObject({
    code: 'PARAM_ERROR',
  });
  await expect(
    h.pay.client.prepayNative(nativeRequest(h, outTradeNo(), { scene_info: { payer_client_ip: '203.0.113.7' } })),
  ).resolves.toHaveProperty('code_url');
});

test('identical re-prepay renews the code (both usable); different fields, or JSAPI on the same out_trade_no, are OUT_TRADE_NO_USED', async () => {
  const no = outTradeNo();
  const first = await h.pay.client.prepayNative(nativeRequest(h, no));
  const second = await h.pay.client.prepayNative(nativeRequest(h, no));
  expect(second.code_url).not.toBe(first.code_url);
  expect(
    await apiError(h.pay.client.prepayNative(nativeRequest(h, no, { amount: { total: 1, currency: 'CNY' } }))),
  ).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
  expect(await apiError(h.pay.client.prepayJsapi(prepayRequest(h, no, { attach: 'ORDER-1' })))).toMatchObject({
    status: 403,
    code: 'OUT_TRADE_NO_USED',
  });
  const jsapi = outTradeNo();
  await h.pay.client.prepayJsapi(prepayRequest(h, jsapi, { attach: 'ORDER-1' }));
  expect(await apiError(h.pay.client.prepayNative(nativeRequest(h, jsapi)))).toMatchObject({
    status: 403,
    code: 'OUT_TRADE_NO_USED',
  });
  // the first code still pays; afterwards prepaying again is ORDERPAID and the other code is refused
  await h.sim.scan('pay', first.code_url, SCANNER);
  expect(await apiError(h.pay.client.prepayNative(nativeRequest(h, no)))).toMatchObject({
    status: 400,
    code: 'ORDERPAID',
  });
  await expect(h.sim.scan('pay', second.code_url, SCANNER)).rejects.toMatchObject({ status: 409, code: 'ORDERPAID' });
});

test('a code_url lapses after 2 hours of business time; a fresh one from an identical re-prepay pays', async () => {
  const no = outTradeNo();
  const { code_url } = await h.pay.client.prepayNative(nativeRequest(h, no));
  h.sim.advanceClock(CODE_URL_LIFETIME_MS - 1);
  await expect(h.sim.scan('cancel', code_url, SCANNER)).resolves.toMatchObject({ result: 'cancel' });
  h.sim.advanceClock(1);
  await expect(h.sim.scan('pay', code_url, SCANNER)).rejects.toMatchObject({ status: 400, code: 'CODE_EXPIRED' });
  expect((await h.pay.client.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
  const fresh = await h.pay.client.prepayNative(nativeRequest(h, no));
  await expect(h.sim.scan('pay', fresh.code_url, SCANNER)).resolves.toMatchObject({ result: 'pay' });
});

test('time_expire and close hold for scans too; fail leaves it payable', async () => {
  const no = outTradeNo();
  const expire = new Date(h.sim.now() + 10 * 60_000).toISOString().replace(/\.\d+Z$/, '+00:00');
  const { code_url } = await h.pay.client.prepayNative(nativeRequest(h, no, { time_expire: expire }));
  await expect(h.sim.scan('fail', code_url, SCANNER)).resolves.toMatchObject({ result: 'fail' });
  expect((await h.pay.client.queryByOutTradeNo(no)).trade_state).toBe('PAYERROR');
  h.sim.advanceClock(10 * 60_000);
  await expect(h.sim.scan('pay', code_url, SCANNER)).rejects.toMatchObject({ code: 'ORDER_EXPIRED' });
  const closedNo = outTradeNo();
  const closed = await h.pay.client.prepayNative(nativeRequest(h, closedNo));
  await h.pay.client.closeByOutTradeNo(closedNo);
  await expect(h.sim.scan('pay', closed.code_url, SCANNER)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
  await expect(h.sim.scan('pay', 'weixin://wxpay/bizpayurl?pr=NOSUCHCODE', SCANNER)).rejects.toMatchObject({
    status: 404,
  });
  await expect(h.sim.scan('pay', 'https://example.com/pay', SCANNER)).rejects.toMatchObject({
    status: 400,
    code: 'INVALID_CODE',
  });
});

test('control API: scan as a user, pending JSAPI prepays and Native codes (lapsed and paid ones drop out); prepay faults reach Native', async () => {
  const no = outTradeNo();
  const { code_url } = await h.pay.client.prepayNative(nativeRequest(h, no));
  const jsapiNo = outTradeNo();
  const { prepay_id } = await h.pay.client.prepayJsapi(prepayRequest(h, jsapiNo));
  const pending = (await control(h, 'GET', '/sim/cashier/pending')).json as unknown as PendingView;
  expect(pending.codes.map((c) => c.code_url)).toEqual([code_url]);
  expect(pending.prepays).toEqual([
    expect.objectContaining({ prepay_id, out_trade_no: jsapiNo, payer: 'o_local_alice', amount: 1990 }),
  ]);

  expect((await control(h, 'POST', '/sim/native/scan', { code_url, openid: SCANNER, action: 'refund' })).status).toBe(
    400,
  );
  expect((await control(h, 'POST', '/sim/native/scan', { code_url })).status).toBe(400);
  expect(await control(h, 'POST', '/sim/native/scan', { code_url, openid: SCANNER })).toMatchObject({
    status: 200,
    json: { result: 'pay' },
  });
  expect(((await control(h, 'GET', '/sim/cashier/pending')).json as unknown as PendingView).codes).toEqual([]);
  expect((await control(h, 'GET', '/sim/native/codes')).json).toEqual([
    expect.objectContaining({ code_url, trade_state: 'SUCCESS', payer: SCANNER, lapsed: false }),
  ]);

  h.sim.faults.add({ target: 'prepay', kind: 'SYSTEM_ERROR', times: null });
  expect(await apiError(h.pay.client.prepayNative(nativeRequest(h, outTradeNo())))).toMatchObject({
    status: 500,
    code: 'SYSTEM_ERROR',
  });
});

test("the trade bill names a Native payment's trade type and the payer who scanned", async () => {
  const jsapi = outTradeNo();
  const { prepay_id } = await h.pay.client.prepayJsapi(prepayRequest(h, jsapi));
  await h.sim.cashier('pay', prepay_id);
  const native = outTradeNo();
  const { code_url } = await h.pay.client.prepayNative(nativeRequest(h, native));
  await h.sim.scan('pay', code_url, SCANNER);
  const rows = await recordsLedger(h.sim.ledger.records()).paymentsSucceededBetween(0, Number.MAX_SAFE_INTEGER);
  expect(rows.find((p) => p.outTradeNo === native)).toMatchObject({ tradeType: 'NATIVE', openid: SCANNER });
  // a JSAPI record names no trade type: the bill writes JSAPI for it (bills-format.ts)
  expect(rows.find((p) => p.outTradeNo === jsapi)).toMatchObject({ openid: 'o_local_alice' });
  expect(rows.find((p) => p.outTradeNo === jsapi)).not.toHaveProperty('tradeType');
});
