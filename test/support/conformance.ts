/**
 * The WeChat Pay simulator's conformance suite: one list of cases, run for each outside SDK in each signing
 * situation. Each SDK gets an adapter (in test/server/conformance/<sdk>.test.ts) that does only what the SDK's own
 * README shows a merchant doing; every 2xx answer an adapter hands back has passed that SDK's own signature check
 * (an adapter throws when the SDK rejects one). The cases then hold the answers to WeChat Pay's documented meaning.
 *
 * The simulator runs in-process on 127.0.0.1 (port 0) on the real clock, as the SDKs sign and check with the real
 * clock. Refunds stay PROCESSING until a case settles them (`sim.settleRefund`), so nothing depends on timing.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { LocalKeys } from '../../localcloud/keys';
import type { Delivery } from '../../localcloud/wechatpay-sim/notifier';
import { WechatPaySimulator, type SigningMode } from '../../localcloud/wechatpay-sim/simulator';
import { freshLocalKeys } from './local-keys';
import { NotifyReceiver } from './notify-receiver';

export type Json = Record<string, unknown>;

/** How a merchant in a signing mode is set up, and which key WeChat Pay then signs API answers with. */
export interface Situation {
  mode: SigningMode;
  label: string;
  /** requests carry `Wechatpay-Serial: PUB_KEY_ID_…` (a migrating merchant that has switched its requests) */
  serialHeader: boolean;
  /** the key API answers are signed with */
  answersSignedWith: 'publicKey' | 'certificate';
}

export const SITUATIONS: readonly Situation[] = [
  {
    mode: 'publicKey',
    label: 'publicKey mode (a new merchant: WeChat Pay public key only)',
    serialHeader: false,
    answersSignedWith: 'publicKey',
  },
  {
    mode: 'certificate',
    label: 'certificate mode (platform certificate only)',
    serialHeader: false,
    answersSignedWith: 'certificate',
  },
  {
    mode: 'both',
    label: 'both (migrating), requests carry Wechatpay-Serial: PUB_KEY_ID_…',
    serialHeader: true,
    answersSignedWith: 'publicKey',
  },
  {
    mode: 'both',
    label: 'both (migrating), requests without Wechatpay-Serial',
    serialHeader: false,
    answersSignedWith: 'certificate',
  },
];

/** An answer as the merchant sees it: for a 2xx, already verified by the SDK; `serial` is its Wechatpay-Serial. */
export interface Answer {
  status: number;
  body: Json;
  serial?: string;
}

/** What wx.requestPayment receives (the merchant's backend builds it after prepay). */
export interface RequestPayment {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

/** A notification as WeChat Pay sent it: header names lower-cased, the body byte for byte. */
export interface SentNotification {
  headers: Record<string, string>;
  body: string;
}

export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data: string;
  original_type: string;
}

export interface ConformanceMerchant {
  /** JSAPI prepay, and the wx.requestPayment parameters built from its prepay_id the way the SDK documents */
  prepay(order: Json): Promise<Answer & { requestPayment?: RequestPayment }>; // requestPayment on 200
  queryByOutTradeNo(outTradeNo: string): Promise<Answer>;
  queryByTransactionId(transactionId: string): Promise<Answer>;
  close(outTradeNo: string): Promise<Answer>;
  refund(request: Json): Promise<Answer>;
  refundQuery(outRefundNo: string): Promise<Answer>;
  /** GET /v3/certificates, each certificate decrypted with the SDK's own AES-GCM helper */
  certificates(): Promise<Answer & { certificates?: { serial_no: string; pem: string }[] }>;
  /** the SDK's own check of a notification's signature */
  verifyNotification(sent: SentNotification): Promise<boolean>;
  /** the SDK's own AES-256-GCM helper, the APIv3 key as configured */
  decryptResource(resource: EncryptedResource): Json;
}

export interface ConformanceWorld {
  keys: LocalKeys;
  sim: WechatPaySimulator;
  receiver: NotifyReceiver;
  baseUrl: string;
  situation: Situation;
}

export const str = (value: unknown, path: string): string => {
  const found = path
    .split('.')
    .reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Json)[k] : undefined), value);
  if (typeof found !== 'string') throw new Error(`${path} is not a string in ${JSON.stringify(value)}`);
  return found;
};

const outTradeNo = () => `C${Date.now()}${randomBytes(4).toString('hex')}`;

