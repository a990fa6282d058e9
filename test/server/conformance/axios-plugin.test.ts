/**
 * The WeChat Pay simulator held to wechatpay-axios-plugin (TheNorthMemory), configured as its README tells a
 * merchant: `certs` maps each WeChat Pay serial to its key (the public key under its PUB_KEY_ID_…, the platform
 * certificate under its serial), and the plugin verifies every 2xx answer itself (a failed check rejects the call).
 * A certificate-mode merchant gets its platform certificate the way the plugin's certificate downloader does: the
 * download is checked against the certificate it carries.
 */
import type { AxiosResponse, AxiosResponseTransformer } from 'axios';
import { Aes, Decorator, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import {
  describeConformance,
  type Answer,
  type ConformanceMerchant,
  type ConformanceWorld,
  type Json,
  type RequestPayment,
} from '../../support/conformance';

type Verifier = (this: { url: string }, data: string, headers: Record<string, string>, status: number) => unknown;

/** A call through the plugin: a 2xx comes back only once the plugin verified it; a 4xx/5xx is the error's response. */
async function call(request: () => Promise<AxiosResponse<Json | ''>>): Promise<Answer> {
  try {
    const response = await request();
    return {
      status: response.status,
      body: response.data === '' ? {} : response.data,
      serial: String(response.headers['wechatpay-serial']),
    };
  } catch (error) {
    const response = (error as { response?: AxiosResponse<Json> }).response;
    if (!response || (response.status >= 200 && response.status < 300)) throw error; // a verification failure (EV3_RES_*)
    return { status: response.status, body: response.data };
  }
}

/** The first certificate download, as the plugin's CLI (`wxpay crt`) does it: decrypt, then verify with what came. */
async function downloadPlatformCertificates(world: ConformanceWorld): Promise<Record<string, string>> {
  const { keys } = world;
  const config = {
    baseURL: `${world.baseUrl}/`,
    mchid: keys.mchid,
    serial: keys.merchantSerialNo,
    privateKey: keys.merchantPrivateKeyPem,
    certs: { any: undefined } as Record<string, unknown>,
  };
  const wxpay = new Wechatpay(config as unknown as ConstructorParameters<typeof Wechatpay>[0]);
  // The plugin keeps its verifier's map as `config.certs` after construction. (Its CLI writes into the object it
  // passed in, which the plugin copied: with 0.9.6 the CLI's own download fails its check. See the report.)
  const trusted = config.certs;
  const injector = (data: string) => {
    for (const entry of (
      JSON.parse(data) as {
        data: {
          serial_no: string;
          encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string };
        }[];
      }
    ).data) {
      const { ciphertext, nonce, associated_data } = entry.encrypt_certificate;
      trusted[entry.serial_no] = Aes.AesGcm.decrypt(ciphertext, keys.apiV3Key, nonce, associated_data);
    }
    return data;
  };
  const defaults = ([] as AxiosResponseTransformer[]).concat(wxpay.client.v3.defaults.transformResponse ?? []);
  await wxpay.chain('v3/certificates').get({ transformResponse: [injector, ...defaults] });
  const pems: Record<string, string> = {};
  for (const [serial, pem] of Object.entries(trusted)) if (typeof pem === 'string') pems[serial] = pem;
  return pems;
}

async function merchantOf(world: ConformanceWorld): Promise<ConformanceMerchant> {
  const { keys, situation } = world;
  const certs: Record<string, string> = {};
  if (situation.mode !== 'certificate') certs[keys.publicKeyId] = keys.platformPublicKeyPem;
  if (situation.mode !== 'publicKey') Object.assign(certs, await downloadPlatformCertificates(world));
  const wxpay = new Wechatpay({
    baseURL: `${world.baseUrl}/`,
    mchid: keys.mchid,
    serial: keys.merchantSerialNo,
    privateKey: keys.merchantPrivateKeyPem,
    certs,
    // a migrating merchant asks for public-key-signed answers with the public key id on every request
    ...(situation.serialHeader ? { headers: { 'Wechatpay-Serial': keys.publicKeyId } } : {}),
  });
  const merchantKey = Rsa.from(keys.merchantPrivateKeyPem, Rsa.KEY_TYPE_PRIVATE);
  const verifier = Decorator.responseVerifier(
    Object.fromEntries(Object.entries(certs).map(([id, pem]) => [id, Rsa.from(pem, Rsa.KEY_TYPE_PUBLIC)])),
  ) as Verifier;
  // the plugin's chain, by the path WeChat Pay documents (placeholders filled from the request config)
  const api = (path: string) => wxpay.chain(path);

  return {
    async prepay(order) {
      const answer = await call(() => api('v3/pay/transactions/jsapi').post(order));
      if (answer.status !== 200) return answer;
      // README "APIv3数据签名 · JSAPI"
      const params = {
        appId: keys.appid,
        timeStamp: `${Formatter.timestamp()}`,
        nonceStr: Formatter.nonce(),
        package: `prepay_id=${String(answer.body.prepay_id)}`,
        signType: 'RSA',
      };
      const requestPayment: RequestPayment = {
        ...params,
        paySign: Rsa.sign(
          Formatter.joinedByLineFeed(params.appId, params.timeStamp, params.nonceStr, params.package),
          merchantKey,
        ),
      };
      return { ...answer, requestPayment };
    },
    queryByOutTradeNo: (outTradeNo) =>
      call(() =>
        api('v3/pay/transactions/out-trade-no/{out_trade_no}').get({
          params: { mchid: keys.mchid },
          out_trade_no: outTradeNo,
        }),
      ),
    queryByTransactionId: (transactionId) =>
      call(() =>
        api('v3/pay/transactions/id/{transaction_id}').get({
          params: { mchid: keys.mchid },
          transaction_id: transactionId,
        }),
      ),
    close: (outTradeNo) =>
      call(() =>
        api('v3/pay/transactions/out-trade-no/{out_trade_no}/close').post(
          { mchid: keys.mchid },
          { out_trade_no: outTradeNo },
        ),
      ),
    refund: (request) => call(() => api('v3/refund/domestic/refunds').post(request)),
    refundQuery: (outRefundNo) =>
      call(() => api('v3/refund/domestic/refunds/{out_refund_no}').get({ out_refund_no: outRefundNo })),
    async certificates() {
      const answer = await call(() => api('v3/certificates').get());
      if (answer.status !== 200) return answer;
      const certificates = (
        answer.body.data as {
          serial_no: string;
          encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string };
        }[]
      ).map(({ serial_no, encrypt_certificate: c }) => ({
        serial_no,
        pem: Aes.AesGcm.decrypt(c.ciphertext, keys.apiV3Key, c.nonce, c.associated_data),
      }));
      return { ...answer, certificates };
    },
    // The plugin's own answer check (timestamp window, serial lookup in `certs`, RSA-SHA256) applied to the notification.
    verifyNotification: async ({ headers, body }) => verifier.call({ url: '/notify' }, body, headers, 200) === body,
    decryptResource: ({ ciphertext, nonce, associated_data }) =>
      JSON.parse(Aes.AesGcm.decrypt(ciphertext, keys.apiV3Key, nonce, associated_data)) as Json,
  };
}

describeConformance('wechatpay-axios-plugin', merchantOf);
