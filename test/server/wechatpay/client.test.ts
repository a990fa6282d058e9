/** The client against an in-test HTTP server on 127.0.0.1 (port chosen by the OS). */
import type { KeyObject } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildRequestMessage,
  createWechatPay,
  decryptSensitive,
  encryptAesGcm,
  loadPlatformKeys,
  RsaSha256Signer,
  selectSensitiveKey,
  SignatureVerifier,
  verifySha256Rsa,
  WechatPayApiError,
  WechatPayClient,
  WechatPayNetworkError,
  WechatPaySensitiveError,
  WechatPayVerificationError,
  type AbnormalRefundRequest,
  type WechatPayConfig,
} from '../../../cloudfunctions/common/wechatpay';
import { parseAuthorization } from '../../../localcloud/wechatpay-sim/auth';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testCertificate } from '../../support/certificates';
import { testKeyPair } from '../../support/keys';
import { describeVectors, vector } from '../../support/vectors';

const merchant = testKeyPair('merchant');
const platform = testKeyPair('platform');
const platformSigner = new RsaSha256Signer(platform.privateKey);
const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
const MCHID = '1230000109';

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingHttpHeaders;
  authorizationValid: boolean;
}
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handlers: Handler[] = [];

function reply(res: ServerResponse, status: number, body: string, { signed = true, signer = platformSigner } = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Request-ID': `REQ-${seen.length}` };
  if (signed) Object.assign(headers, signResponse(signer, SERIAL, body, Math.floor(Date.now() / 1000)));
  res.writeHead(status, headers).end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const auth = parseAuthorization(req.headers.authorization ?? '');
      const authorizationValid =
        !!auth &&
        verifySha256Rsa(
          buildRequestMessage(req.method!, req.url!, auth.timestamp, auth.nonce, body),
          auth.signature,
          merchant.publicKey,
        );
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers, authorizationValid });
      const handler = handlers.shift();
      if (!handler) return reply(res, 500, '{"code":"NO_HANDLER","message":"test set no handler"}');
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  handlers = [];
});

function client(overrides: Partial<ConstructorParameters<typeof WechatPayClient>[0]> = {}) {
  return new WechatPayClient({
    baseUrl,
    credential: { mchid: MCHID, serialNo: 'ABCDEF0123456789', signer: new RsaSha256Signer(merchant.privateKey) },
    verifier: new SignatureVerifier({ keys: loadPlatformKeys([{ id: SERIAL, pem: platform.publicPem }]) }),
    timeoutMs: 300,
    sleep: async () => {},
    ...overrides,
  });
}

const prepay = {
  appid: 'wxd678efh567hg6787',
  description: '测试商品',
  out_trade_no: 'T20231101000001',
  notify_url: 'https://example.com/notify',
  amount: { total: 100, currency: 'CNY' as const },
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
};

test('prepay: signed request, verified answer', async () => {
  handlers.push((_req, _body, res) => reply(res, 200, '{"prepay_id":"wx2014"}'));
  await expect(client().prepayJsapi(prepay)).resolves.toEqual({ prepay_id: 'wx2014' });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ method: 'POST', url: '/v3/pay/transactions/jsapi', authorizationValid: true });
  expect(JSON.parse(seen[0]!.body)).toEqual({ ...prepay, mchid: MCHID });
});

test('query signs the path with ?mchid= exactly as sent, and escapes the path parameter', async () => {
  handlers.push((_req, _body, res) =>
    reply(res, 200, '{"trade_state":"NOTPAY","out_trade_no":"A|B*1","appid":"wx","mchid":"1230000109"}'),
  );
  const tx = await client().queryByOutTradeNo('A|B*1');
  expect(tx.trade_state).toBe('NOTPAY');
  expect(seen[0]).toMatchObject({
    method: 'GET',
    url: '/v3/pay/transactions/out-trade-no/A%7CB*1?mchid=1230000109',
    body: '',
    authorizationValid: true,
  });
});

