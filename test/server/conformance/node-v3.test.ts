/**
 * The WeChat Pay simulator held to wechatpay-node-v3 (klover2/wechatpay-node-v3-ts 2.2.1), configured as its
 * README shows (appid, mchid, the merchant certificate as `publicKey`, the merchant key, the APIv3 `key`), with its
 * own `verifySign` called on every 2xx answer and every notification.
 *
 * The SDK calls https://api.mch.weixin.qq.com itself and its default transport drops response headers, so the
 * merchant plugs in its own transport through `createHttp` (README "使用自定义 http 请求"): it sends exactly what the
 * SDK hands it to the simulator and keeps the raw answer and its headers for `verifySign`.
 *
 * Key setup per mode: 2.2.1 knows platform certificates only, keyed by serial in its static `certificates` map, which
 * `verifySign` fills from GET /v3/certificates whenever it meets an unknown serial. It has no option for the WeChat
 * Pay public key (later releases add `wxPayPublicKey`/`wxPayPublicId`), so a public-key merchant puts the public key
 * into that map under its PUB_KEY_ID_…, the workaround merchants on 2.2.1 use. A migrating merchant that has
 * switched its requests adds `Wechatpay-Serial: PUB_KEY_ID_…` in its transport (the SDK adds it only in later
 * releases, and only on POST).
 */
import WxPay from 'wechatpay-node-v3';
import type { Output } from 'wechatpay-node-v3/dist/lib/interface-v2';
import type { IPayRequest } from 'wechatpay-node-v3/dist/lib/pay-request.interface';
import {
  describeConformance,
  type Answer,
  type ConformanceMerchant,
  type ConformanceWorld,
  type Json,
  type RequestPayment,
} from '../../support/conformance';

const WECHATPAY_ORIGIN = 'https://api.mch.weixin.qq.com';

interface Captured extends Output {
  raw: string;
  headers: Record<string, string>;
}

/** The merchant's transport: to the simulator instead of api.mch.weixin.qq.com, raw answers kept. */
class SimulatorTransport implements IPayRequest {
  last?: Captured;

  constructor(
    private readonly baseUrl: string,
    private readonly extraHeaders: Record<string, string>,
  ) {}

  post(url: string, params: Record<string, unknown>, headers: Record<string, string>): Promise<Output> {
    return this.send('POST', url, headers, JSON.stringify(params)); // the bytes the SDK signed
  }

  get(url: string, headers: Record<string, string>): Promise<Output> {
    return this.send('GET', url, headers);
  }

  upload(): Promise<Output> {
    throw new Error('not used by the conformance suite');
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Captured> {
    if (!url.startsWith(WECHATPAY_ORIGIN)) throw new Error(`unexpected URL ${url}`);
    const response = await fetch(this.baseUrl + url.slice(WECHATPAY_ORIGIN.length), {
      method,
      headers: { ...headers, ...this.extraHeaders },
      body,
    });
    const raw = await response.text();
    const captured: Captured = { status: response.status, raw, headers: Object.fromEntries(response.headers) };
    // as the SDK's own transport: `data` on success, the text as `error` otherwise
    if (response.ok) captured.data = raw ? JSON.parse(raw) : {};
    else captured.error = raw;
    this.last = captured;
    return captured;
  }
}

/** The SDK's class-wide map serial → platform public key (PEM), which `verifySign` reads and fills. */
class Merchant extends WxPay {
  static trust(entries: Record<string, string>): void {
    WxPay.certificates = { ...entries };
  }
}

async function merchantOf(world: ConformanceWorld): Promise<ConformanceMerchant> {
  const { keys, situation } = world;
  const pay = new Merchant({
    appid: keys.appid,
    mchid: keys.mchid,
    publicKey: Buffer.from(keys.merchantCertificatePem),
    privateKey: Buffer.from(keys.merchantPrivateKeyPem),
    key: keys.apiV3Key,
  });
  const transport = new SimulatorTransport(
    world.baseUrl,
    situation.serialHeader ? { 'Wechatpay-Serial': keys.publicKeyId } : {},
  );
  pay.createHttp(transport);
  // certificate mode: nothing configured, verifySign downloads the platform certificate on first use
  Merchant.trust(situation.mode === 'certificate' ? {} : { [keys.publicKeyId]: keys.platformPublicKeyPem });

  /** verifySign on a 2xx (throws if the SDK rejects it); a 4xx/5xx is handed back as it came. */
  async function answer(output: Output): Promise<Answer> {
    const captured = output as Captured;
    if (captured.status < 200 || captured.status >= 300)
      return { status: captured.status, body: JSON.parse(captured.raw) as Json };
    const h = captured.headers;
    const verified = await pay.verifySign({
      timestamp: h['wechatpay-timestamp']!,
      nonce: h['wechatpay-nonce']!,
      body: captured.raw,
      serial: h['wechatpay-serial']!,
      signature: h['wechatpay-signature']!,
    });
    if (!verified)
      throw new Error(
        `wechatpay-node-v3 verifySign rejected a ${captured.status} answer signed by ${h['wechatpay-serial']}`,
      );
    return {
      status: captured.status,
      body: captured.raw ? (JSON.parse(captured.raw) as Json) : {},
      serial: h['wechatpay-serial']!,
    };
  }

  return {
    async prepay(order) {
      const output = await pay.transactions_jsapi(order as unknown as Parameters<WxPay['transactions_jsapi']>[0]);
      const verified = await answer(output);
      // on 200 the SDK replaces `data` with the wx.requestPayment parameters it signed
      return verified.status === 200 ? { ...verified, requestPayment: output.data as RequestPayment } : verified;
    },
    queryByOutTradeNo: async (outTradeNo) => answer(await pay.query({ out_trade_no: outTradeNo })),
    queryByTransactionId: async (transactionId) => answer(await pay.query({ transaction_id: transactionId })),
    close: async (outTradeNo) => answer(await pay.close(outTradeNo)),
    refund: async (request) => answer(await pay.refunds(request as unknown as Parameters<WxPay['refunds']>[0])),
    refundQuery: async (outRefundNo) => answer(await pay.find_refunds(outRefundNo)),
    async certificates() {
      let listed: Awaited<ReturnType<WxPay['get_certificates']>> | undefined;
      try {
        listed = await pay.get_certificates(keys.apiV3Key);
      } catch (error) {
        // the SDK throws '拉取平台证书失败' on any non-200: the merchant reads the answer from its transport
        if (!transport.last || transport.last.status === 200) throw error;
        return answer(transport.last);
      }
      const downloaded = transport.last!;
      const verified = await answer(downloaded); // get_certificates itself does not check the answer's signature
      const certificates = (
        verified.body.data as {
          serial_no: string;
          encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string };
        }[]
      ).map(({ serial_no, encrypt_certificate: c }) => ({
        serial_no,
        pem: pay.decipher_gcm<string>(c.ciphertext, c.associated_data, c.nonce),
      }));
      // the SDK derives each certificate's public key too: the one it trusts for that serial
      expect(listed.map((c) => c.serial_no)).toEqual(certificates.map((c) => c.serial_no));
      return { ...verified, certificates };
    },
    verifyNotification: ({ headers, body }) =>
      pay.verifySign({
        timestamp: headers['wechatpay-timestamp']!,
        nonce: headers['wechatpay-nonce']!,
        body,
        serial: headers['wechatpay-serial']!,
        signature: headers['wechatpay-signature']!,
      }),
    decryptResource: ({ ciphertext, associated_data, nonce }) =>
      pay.decipher_gcm<Json>(ciphertext, associated_data, nonce),
  };
}

describeConformance('wechatpay-node-v3', merchantOf);
