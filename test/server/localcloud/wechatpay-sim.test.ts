/** The WeChat Pay simulator, driven by the project's protocol client on every error path, and by wechatpay-axios-plugin. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  createWechatPay,
  loadWechatPayConfig,
  NotificationParser,
  RsaSha256Signer,
  WechatPayApiError,
  WechatPayNetworkError,
  WechatPayVerificationError,
  type WechatPay,
} from '../../../cloudfunctions/common/wechatpay';
import { wechatpayEnvironment } from '../../../localcloud/env';
import type { LocalKeys } from '../../../localcloud/keys';
import { RETRY_SCHEDULE_SECONDS } from '../../../localcloud/wechatpay-sim/notifier';
import { WechatPaySimulator } from '../../../localcloud/wechatpay-sim/simulator';
import { freshLocalKeys } from '../../support/local-keys';
import { NotifyReceiver } from '../../support/notify-receiver';

let keys: LocalKeys;
let keysDir: string;
let sim: WechatPaySimulator;
let receiver: NotifyReceiver;
let pay: WechatPay;
let now: number;
const clock = () => now;

beforeAll(() => {
  ({ keys, dir: keysDir } = freshLocalKeys());
});
afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

beforeEach(async () => {
  now = Date.now();
  receiver = await new NotifyReceiver().start();
  // refundIntervalMs 0: these tests refund one payment several times in a row (the minute rule has its own tests)
  sim = new WechatPaySimulator({
    keys,
    clock,
    timeFactor: 0.001,
    refundDelayMs: 5,
    refundIntervalMs: 0,
    signingMode: 'publicKey',
  });
  const baseUrl = await sim.start();
  pay = client(baseUrl);
});
afterEach(async () => {
  await sim.close();
  await receiver.close();
});

function client(
  baseUrl: string,
  env: Record<string, string> = {},
  mode: 'publicKey' | 'certificate' | 'both' = 'both',
) {
  const config = loadWechatPayConfig({
    ...wechatpayEnvironment(
      keys,
      {
        wechatpayBaseUrl: baseUrl,
        wxApiBaseUrl: 'http://127.0.0.1:1',
        notifyUrl: receiver.url,
        refundNotifyUrl: receiver.url,
      },
      mode,
    ),
    ...env,
  });
  return createWechatPay(config, { clock, timeoutMs: 400, sleep: async () => {} });
}

const outTradeNo = () => `T${Date.now()}${randomBytes(4).toString('hex')}`;
function prepayRequest(no: string, overrides: Record<string, unknown> = {}) {
  return {
    appid: keys.appid,
    description: '测试商品-拿铁',
    out_trade_no: no,
    notify_url: receiver.url,
    amount: { total: 1990, currency: 'CNY' as const },
    payer: { openid: 'o_local_alice' },
    ...overrides,
  };
}
const parser = () => new NotificationParser({ verifier: pay.verifier, apiV3Key: keys.apiV3Key });

async function apiError(promise: Promise<unknown>): Promise<WechatPayApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WechatPayApiError);
  return error as WechatPayApiError;
}

async function paidOrder(total = 1990) {
  const no = outTradeNo();
  const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no, { amount: { total, currency: 'CNY' } }));
  await sim.cashier('pay', prepay_id);
  await receiver.waitFor(receiver.received.length + 1);
  return no;
}

describe('prepay, query, close', () => {
  test('prepay answers a prepay_id, signed in each signing mode and verified by the client', async () => {
    for (const mode of ['publicKey', 'certificate', 'both'] as const) {
      sim.signingMode = mode;
      const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(outTradeNo()));
      expect(prepay_id).toMatch(/^wx\d{14}[0-9a-f]{20}$/);
    }
    // A merchant that knows only the public key cannot verify certificate-mode answers.
    sim.signingMode = 'certificate';
    const pubkeyOnly = client(sim.baseUrl, {}, 'publicKey');
    await expect(pubkeyOnly.client.prepayJsapi(prepayRequest(outTradeNo()))).rejects.toMatchObject({
      reason: 'UNKNOWN_SERIAL',
    });
  });

  test('same out_trade_no and parameters: a fresh prepay_id; other parameters: OUT_TRADE_NO_USED', async () => {
    const no = outTradeNo();
    const first = await pay.client.prepayJsapi(prepayRequest(no));
    const second = await pay.client.prepayJsapi(prepayRequest(no));
    expect(second.prepay_id).not.toBe(first.prepay_id);
    const error = await apiError(pay.client.prepayJsapi(prepayRequest(no, { amount: { total: 1, currency: 'CNY' } })));
    expect(error).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    expect((await sim.listTransactions()).filter((t) => t._id === no)).toHaveLength(1);
  });

  test.each([
    [{ description: undefined }, '/description'],
    [{ description: 'x'.repeat(128) }, '/description'],
    [{ out_trade_no: 'abc' }, '/out_trade_no'],
    [{ out_trade_no: 'has space 123' }, '/out_trade_no'],
    [{ amount: { total: 0, currency: 'CNY' } }, '/amount/total'],
    [{ amount: { total: 1.5, currency: 'CNY' } }, '/amount/total'],
    [{ amount: { total: 100, currency: 'USD' } }, '/amount/currency'],
    [{ payer: {} }, '/payer/openid'],
    [{ notify_url: 'http://example.com/notify' }, '/notify_url'],
    [{ notify_url: 'https://example.com/notify?a=1' }, '/notify_url'],
    [{ attach: 'a'.repeat(129) }, '/attach'],
    [{ time_expire: '2020-01-01' }, '/time_expire'],
    [{ time_expire: '2020-01-01T00:00:00+08:00' }, '/time_expire'],
  ])('PARAM_ERROR for %o', async (overrides, field) => {
    const error = await apiError(pay.client.prepayJsapi(prepayRequest(outTradeNo(), overrides)));
    expect(error).toMatchObject({ status: 400, code: 'PARAM_ERROR', detail: expect.objectContaining({ field }) });
    expect(await sim.listTransactions()).toHaveLength(0);
  });

  test('an appid that is not the merchant’s: APPID_MCHID_NOT_MATCH', async () => {
    expect(
      await apiError(pay.client.prepayJsapi(prepayRequest(outTradeNo(), { appid: 'wx0000000000000000' }))),
    ).toMatchObject({ status: 400, code: 'APPID_MCHID_NOT_MATCH' });
  });

  test('a request signed with another key: 401 SIGN_ERROR with sign_information', async () => {
    const forged = client(sim.baseUrl);
    (forged.credential as unknown as { signer: RsaSha256Signer }).signer = new RsaSha256Signer(
      freshLocalKeys().keys.merchantPrivateKeyPem,
    );
    const error = await apiError(forged.client.queryByOutTradeNo('T0000001'));
    expect(error).toMatchObject({ status: 401, code: 'SIGN_ERROR' });
    expect((error.detail as { sign_information: { url: string } }).sign_information.url).toBe(
      `/v3/pay/transactions/out-trade-no/T0000001?mchid=${keys.mchid}`,
    );
    const wrongSerial = client(sim.baseUrl, { WECHATPAY_MERCHANT_SERIAL_NO: 'ABCDEF0123456789' });
    expect(await apiError(wrongSerial.client.queryByOutTradeNo('T0000001'))).toMatchObject({
      status: 401,
      code: 'SIGN_ERROR',
    });
  });

  test('query: unknown 404, unpaid NOTPAY, paid SUCCESS by out_trade_no and transaction_id', async () => {
    expect(await apiError(pay.client.queryByOutTradeNo('T_UNKNOWN_1'))).toMatchObject({
      status: 404,
      code: 'ORDER_NOT_EXIST',
    });
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no, { attach: 'order:1' }));
    expect(await pay.client.queryByOutTradeNo(no)).toMatchObject({ trade_state: 'NOTPAY', amount: { total: 1990 } });
    await sim.cashier('pay', prepay_id);
    const paid = await pay.client.queryByOutTradeNo(no);
    expect(paid).toMatchObject({
      trade_state: 'SUCCESS',
      attach: 'order:1',
      payer: { openid: 'o_local_alice' },
      amount: { total: 1990, payer_total: 1990 },
    });
    expect(await pay.client.queryByTransactionId(paid.transaction_id!)).toMatchObject({ out_trade_no: no });
  });

  test('close: unpaid closes (204, idempotent), a paid order is refused, a closed one cannot be prepaid or paid', async () => {
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no));
    await pay.client.closeByOutTradeNo(no);
    await pay.client.closeByOutTradeNo(no);
    expect((await pay.client.queryByOutTradeNo(no)).trade_state).toBe('CLOSED');
    expect(await apiError(pay.client.prepayJsapi(prepayRequest(no)))).toMatchObject({ code: 'ORDER_CLOSED' });
    await expect(sim.cashier('pay', prepay_id)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
    const paid = await paidOrder();
    expect(await apiError(pay.client.closeByOutTradeNo(paid))).toMatchObject({ status: 400, code: 'ORDERPAID' });
    expect(await apiError(pay.client.closeByOutTradeNo('T_UNKNOWN_2'))).toMatchObject({
      status: 404,
      code: 'ORDER_NOT_EXIST',
    });
  });

  test('time_expire is honoured, and a prepay_id lives 2 hours', async () => {
    const no = outTradeNo();
    const expire = new Date(now + 10 * 60 * 1000).toISOString().replace('Z', '+00:00');
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no, { time_expire: expire }));
    now += 11 * 60 * 1000;
    await expect(sim.cashier('pay', prepay_id)).rejects.toMatchObject({ code: 'ORDER_EXPIRED' });
    const other = await pay.client.prepayJsapi(prepayRequest(outTradeNo()));
    now += 2 * 3600 * 1000 + 1;
    await expect(sim.cashier('pay', other.prepay_id)).rejects.toMatchObject({ code: 'PREPAY_EXPIRED' });
  });

  test('cashier cancel changes nothing; fail is PAYERROR and the order can still be paid', async () => {
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no));
    await sim.cashier('cancel', prepay_id);
    expect((await pay.client.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
    await sim.cashier('fail', prepay_id);
    expect((await pay.client.queryByOutTradeNo(no)).trade_state).toBe('PAYERROR');
    await sim.cashier('pay', prepay_id);
    expect((await pay.client.queryByOutTradeNo(no)).trade_state).toBe('SUCCESS');
    await expect(sim.cashier('pay', prepay_id)).rejects.toMatchObject({ code: 'ORDERPAID' });
  });
});

describe('refunds', () => {
  test('PROCESSING, then SUCCESS with a verified REFUND.SUCCESS notification; the trade becomes REFUND', async () => {
    const no = await paidOrder(1000);
    const refund = await pay.client.createRefund({
      out_trade_no: no,
      out_refund_no: `R${no}`,
      reason: '不想要了',
      notify_url: receiver.url,
      amount: { refund: 400, total: 1000, currency: 'CNY' },
    });
    expect(refund).toMatchObject({ status: 'PROCESSING', out_trade_no: no, amount: { refund: 400, total: 1000 } });
    const [, refundNotice] = await receiver.waitFor(2);
    const parsed = parser().parse({
      headers: refundNotice!.headers as Record<string, string>,
      body: refundNotice!.body,
    });
    expect(parsed).toMatchObject({
      kind: 'refund',
      eventType: 'REFUND.SUCCESS',
      resource: { refund_status: 'SUCCESS', out_refund_no: `R${no}`, amount: { refund: 400 } },
    });
    expect(await pay.client.queryRefund(`R${no}`)).toMatchObject({ status: 'SUCCESS' });
    expect((await pay.client.queryByOutTradeNo(no)).trade_state).toBe('REFUND');
  });

  test('the same out_refund_no is the same refund; different amount is refused', async () => {
    const no = await paidOrder(1000);
    const request = {
      out_trade_no: no,
      out_refund_no: `R${no}`,
      amount: { refund: 300, total: 1000, currency: 'CNY' as const },
    };
    const first = await pay.client.createRefund(request);
    const again = await pay.client.createRefund(request);
    expect(again.refund_id).toBe(first.refund_id);
    expect(
      await apiError(pay.client.createRefund({ ...request, amount: { ...request.amount, refund: 301 } })),
    ).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    expect(await sim.listRefunds(no)).toHaveLength(1);
  });

  test('refunds above the remaining amount: 400 INVALID_REQUEST; concurrent requests never exceed the total', async () => {
    const no = await paidOrder(1000);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        pay.client.createRefund({
          out_trade_no: no,
          out_refund_no: `R${no}-${i}`,
          amount: { refund: 300, total: 1000, currency: 'CNY' },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results)
      if (r.status === 'rejected')
        expect(r.reason).toMatchObject({
          status: 400,
          code: 'INVALID_REQUEST',
          message: expect.stringContaining('申请退款金额超过订单可退金额'),
        });
    expect((await sim.listRefunds(no)).reduce((sum, r) => sum + r.amount.refund, 0)).toBe(900);
  });

  test('refund errors: unpaid order, wrong total, unknown order, unknown refund', async () => {
    const no = outTradeNo();
    await pay.client.prepayJsapi(prepayRequest(no));
    // "未支付的订单不能发起退款": the refund API does not know an unpaid order
    expect(
      await apiError(
        pay.client.createRefund({
          out_trade_no: no,
          out_refund_no: 'R1',
          amount: { refund: 1, total: 1990, currency: 'CNY' },
        }),
      ),
    ).toMatchObject({ status: 404, code: 'RESOURCE_NOT_EXISTS' });
    const paid = await paidOrder(1000);
    expect(
      await apiError(
        pay.client.createRefund({
          out_trade_no: paid,
          out_refund_no: 'R2',
          amount: { refund: 1, total: 999, currency: 'CNY' },
        }),
      ),
    ).toMatchObject({ code: 'PARAM_ERROR' });
    expect(
      await apiError(
        pay.client.createRefund({
          out_trade_no: 'T_NOPE_01',
          out_refund_no: 'R3',
          amount: { refund: 1, total: 1, currency: 'CNY' },
        }),
      ),
    ).toMatchObject({ status: 404 });
    expect(await apiError(pay.client.queryRefund('R_NOPE'))).toMatchObject({
      status: 404,
      code: 'RESOURCE_NOT_EXISTS',
    });
  });

  test('a refund ending CLOSED gives its amount back', async () => {
    const no = await paidOrder(1000);
    sim.faults.add({ target: 'refund-outcome', kind: 'CLOSED', times: 1 });
    await pay.client.createRefund({
      out_trade_no: no,
      out_refund_no: `R${no}a`,
      notify_url: receiver.url,
      amount: { refund: 1000, total: 1000, currency: 'CNY' },
    });
    const [, notice] = await receiver.waitFor(2);
    expect(parser().parse({ headers: notice!.headers as Record<string, string>, body: notice!.body }).eventType).toBe(
      'REFUND.CLOSED',
    );
    expect((await pay.client.queryRefund(`R${no}a`)).status).toBe('CLOSED');
    await expect(
      pay.client.createRefund({
        out_trade_no: no,
        out_refund_no: `R${no}b`,
        amount: { refund: 1000, total: 1000, currency: 'CNY' },
      }),
    ).resolves.toMatchObject({ status: 'PROCESSING' });
  });

  test('a refund ending ABNORMAL keeps its amount: the money has left the merchant and waits', async () => {
    const no = await paidOrder(1000);
    sim.faults.add({ target: 'refund-outcome', kind: 'ABNORMAL', times: 1 });
    await pay.client.createRefund({
      out_trade_no: no,
      out_refund_no: `R${no}a`,
      notify_url: receiver.url,
      amount: { refund: 1000, total: 1000, currency: 'CNY' },
    });
    const [, notice] = await receiver.waitFor(2);
    expect(parser().parse({ headers: notice!.headers as Record<string, string>, body: notice!.body }).eventType).toBe(
      'REFUND.ABNORMAL',
    );
    expect((await pay.client.queryRefund(`R${no}a`)).status).toBe('ABNORMAL');
    expect(
      await apiError(
        pay.client.createRefund({
          out_trade_no: no,
          out_refund_no: `R${no}b`,
          amount: { refund: 1, total: 1000, currency: 'CNY' },
        }),
      ),
    ).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
  });
});

describe('certificates', () => {
  test('certificate mode: encrypt_certificate decrypts to the platform certificate', async () => {
    sim.signingMode = 'certificate';
    const certificates = await pay.client.downloadCertificates();
    expect(certificates).toEqual([
      expect.objectContaining({ serialNo: keys.platformCertificateSerial, pem: keys.platformCertificatePem }),
    ]);
  });
  test('public-key mode: no certificates, 404 RESOURCE_NOT_EXISTS as WeChat Pay answers', async () => {
    expect(await apiError(pay.client.downloadCertificates())).toMatchObject({
      status: 404,
      code: 'RESOURCE_NOT_EXISTS',
      message: expect.stringContaining('无可用的平台证书'),
    });
  });
  test('both modes: the certificates a migrating merchant still has', async () => {
    sim.signingMode = 'both';
    expect(await pay.client.downloadCertificates()).toEqual([
      expect.objectContaining({ serialNo: keys.platformCertificateSerial }),
    ]);
  });
});

describe('fault injection', () => {
  test('SYSTEM_ERROR once: the client retries and succeeds; one transaction', async () => {
    sim.faults.add({ target: 'prepay', kind: 'SYSTEM_ERROR', times: 1 });
    const no = outTradeNo();
    await expect(pay.client.prepayJsapi(prepayRequest(no))).resolves.toHaveProperty('prepay_id');
    expect(sim.faults.list()).toHaveLength(0);
    expect(await sim.listTransactions()).toHaveLength(1);
  });

  test('a standing SYSTEM_ERROR: the client gives up after its attempts with a typed 500', async () => {
    sim.faults.add({ target: 'any', kind: 'SYSTEM_ERROR', times: null });
    expect(await apiError(pay.client.queryByOutTradeNo('T0000001'))).toMatchObject({
      status: 500,
      code: 'SYSTEM_ERROR',
    });
    expect(sim.faults.list()).toHaveLength(1);
  });

  test('FREQUENCY_LIMITED is a 429 and is not retried', async () => {
    sim.faults.add({ target: 'query', kind: 'FREQUENCY_LIMITED', times: 2 });
    expect(await apiError(pay.client.queryByOutTradeNo('T0000001'))).toMatchObject({
      status: 429,
      code: 'FREQUENCY_LIMITED',
    });
    expect(sim.faults.list()).toEqual([expect.objectContaining({ times: 1 })]);
  });

  test('a TIMEOUT after processing: the retry with the same out_trade_no creates nothing new', async () => {
    sim.faults.add({ target: 'prepay', kind: 'TIMEOUT', times: 1, delayMs: 1000 });
    const no = outTradeNo();
    await expect(pay.client.prepayJsapi(prepayRequest(no))).resolves.toHaveProperty('prepay_id');
    expect(await sim.listTransactions()).toHaveLength(1);
  });

  test('TIMEOUT on every attempt: a timed-out network error', async () => {
    sim.faults.add({ target: 'refund-query', kind: 'TIMEOUT', times: null, delayMs: 1000 });
    const error = await pay.client.queryRefund('R1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatPayNetworkError);
    expect((error as WechatPayNetworkError).timedOut).toBe(true);
  });

  test('SLOW answers still succeed within the client timeout', async () => {
    sim.faults.add({ target: 'prepay', kind: 'SLOW', times: 1, delayMs: 100 });
    await expect(pay.client.prepayJsapi(prepayRequest(outTradeNo()))).resolves.toHaveProperty('prepay_id');
  });
});

describe('notifications', () => {
  test('a payment notification verifies and decrypts with the protocol module', async () => {
    const no = await paidOrder(1990);
    const [notice] = receiver.received;
    const parsed = parser().parse({ headers: notice!.headers as Record<string, string>, body: notice!.body });
    expect(parsed).toMatchObject({
      kind: 'transaction',
      eventType: 'TRANSACTION.SUCCESS',
      resource: {
        out_trade_no: no,
        trade_state: 'SUCCESS',
        amount: { total: 1990 },
        mchid: keys.mchid,
        appid: keys.appid,
      },
    });
  });

  test('retried on WeChat’s schedule (scaled) until acknowledged, each attempt logged', async () => {
    receiver.script.push(500, 404, 503);
    const no = await paidOrder();
    const all = await receiver.waitFor(4);
    expect(all.map((r) => r.status)).toEqual([500, 404, 503, 200]);
    // Same body every time, fresh signature headers each attempt.
    expect(new Set(all.map((r) => r.body.toString())).size).toBe(1);
    for (const r of all)
      expect(() => parser().parse({ headers: r.headers as Record<string, string>, body: r.body })).not.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    const [delivery] = await sim.notifier.list({ outTradeNo: no });
    expect(delivery).toMatchObject({
      state: 'delivered',
      attempts: [{ status: 500 }, { status: 404 }, { status: 503 }, { status: 200 }],
    });
    expect(RETRY_SCHEDULE_SECONDS.slice(0, 5)).toEqual([15, 15, 30, 180, 600]);
  });

  test('gives up after the whole schedule', async () => {
    receiver.script.push(...Array(16).fill(500));
    sim.timeFactor = 0.00001;
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no));
    await sim.cashier('pay', prepay_id);
    await receiver.waitFor(16, 10_000);
    await new Promise((r) => setTimeout(r, 30));
    const [delivery] = await sim.notifier.list({ outTradeNo: no });
    expect(delivery).toMatchObject({ state: 'failed' });
    expect(delivery!.attempts).toHaveLength(16);
  });

  test('DROP: nothing is sent until a replay', async () => {
    sim.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no));
    await sim.cashier('pay', prepay_id);
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver.received).toHaveLength(0);
    const [dropped] = await sim.notifier.list({ outTradeNo: no });
    expect(dropped!.state).toBe('dropped');
    await sim.notifier.replay(dropped!._id);
    expect(receiver.received).toHaveLength(1);
    expect((await sim.notifier.list({ outTradeNo: no }))[0]!.state).toBe('delivered');
  });

  test('DUPLICATE: delivered twice', async () => {
    sim.faults.add({ target: 'notify', kind: 'DUPLICATE', times: 1 });
    await paidOrder();
    const both = await receiver.waitFor(2);
    expect(both[0]!.body.equals(both[1]!.body)).toBe(true);
  });

  test('SIGNTEST: a probe precedes the real notification and fails verification cleanly', async () => {
    sim.faults.add({ target: 'notify', kind: 'SIGNTEST', times: 1 });
    await paidOrder();
    const [probe, real] = await receiver.waitFor(2);
    expect(probe!.headers['wechatpay-signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(() => parser().parse({ headers: probe!.headers as Record<string, string>, body: probe!.body })).toThrow(
      WechatPayVerificationError,
    );
    expect(() => parser().parse({ headers: real!.headers as Record<string, string>, body: real!.body })).not.toThrow();
  });

  test('DELAY and REORDER', async () => {
    sim.faults.add({ target: 'notify', kind: 'REORDER', times: 1 });
    const first = await paidOrderNoWait();
    const second = await paidOrderNoWait();
    const [a, b] = await receiver.waitFor(2);
    const ids = [a, b].map(
      (r) =>
        (
          parser().parse({ headers: r!.headers as Record<string, string>, body: r!.body }).resource as {
            out_trade_no: string;
          }
        ).out_trade_no,
    );
    expect(ids).toEqual([second, first]);
    sim.faults.add({ target: 'notify', kind: 'DELAY', times: 1, delayMs: 150 });
    const started = Date.now();
    await paidOrderNoWait();
    await receiver.waitFor(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  async function paidOrderNoWait() {
    const no = outTradeNo();
    const { prepay_id } = await pay.client.prepayJsapi(prepayRequest(no));
    await sim.cashier('pay', prepay_id);
    return no;
  }
});

describe('an independent client: wechatpay-axios-plugin', () => {
  test('the simulator accepts its Authorization header, and it accepts the simulator’s response signature', async () => {
    sim.signingMode = 'publicKey';
    const body = JSON.stringify(prepayRequest(outTradeNo(), { mchid: keys.mchid }));
    const url = '/v3/pay/transactions/jsapi';
    const nonce = Formatter.nonce();
    const timestamp = String(Math.floor(now / 1000));
    const signature = Rsa.sign(
      Formatter.request('POST', url, timestamp, nonce, body),
      Rsa.from(keys.merchantPrivateKeyPem, Rsa.KEY_TYPE_PRIVATE),
    );
    const response = await fetch(sim.baseUrl + url, {
      method: 'POST',
      headers: {
        Authorization: Formatter.authorization(keys.mchid, nonce, signature, timestamp, keys.merchantSerialNo),
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body,
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    const message = Formatter.response(
      response.headers.get('wechatpay-timestamp')!,
      response.headers.get('wechatpay-nonce')!,
      text,
    );
    expect(response.headers.get('wechatpay-serial')).toBe(keys.publicKeyId);
    expect(
      Rsa.verify(
        message,
        response.headers.get('wechatpay-signature')!,
        Rsa.from(keys.platformPublicKeyPem, Rsa.KEY_TYPE_PUBLIC),
      ),
    ).toBe(true);
  });
});

describe('persistence', () => {
  test('the ledger survives a restart of the simulator', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'simledger-'));
    const persistent = new WechatPaySimulator({ keys, clock, dataDir, timeFactor: 0.001, refundDelayMs: 5 });
    const base = await persistent.start();
    const no = outTradeNo();
    await client(base).client.prepayJsapi(prepayRequest(no));
    await persistent.close();
    const again = new WechatPaySimulator({ keys, clock, dataDir });
    const base2 = await again.start();
    expect((await client(base2).client.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
    await again.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