test('close: a verified 204 with an empty body', async () => {
  handlers.push((_req, _body, res) => reply(res, 204, ''));
  await expect(client().closeByOutTradeNo('T1')).resolves.toBeUndefined();
  expect(seen[0]).toMatchObject({ url: '/v3/pay/transactions/out-trade-no/T1/close', body: '{"mchid":"1230000109"}' });
});

test('5xx is retried with the same body bytes, then succeeds', async () => {
  handlers.push((_r, _b, res) => reply(res, 500, '{"code":"SYSTEM_ERROR","message":"系统错误"}', { signed: false }));
  handlers.push((_r, _b, res) => reply(res, 503, 'Service Unavailable', { signed: false }));
  handlers.push((_r, _b, res) => reply(res, 200, '{"refund_id":"5000","out_refund_no":"R1","status":"PROCESSING"}'));
  const refund = await client().createRefund({
    out_trade_no: 'T1',
    out_refund_no: 'R1',
    amount: { refund: 50, total: 100, currency: 'CNY' },
  });
  expect(refund.status).toBe('PROCESSING');
  expect(seen).toHaveLength(3);
  expect(new Set(seen.map((s) => s.body)).size).toBe(1);
  expect(seen.every((s) => s.authorizationValid)).toBe(true);
});

test('5xx on every attempt: a typed error after the bounded number of attempts', async () => {
  for (let i = 0; i < 5; i++)
    handlers.push((_r, _b, res) => reply(res, 500, '{"code":"SYSTEM_ERROR","message":"系统错误"}', { signed: false }));
  const error = await client()
    .prepayJsapi(prepay)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WechatPayApiError);
  expect(error).toMatchObject({ status: 500, code: 'SYSTEM_ERROR', message: expect.stringContaining('系统错误') });
  expect(seen).toHaveLength(3);
});

test('4xx is never retried and carries status, code, message, detail and Request-ID', async () => {
  handlers.push((_r, _b, res) =>
    reply(
      res,
      400,
      '{"code":"PARAM_ERROR","message":"输入源“/body/amount/total”映射到值字段“总金额”字符串规则校验失败","detail":{"field":"/amount/total","location":"body"}}',
      {
        signed: false,
      },
    ),
  );
  const error = (await client()
    .prepayJsapi(prepay)
    .catch((e: unknown) => e)) as WechatPayApiError;
  expect(error).toBeInstanceOf(WechatPayApiError);
  expect(error.status).toBe(400);
  expect(error.code).toBe('PARAM_ERROR');
  expect(error.detail).toEqual({ field: '/amount/total', location: 'body' });
  expect(error.requestId).toBe('REQ-1');
  expect(seen).toHaveLength(1);
});

test('429 is a 4xx: not retried', async () => {
  handlers.push((_r, _b, res) =>
    reply(res, 429, '{"code":"FREQUENCY_LIMITED","message":"频率超限"}', { signed: false }),
  );
  await expect(client().queryRefund('R1')).rejects.toMatchObject({ status: 429, code: 'FREQUENCY_LIMITED' });
  expect(seen).toHaveLength(1);
});

test('an unsigned error that is not JSON still maps to a typed error', async () => {
  handlers.push((_r, _b, res) => res.writeHead(404).end('<html>not found</html>'));
  await expect(client().queryRefund('R404')).rejects.toMatchObject({
    status: 404,
    code: 'HTTP_404',
    message: expect.stringContaining('<html>not found</html>'),
  });
});

test('a 2xx whose signature does not verify is refused, not retried', async () => {
  handlers.push((_r, _b, res) =>
    reply(res, 200, '{"prepay_id":"wx2014"}', { signer: new RsaSha256Signer(merchant.privateKey) }),
  );
  await expect(client().prepayJsapi(prepay)).rejects.toBeInstanceOf(WechatPayVerificationError);
  handlers.push((_r, _b, res) => reply(res, 200, '{"prepay_id":"wx2014"}', { signed: false }));
  await expect(client().prepayJsapi(prepay)).rejects.toMatchObject({ reason: 'MISSING_HEADER' });
  expect(seen).toHaveLength(2);
});