export function jsapiOrder(world: ConformanceWorld, no: string, total: number, extra: Json = {}): Json {
  return {
    appid: world.keys.appid,
    mchid: world.keys.mchid,
    description: '一致性测试-拿铁',
    out_trade_no: no,
    notify_url: world.receiver.url,
    amount: { total, currency: 'CNY' },
    payer: { openid: 'o_conformance_payer' },
    ...extra,
  };
}

/** Waits (bounded) until the delivery log holds a delivered notification of this kind for this payment. */
export async function deliveredNotification(
  world: ConformanceWorld,
  filter: { outTradeNo: string; eventType: string; outRefundNo?: string },
): Promise<Delivery> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (await world.sim.notifier.list({ outTradeNo: filter.outTradeNo, eventType: filter.eventType })).find(
      (d) => d.state === 'delivered' && (filter.outRefundNo === undefined || d.outRefundNo === filter.outRefundNo),
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no delivered ${filter.eventType} for ${filter.outTradeNo} within 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The user pays at the simulator's cashier with the wx.requestPayment parameters the SDK built (the cashier checks
 * them as WeChat's payment sheet does: appId, prepay_id, paySign against the merchant certificate).
 */
export async function payAtCashier(world: ConformanceWorld, requestPayment: RequestPayment): Promise<void> {
  await world.sim.cashier('pay', requestPayment);
}

/** A prepaid and paid order: its out_trade_no and transaction_id, once the payment notification was delivered. */
export async function paidOrder(
  world: ConformanceWorld,
  merchant: ConformanceMerchant,
  total: number,
): Promise<{ outTradeNo: string; transactionId: string }> {
  const no = outTradeNo();
  const prepaid = await merchant.prepay(jsapiOrder(world, no, total));
  expect(prepaid.status).toBe(200);
  await payAtCashier(world, prepaid.requestPayment!);
  await deliveredNotification(world, { outTradeNo: no, eventType: 'TRANSACTION.SUCCESS' });
  const tx = await world.sim.getTransaction(no);
  return { outTradeNo: no, transactionId: tx!.transaction_id! };
}

/** The cases, for one SDK: `makeMerchant` sets the SDK up as a merchant in the given situation would. */
export function describeConformance(
  sdk: string,
  makeMerchant: (world: ConformanceWorld) => Promise<ConformanceMerchant>,
): void {
  let keys: LocalKeys;
  let keysDir: string;
  beforeAll(() => {
    ({ keys, dir: keysDir } = freshLocalKeys());
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

  describe.each(SITUATIONS)(`${sdk} · $label`, (situation) => {
    const world = {} as ConformanceWorld;
    let merchant: ConformanceMerchant;
    const expectedSerial = () =>
      situation.answersSignedWith === 'publicKey' ? world.keys.publicKeyId : world.keys.platformCertificateSerial;

    beforeAll(async () => {
      world.keys = keys;
      world.situation = situation;
      world.receiver = await new NotifyReceiver().start();
      // refunds stay PROCESSING until a case settles them; refunds of one payment need not wait a minute here
      world.sim = new WechatPaySimulator({
        keys,
        signingMode: situation.mode,
        refundDelayMs: 10 * 60 * 1000,
        refundIntervalMs: 0,
      });
      world.baseUrl = await world.sim.start();
      merchant = await makeMerchant(world);
    });
    afterAll(async () => {
      await world.sim?.close();
      await world.receiver?.close();
    });

    test('prepay (JSAPI): a prepay_id, the answer signed with the expected key and verified by the SDK', async () => {
      const prepaid = await merchant.prepay(jsapiOrder(world, outTradeNo(), 1990));
      expect(prepaid).toMatchObject({ status: 200, serial: expectedSerial() });
      expect(str(prepaid.body, 'prepay_id')).toMatch(/^wx\w{20,}$/);
      expect(prepaid.requestPayment).toMatchObject({
        appId: keys.appid,
        package: `prepay_id=${str(prepaid.body, 'prepay_id')}`,
        signType: 'RSA',
      });
      expect(prepaid.requestPayment!.timeStamp).toMatch(/^\d{10}$/);
    });

    test('the cashier takes the wx.requestPayment parameters the SDK signed; changed ones fail paySign', async () => {
      const no = outTradeNo();
      const { requestPayment } = await merchant.prepay(jsapiOrder(world, no, 1990));
      await expect(
        world.sim.cashier('pay', { ...requestPayment!, nonceStr: `${requestPayment!.nonceStr}x` }),
      ).rejects.toMatchObject({ code: 'PAYSIGN_ERROR' });
      expect((await merchant.queryByOutTradeNo(no)).body).toMatchObject({ trade_state: 'NOTPAY' });
      await payAtCashier(world, requestPayment!);
      expect((await merchant.queryByOutTradeNo(no)).body).toMatchObject({ trade_state: 'SUCCESS' });
    });

    test('query by out_trade_no, unpaid: NOTPAY with exactly the fields WeChat Pay sends for an unpaid order', async () => {
      const no = outTradeNo();
      await merchant.prepay(jsapiOrder(world, no, 1990, { attach: 'conformance' }));
      const answer = await merchant.queryByOutTradeNo(no);
      expect(answer).toMatchObject({ status: 200, serial: expectedSerial() });
      // As captured from WeChat Pay by merchants: no payer, trade_type, attach, transaction_id or success_time
      // before payment; amount carries total and payer_currency.
      expect(answer.body).toEqual({
        amount: { payer_currency: 'CNY', total: 1990 },
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: no,
        promotion_detail: [],
        scene_info: { device_id: '' },
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
      });
    });

    test('query by out_trade_no, paid at the cashier: SUCCESS with transaction_id, payer, success_time and amounts', async () => {
      const { outTradeNo: no } = await paidOrder(world, merchant, 1990);
      const answer = await merchant.queryByOutTradeNo(no);
      expect(answer).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: {
          appid: keys.appid,
          mchid: keys.mchid,
          out_trade_no: no,
          trade_type: 'JSAPI',
          trade_state: 'SUCCESS',
          payer: { openid: 'o_conformance_payer' },
          amount: { total: 1990, payer_total: 1990, currency: 'CNY', payer_currency: 'CNY' },
        },
      });
      expect(str(answer.body, 'transaction_id')).toMatch(/^\d{28}$/);
      expect(Date.parse(str(answer.body, 'success_time'))).toBeGreaterThan(Date.now() - 60_000);
    });

    test('query by transaction_id: the same transaction as by out_trade_no', async () => {
      const { outTradeNo: no, transactionId } = await paidOrder(world, merchant, 990);
      const byId = await merchant.queryByTransactionId(transactionId);
      expect(byId).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: { out_trade_no: no, transaction_id: transactionId, trade_state: 'SUCCESS' },
      });
      expect(byId.body).toEqual((await merchant.queryByOutTradeNo(no)).body);
    });

    test('close: 204 with a verified empty body, then the query says CLOSED', async () => {
      const no = outTradeNo();
      await merchant.prepay(jsapiOrder(world, no, 500));
      const closed = await merchant.close(no);
      expect(closed).toMatchObject({ status: 204, serial: expectedSerial() });
      const answer = await merchant.queryByOutTradeNo(no);
      expect(answer.body).toMatchObject({ out_trade_no: no, trade_state: 'CLOSED', trade_state_desc: '订单已关闭' });
      for (const absent of ['transaction_id', 'success_time', 'payer', 'trade_type'])
        expect(answer.body).not.toHaveProperty(absent);
    });

    test('refund, partial: PROCESSING with the amounts asked, then SUCCESS in the refund query once settled', async () => {
      const { outTradeNo: no, transactionId } = await paidOrder(world, merchant, 1000);
      const outRefundNo = `R${no}`;
      const refund = await merchant.refund({
        out_trade_no: no,
        out_refund_no: outRefundNo,
        reason: '部分退款',
        notify_url: world.receiver.url,
        amount: { refund: 300, total: 1000, currency: 'CNY' },
      });
      expect(refund).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: {
          out_refund_no: outRefundNo,
          out_trade_no: no,
          transaction_id: transactionId,
          status: 'PROCESSING',
          amount: { refund: 300, total: 1000, currency: 'CNY' },
        },
      });
      expect(str(refund.body, 'refund_id')).toMatch(/^\d+$/);
      await world.sim.settleRefund(outRefundNo);
      const settled = await merchant.refundQuery(outRefundNo);
      expect(settled).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: {
          out_refund_no: outRefundNo,
          refund_id: str(refund.body, 'refund_id'),
          status: 'SUCCESS',
          amount: { refund: 300, total: 1000 },
        },
      });
      expect(Date.parse(str(settled.body, 'success_time'))).toBeGreaterThan(Date.now() - 60_000);
    });

    test('refund, full by transaction_id: PROCESSING, then SUCCESS; the payment is then in state REFUND', async () => {
      const { outTradeNo: no, transactionId } = await paidOrder(world, merchant, 800);
      const outRefundNo = `R${no}`;
      const refund = await merchant.refund({
        transaction_id: transactionId,
        out_refund_no: outRefundNo,
        notify_url: world.receiver.url,
        amount: { refund: 800, total: 800, currency: 'CNY' },
      });
      expect(refund).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: { out_trade_no: no, status: 'PROCESSING', amount: { refund: 800, total: 800 } },
      });
      await world.sim.settleRefund(outRefundNo);
      expect((await merchant.refundQuery(outRefundNo)).body).toMatchObject({ status: 'SUCCESS' });
      expect((await merchant.queryByOutTradeNo(no)).body).toMatchObject({ trade_state: 'REFUND' });
    });

    test('refund query: PROCESSING before settlement, the same refund object as the refund answer', async () => {
      const { outTradeNo: no } = await paidOrder(world, merchant, 600);
      const outRefundNo = `R${no}`;
      const refund = await merchant.refund({
        out_trade_no: no,
        out_refund_no: outRefundNo,
        notify_url: world.receiver.url,
        amount: { refund: 600, total: 600, currency: 'CNY' },
      });
      const queried = await merchant.refundQuery(outRefundNo);
      expect(queried).toMatchObject({ status: 200, serial: expectedSerial() });
      expect(queried.body).toEqual(refund.body);
      expect(queried.body).not.toHaveProperty('success_time');
    });

    test('refund above what is still refundable: 400 INVALID_REQUEST (final), not NOT_ENOUGH (balance short, retry)', async () => {
      const { outTradeNo: no } = await paidOrder(world, merchant, 1000);
      const first = await merchant.refund({
        out_trade_no: no,
        out_refund_no: `R${no}a`,
        notify_url: world.receiver.url,
        amount: { refund: 700, total: 1000, currency: 'CNY' },
      });
      expect(first.status).toBe(200);
      const over = await merchant.refund({
        out_trade_no: no,
        out_refund_no: `R${no}b`,
        notify_url: world.receiver.url,
        amount: { refund: 301, total: 1000, currency: 'CNY' },
      });
      expect(over).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
      expect(str(over.body, 'message')).toContain('超过');
      const rest = await merchant.refund({
        out_trade_no: no,
        out_refund_no: `R${no}c`,
        notify_url: world.receiver.url,
        amount: { refund: 300, total: 1000, currency: 'CNY' },
      });
      expect(rest).toMatchObject({
        status: 200,
        serial: expectedSerial(),
        body: { status: 'PROCESSING', amount: { refund: 300 } },
      });
    });

    test(
      situation.mode === 'publicKey'
        ? 'certificate download: a public-key merchant has no platform certificate, 404 RESOURCE_NOT_EXISTS'
        : 'certificate download: the platform certificate, decrypted by the SDK, is the one that signs',
      async () => {
        const answer = await merchant.certificates();
        if (situation.mode === 'publicKey') {
          expect(answer).toMatchObject({ status: 404, body: { code: 'RESOURCE_NOT_EXISTS' } });
          return;
        }
        expect(answer).toMatchObject({ status: 200, serial: expectedSerial() });
        expect(answer.certificates?.map((c) => c.serial_no)).toEqual([keys.platformCertificateSerial]);
        const certificate = new X509Certificate(answer.certificates![0]!.pem);
        expect(certificate.serialNumber.toUpperCase()).toBe(keys.platformCertificateSerial);
        expect(certificate.publicKey.export({ type: 'spki', format: 'pem' })).toBe(
          new X509Certificate(keys.platformCertificatePem).publicKey.export({ type: 'spki', format: 'pem' }),
        );
        const entry = (answer.body.data as Json[])[0]!;
        expect(Date.parse(str(entry, 'effective_time'))).toBeLessThan(Date.now());
        expect(Date.parse(str(entry, 'expire_time'))).toBeGreaterThan(Date.now());
      },
    );

    /** The last attempt of a delivery as the log keeps it, checked against what the notify_url received. */
    async function loggedAndReceived(delivery: Delivery): Promise<SentNotification> {
      const sent = sentBy(delivery, delivery.attempts.length - 1);
      const received = world.receiver.received.filter((r) => r.body.toString('utf8') === sent.body);
      expect(received.length).toBeGreaterThan(0);
      for (const name of ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'])
        expect(received.at(-1)!.headers[name]).toBe(sent.headers[name]);
      return sent;
    }

    function envelopeOf(sent: SentNotification, eventType: string, originalType: string): EncryptedResource {
      const envelope = JSON.parse(sent.body) as Json;
      expect(envelope).toMatchObject({
        resource_type: 'encrypt-resource',
        event_type: eventType,
        resource: { algorithm: 'AEAD_AES_256_GCM', original_type: originalType },
      });
      expect(typeof envelope.id).toBe('string');
      expect(Date.parse(str(envelope, 'create_time'))).toBeGreaterThan(Date.now() - 60_000);
      return envelope.resource as EncryptedResource;
    }

    // In `both`, WeChat Pay moves notifications to the public key on its own schedule: a migrating merchant must
    // take either. The simulator's share is pinned so that each key is met for certain.
    const notificationKeys: { key: 'publicKey' | 'certificate'; share: number }[] =
      situation.mode === 'both'
        ? [
            { key: 'publicKey', share: 1 },
            { key: 'certificate', share: 0 },
          ]
        : [{ key: situation.mode, share: situation.mode === 'publicKey' ? 1 : 0 }];

    test.each(notificationKeys)(
      'payment notification signed with the $key key, from the delivery log: verified and decrypted by the SDK',
      async ({ key, share }) => {
        world.sim.publicKeyShare = situation.mode === 'both' ? share : undefined;
        const { outTradeNo: no, transactionId } = await paidOrder(world, merchant, 1290);
        const sent = await loggedAndReceived(
          await deliveredNotification(world, { outTradeNo: no, eventType: 'TRANSACTION.SUCCESS' }),
        );
        expect(sent.headers['wechatpay-serial']).toBe(
          key === 'publicKey' ? keys.publicKeyId : keys.platformCertificateSerial,
        );
        expect(await merchant.verifyNotification(sent)).toBe(true);
        const resource = envelopeOf(sent, 'TRANSACTION.SUCCESS', 'transaction');
        const transaction = merchant.decryptResource(resource);
        expect(transaction).toMatchObject({
          appid: keys.appid,
          mchid: keys.mchid,
          out_trade_no: no,
          transaction_id: transactionId,
          trade_state: 'SUCCESS',
          amount: { total: 1290, payer_total: 1290 },
        });
        // every field the notification carries says what the query says (the query may carry more, e.g. promotion_detail)
        expect((await merchant.queryByOutTradeNo(no)).body).toMatchObject(transaction);
      },
    );

    test.each(notificationKeys)(
      'refund notification signed with the $key key, from the delivery log: verified and decrypted by the SDK',
      async ({ key, share }) => {
        world.sim.publicKeyShare = situation.mode === 'both' ? share : undefined;
        const { outTradeNo: no, transactionId } = await paidOrder(world, merchant, 900);
        const outRefundNo = `R${no}`;
        const refund = await merchant.refund({
          out_trade_no: no,
          out_refund_no: outRefundNo,
          notify_url: world.receiver.url,
          amount: { refund: 400, total: 900, currency: 'CNY' },
        });
        await world.sim.settleRefund(outRefundNo);
        const sent = await loggedAndReceived(
          await deliveredNotification(world, { outTradeNo: no, eventType: 'REFUND.SUCCESS', outRefundNo }),
        );
        expect(sent.headers['wechatpay-serial']).toBe(
          key === 'publicKey' ? keys.publicKeyId : keys.platformCertificateSerial,
        );
        expect(await merchant.verifyNotification(sent)).toBe(true);
        const resource = envelopeOf(sent, 'REFUND.SUCCESS', 'refund');
        expect(merchant.decryptResource(resource)).toMatchObject({
          mchid: keys.mchid,
          out_trade_no: no,
          transaction_id: transactionId,
          out_refund_no: outRefundNo,
          refund_id: str(refund.body, 'refund_id'),
          refund_status: 'SUCCESS',
          amount: { total: 900, refund: 400, payer_total: 900, payer_refund: 400 },
        });
      },
    );

    test('a logged notification changed by one byte fails the SDK’s check (the verification is real)', async () => {
      world.sim.publicKeyShare = undefined;
      const { outTradeNo: no } = await paidOrder(world, merchant, 100);
      const sent = sentBy(await deliveredNotification(world, { outTradeNo: no, eventType: 'TRANSACTION.SUCCESS' }), 0);
      expect(await merchant.verifyNotification(sent)).toBe(true);
      const tampered = sent.body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESs"');
      expect(tampered).not.toBe(sent.body);
      expect(await merchant.verifyNotification({ headers: sent.headers, body: tampered })).toBe(false);
    });
  });
}

/** The notification an attempt sent, exactly as the delivery log keeps it (header names lower-cased). */
export function sentBy(delivery: Delivery, attempt: number): SentNotification {
  const logged = delivery.attempts[attempt];
  if (!logged) throw new Error(`delivery ${delivery._id} has no attempt ${attempt}`);
  const headers = Object.fromEntries(Object.entries(logged.request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers, body: logged.request.body };
}
