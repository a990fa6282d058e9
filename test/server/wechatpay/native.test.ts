/** prepayNative: Native下单 on the wire, against an in-test HTTP server on 127.0.0.1 (port chosen by the OS). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildRequestMessage,
  loadPlatformKeys,
  RsaSha256Signer,
  SignatureVerifier,
  verifySha256Rsa,
  WechatPayApiError,
  WechatPayClient,
  WechatPayVerificationError,
} from '../../../cloudfunctions/common/wechatpay';
import { parseAuthorization } from '../../../localcloud/wechatpay-sim/auth';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';

const merchant = testKeyPair('merchant');
const platform = testKeyPair('platform');
const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
const MCHID = '1230000109';

let server: Server;
let baseUrl: string;
const seen: { method: string; url: string; body: string; signed: boolean }[] = [];
let answer: (res: ServerResponse) => void = () => {};

function reply(res: ServerResponse, status: number, body: string, signed = true) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Request-ID': 'REQ-NATIVE' };
  if (signed)
    Object.assign(
      headers,
      signResponse(new RsaSha256Signer(platform.privateKey), SERIAL, body, Math.floor(Date.now() / 1000)),
    );
  res.writeHead(status, headers).end(body);
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const auth = parseAuthorization(req.headers.authorization ?? '');
      const signed =
        !!auth &&
        verifySha256Rsa(
          buildRequestMessage(req.method!, req.url!, auth.timestamp, auth.nonce, body),
          auth.signature,
          merchant.publicKey,
        );
      seen.push({ method: req.method!, url: req.url!, body, signed });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => void seen.splice(0));

const client = () =>
  new WechatPayClient({
    baseUrl,
    credential: { mchid: MCHID, serialNo: 'ABCDEF0123456789', signer: new RsaSha256Signer(merchant.privateKey) },
    verifier: new SignatureVerifier({ keys: loadPlatformKeys([{ id: SERIAL, pem: platform.publicPem }]) }),
    timeoutMs: 300,
    sleep: async () => {},
  });

const request = {
  appid: 'wxd678efh567hg6787',
  description: 'Image形象店-深圳腾大-QQ公仔',
  out_trade_no: '1217752501201407033233368018',
  time_expire: '2018-06-08T10:34:56+08:00',
  attach: 'O1234',
  notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
  amount: { total: 100, currency: 'CNY' as const },
};

test('POSTs the signed request to /v3/pay/transactions/native with the mchid added and no payer, and answers code_url', async () => {
  answer = (res) => reply(res, 200, '{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}');
  await expect(client().prepayNative(request)).resolves.toEqual({ code_url: 'weixin://wxpay/bizpayurl?pr=p4lpSuKzz' });
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ method: 'POST', url: '/v3/pay/transactions/native', signed: true });
  const sent = JSON.parse(seen[0]!.body) as Record<string, unknown>;
  expect(sent).toEqual({ ...request, mchid: MCHID });
  expect(sent).not.toHaveProperty('payer');
});

test('an unsigned 2xx answer is refused; a 4xx is a typed error, not retried', async () => {
  answer = (res) => reply(res, 200, '{"code_url":"weixin://wxpay/bizpayurl?pr=forged"}', false);
  await expect(client().prepayNative(request)).rejects.toBeInstanceOf(WechatPayVerificationError);
  seen.splice(0);
  answer = (res) => reply(res, 403, '{"code":"OUT_TRADE_NO_USED","message":"商户订单号重复"}', false);
  const error = await client()
    .prepayNative(request)
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WechatPayApiError);
  expect(error).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
  expect(seen).toHaveLength(1);
});