test('a dropped connection is retried', async () => {
  handlers.push((req) => req.socket.destroy());
  handlers.push((_r, _b, res) => reply(res, 200, '{"prepay_id":"wx2"}'));
  await expect(client().prepayJsapi(prepay)).resolves.toEqual({ prepay_id: 'wx2' });
  expect(seen).toHaveLength(2);
  expect(seen[0]!.body).toBe(seen[1]!.body);
});

test('timeouts are retried, then reported as a timed-out network error', async () => {
  for (let i = 0; i < 3; i++)
    handlers.push((_r, _b, res) => setTimeout(() => reply(res, 200, '{"prepay_id":"late"}'), 600));
  const started = Date.now();
  const error = (await client({ timeoutMs: 100 })
    .prepayJsapi(prepay)
    .catch((e: unknown) => e)) as WechatPayNetworkError;
  expect(error).toBeInstanceOf(WechatPayNetworkError);
  expect(error.timedOut).toBe(true);
  expect(seen).toHaveLength(3);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('backoff between attempts is bounded and doubles', async () => {
  const sleeps: number[] = [];
  handlers.push((_r, _b, res) => reply(res, 502, 'bad gateway', { signed: false }));
  handlers.push((_r, _b, res) => reply(res, 502, 'bad gateway', { signed: false }));
  handlers.push((_r, _b, res) => reply(res, 502, 'bad gateway', { signed: false }));
  await client({ backoffMs: 100, sleep: async (ms) => void sleeps.push(ms) })
    .prepayJsapi(prepay)
    .catch(() => undefined);
  expect(sleeps).toEqual([100, 200]);
});

describeVectors('certificate download (vector v12)', () => {
  test('decrypts encrypt_certificate and checks the serial', async () => {
    const v = vector('v12_java_sdk_certificate_download_decrypt.json');
    const body = JSON.stringify({
      data: [
        {
          ...v.response_body_shape.data[0],
          encrypt_certificate: { ...v.response_body_shape.data[0].encrypt_certificate, ciphertext: v.ciphertext },
        },
      ],
    });
    handlers.push((_r, _b, res) => reply(res, 200, body));
    const certificates = await client({ apiV3Key: v.key }).downloadCertificates();
    expect(certificates).toHaveLength(1);
    expect(certificates[0]).toMatchObject({
      serialNo: v.expected_certificate_serial,
      expireTime: '2028-09-17T23:15:58+08:00',
    });
    expect(certificates[0]!.pem).toContain('BEGIN CERTIFICATE');
  });
});

test('certificate download refuses a serial that does not match the certificate', async () => {
  const key = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
  const body = JSON.stringify({
    data: [
      {
        serial_no: 'AAAA',
        effective_time: '',
        expire_time: '',
        encrypt_certificate: {
          algorithm: 'AEAD_AES_256_GCM',
          nonce: 'n',
          associated_data: 'certificate',
          ciphertext: encryptAesGcm({ key, nonce: 'n', associatedData: 'certificate', plaintext: 'not a cert' }),
        },
      },
    ],
  });
  handlers.push((_r, _b, res) => reply(res, 200, body));
  await expect(client({ apiV3Key: key }).downloadCertificates()).rejects.toThrow();
});

describe('applyAbnormalRefund', () => {
  const REFUND_ID = '50000000382019052709732678859';
  const PATH = `/v3/refund/domestic/refunds/${REFUND_ID}/apply-abnormal-refund`;
  const refundAnswer = JSON.stringify({
    refund_id: REFUND_ID,
    out_refund_no: 'R-1217752501201407033233368018',
    transaction_id: '1217752501201407033233368018',
    out_trade_no: 'T1',
    status: 'PROCESSING',
    amount: { total: 1990, refund: 1990, currency: 'CNY' },
  });
  const toUser: AbnormalRefundRequest = {
    out_refund_no: 'R-1217752501201407033233368018',
    type: 'USER_BANK_CARD',
    bank_type: 'ICBC_DEBIT',
    bank_account: '6222021234567890123',
    real_name: '张三',
  };
  const withKey = (overrides: Partial<ConstructorParameters<typeof WechatPayClient>[0]> = {}) =>
    client({ sensitiveKey: { serial: SERIAL, key: platform.publicKey }, ...overrides });

  test('USER_BANK_CARD: account and name encrypted for the WeChat Pay key, Wechatpay-Serial sent, the Refund returned', async () => {
    handlers.push((_r, _b, res) => reply(res, 200, refundAnswer));
    const refund = await withKey().applyAbnormalRefund(REFUND_ID, toUser);
    expect(refund).toEqual(JSON.parse(refundAnswer));
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request).toMatchObject({ method: 'POST', url: PATH, authorizationValid: true });
    expect(request.headers['wechatpay-serial']).toBe(SERIAL);
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['out_refund_no', 'type', 'bank_type', 'bank_account', 'real_name']);
    expect(body).toMatchObject({
      out_refund_no: toUser.out_refund_no,
      type: 'USER_BANK_CARD',
      bank_type: 'ICBC_DEBIT',
    });
    expect(decryptSensitive(body.bank_account!, platform.privateKey)).toBe('6222021234567890123');
    expect(decryptSensitive(body.real_name!, platform.privateKey)).toBe('张三');
    expect(request.body).not.toContain('6222021234567890123');
    expect(request.body).not.toContain('张三');
    expect(() => decryptSensitive(body.bank_account!, merchant.privateKey)).toThrow(WechatPaySensitiveError);
  });

  test('MERCHANT_BANK_CARD: no bank details in the body, the header still sent', async () => {
    handlers.push((_r, _b, res) => reply(res, 200, refundAnswer));
    await withKey().applyAbnormalRefund(REFUND_ID, { out_refund_no: 'R1', type: 'MERCHANT_BANK_CARD' });
    expect(seen[0]!.body).toBe('{"out_refund_no":"R1","type":"MERCHANT_BANK_CARD"}');
    expect(seen[0]!.headers['wechatpay-serial']).toBe(SERIAL);
    expect(seen[0]!.authorizationValid).toBe(true);
  });

  test('fields are encrypted once: a retried 5xx resends the very same bytes, header included', async () => {
    handlers.push((_r, _b, res) => reply(res, 500, '{"code":"SYSTEM_ERROR","message":"系统错误"}', { signed: false }));
    handlers.push((_r, _b, res) => reply(res, 200, refundAnswer));
    await withKey().applyAbnormalRefund(REFUND_ID, toUser);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.body).toBe(seen[0]!.body);
    expect(seen.map((s) => s.headers['wechatpay-serial'])).toEqual([SERIAL, SERIAL]);
  });

  test('a 4xx answer is a typed error, as for every call', async () => {
    handlers.push((_r, _b, res) =>
      reply(res, 400, '{"code":"INVALID_REQUEST","message":"退款单状态不是退款异常"}', { signed: false }),
    );
    await expect(withKey().applyAbnormalRefund(REFUND_ID, toUser)).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
    });
  });

  test.each<[string, string, AbnormalRefundRequest]>([
    ['USER_BANK_CARD without real_name', REFUND_ID, { ...toUser, real_name: undefined }],
    ['USER_BANK_CARD with an empty bank_account', REFUND_ID, { ...toUser, bank_account: '' }],
    ['USER_BANK_CARD without bank_type', REFUND_ID, { ...toUser, bank_type: undefined }],
    ['bank_type over 16 characters', REFUND_ID, { ...toUser, bank_type: 'ICBC_DEBIT_CARD_X' }],
    [
      'MERCHANT_BANK_CARD with a bank account',
      REFUND_ID,
      { out_refund_no: 'R1', type: 'MERCHANT_BANK_CARD', bank_account: '6222021234567890123' },
    ],
    ['an unknown type, bank details given', REFUND_ID, { ...toUser, type: 'BALANCE' as AbnormalRefundRequest['type'] }],
    ['out_refund_no over 64 characters', REFUND_ID, { ...toUser, out_refund_no: 'R'.repeat(65) }],
    ['out_refund_no with a character WeChat Pay refuses', REFUND_ID, { ...toUser, out_refund_no: 'R 1' }],
    ['an empty refund_id', '', toUser],
    ['refund_id over 32 characters', '5'.repeat(33), toUser],
  ])('refused before anything is sent: %s', async (_what, refundId, request) => {
    await expect(withKey().applyAbnormalRefund(refundId, request)).rejects.toBeInstanceOf(TypeError);
    expect(seen).toHaveLength(0);
  });

  test('limits that hold are accepted: 64-character out_refund_no of every allowed character, 16-character bank_type', async () => {
    handlers.push((_r, _b, res) => reply(res, 200, refundAnswer));
    const out_refund_no = `azAZ09_-|*@${'x'.repeat(53)}`;
    await withKey().applyAbnormalRefund('5'.repeat(32), { ...toUser, out_refund_no, bank_type: 'B'.repeat(16) });
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ out_refund_no, bank_type: 'B'.repeat(16) });
  });

  test('without an encryption key the call fails before sending', async () => {
    await expect(client().applyAbnormalRefund(REFUND_ID, toUser)).rejects.toMatchObject({
      kind: 'sensitive',
      reason: 'NO_KEY',
    });
    await expect(
      client().applyAbnormalRefund(REFUND_ID, { out_refund_no: 'R1', type: 'MERCHANT_BANK_CARD' }),
    ).rejects.toBeInstanceOf(WechatPaySensitiveError);
    expect(seen).toHaveLength(0);
  });

  test('send(): extra headers are added but never replace the signed ones', async () => {
    handlers.push((_r, _b, res) => reply(res, 200, '{}'));
    handlers.push((_r, _b, res) => reply(res, 200, '{}'));
    await client().send(
      'POST',
      '/v3/x',
      { a: 1 },
      { headers: { Authorization: 'forged', Accept: 'text/html', 'Wechatpay-Serial': 'S1' } },
    );
    await client().send(
      'POST',
      '/v3/x',
      { a: 1 },
      { headers: { authorization: 'forged', ACCEPT: 'text/html', 'content-type': 'text/plain', 'user-agent': 'x' } },
    );
    for (const request of seen) {
      expect(request.authorizationValid).toBe(true);
      expect(request.headers.accept).toBe('application/json');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toBe('wxpay-miniprogram/0.1 (node)');
    }
    expect(seen[0]!.headers['wechatpay-serial']).toBe('S1');
  });

  test('other calls send no Wechatpay-Serial', async () => {
    handlers.push((_r, _b, res) => reply(res, 200, refundAnswer));
    await withKey().queryRefund('R1');
    expect(seen[0]!.headers['wechatpay-serial']).toBeUndefined();
  });
});

describe('createWechatPay wires the sensitive-field key from the configured WeChat Pay keys', () => {
  const certificatePair = testKeyPair('client-platform-certificate');
  const CERT_SERIAL = '4C00000000000000000000000000000000000C0C';
  const certificate = testCertificate(certificatePair, CERT_SERIAL, new Date('2023-01-01T00:00:00Z'));
  const secondCertificate = testCertificate(
    testKeyPair('client-platform-certificate-2'),
    '4D00000000000000000000000000000000000D0D',
    new Date('2024-01-01T00:00:00Z'),
  );
  const toUser: AbnormalRefundRequest = {
    out_refund_no: 'R1',
    type: 'USER_BANK_CARD',
    bank_type: 'CMB_DEBIT',
    bank_account: '6214830000000000',
    real_name: '李四',
  };

  /** createWechatPay over a fake fetch that records each request and answers signed by `answerKey` under `answerSerial`. */
  function wechatPay(
    platformKeys: Map<string, KeyObject>,
    answerKey: KeyObject,
    answerSerial: string,
    options: Parameters<typeof createWechatPay>[1] = {},
  ) {
    const requests: { headers: Headers; body: string }[] = [];
    const config: WechatPayConfig = {
      mode: 'direct',
      mchid: MCHID,
      appid: 'wxd678efh567hg6787',
      merchantSerialNo: 'ABCDEF0123456789',
      merchantPrivateKey: merchant.privateKey,
      apiV3Key: Buffer.from('0123456789abcdef0123456789abcdef'),
      platformKeys,
      notifyUrl: 'https://example.com/notify',
      refundNotifyUrl: 'https://example.com/notify',
      baseUrl: 'https://api.mch.weixin.qq.com',
    };
    const fakeFetch: typeof fetch = async (_url, init) => {
      requests.push({ headers: new Headers(init?.headers), body: String(init?.body) });
      const body = '{"refund_id":"5000","out_refund_no":"R1","status":"PROCESSING"}';
      return new Response(body, {
        status: 200,
        headers: signResponse(new RsaSha256Signer(answerKey), answerSerial, body, Math.floor(Date.now() / 1000)),
      });
    };
    return { pay: createWechatPay(config, { ...options, fetch: fakeFetch }), requests };
  }

  test('public-key mode (a certificate beside it): PUB_KEY_ID_ in the header, fields open with its private key', async () => {
    const { pay, requests } = wechatPay(
      loadPlatformKeys([{ pem: certificate.pem }, { id: SERIAL, pem: platform.publicPem }]),
      platform.privateKey,
      SERIAL,
    );
    await pay.client.applyAbnormalRefund('5000', toUser);
    expect(requests[0]!.headers.get('Wechatpay-Serial')).toBe(SERIAL);
    const body = JSON.parse(requests[0]!.body) as Record<string, string>;
    expect(decryptSensitive(body.real_name!, platform.privateKey)).toBe('李四');
    expect(decryptSensitive(body.bank_account!, platform.privateKey)).toBe('6214830000000000');
  });

  test('certificate mode with one certificate: its serial in the header, fields open with its private key', async () => {
    const { pay, requests } = wechatPay(
      loadPlatformKeys([{ pem: certificate.pem }]),
      certificatePair.privateKey,
      CERT_SERIAL,
    );
    await pay.client.applyAbnormalRefund('5000', toUser);
    expect(requests[0]!.headers.get('Wechatpay-Serial')).toBe(CERT_SERIAL);
    const body = JSON.parse(requests[0]!.body) as Record<string, string>;
    expect(decryptSensitive(body.bank_account!, certificatePair.privateKey)).toBe('6214830000000000');
  });

  test('several certificates and no public key: that call is refused before sending, createWechatPay itself is not', async () => {
    const { pay, requests } = wechatPay(
      loadPlatformKeys([{ pem: certificate.pem + secondCertificate.pem }]),
      certificatePair.privateKey,
      CERT_SERIAL,
    );
    await expect(
      pay.client.applyAbnormalRefund('5000', { out_refund_no: 'R1', type: 'MERCHANT_BANK_CARD' }),
    ).rejects.toMatchObject({ reason: 'AMBIGUOUS_KEY' });
    expect(requests).toHaveLength(0);
  });

  test('an explicit sensitiveKey option wins over the configured keys', async () => {
    const keys = loadPlatformKeys([{ pem: certificate.pem + secondCertificate.pem }]);
    const sensitiveKey = () => selectSensitiveKey(keys, [certificate.x509, secondCertificate.x509]);
    const { pay, requests } = wechatPay(keys, certificatePair.privateKey, CERT_SERIAL, { sensitiveKey });
    await pay.client.applyAbnormalRefund('5000', toUser);
    expect(requests[0]!.headers.get('Wechatpay-Serial')).toBe('4D00000000000000000000000000000000000D0D');
  });
});
