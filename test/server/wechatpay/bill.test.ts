/**
 * Bills, the merchant's side: the trade bill parsed from files the simulator's bills room writes in WeChat Pay's
 * format (BOM, CRLF, backticks, a product name with commas, every refund state), amounts to integer fen from their
 * digits, the summary row held to the rows; reading a gzip stream in arbitrary chunks with the SHA1 taken over the
 * ORIGINAL (gunzipped) bill; and the client's application and signed, unverified download on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildRequestMessage,
  loadPlatformKeys,
  milliFenToFen,
  parseYuan,
  readBill,
  RsaSha256Signer,
  SignatureVerifier,
  TradeBillParser,
  verifySha256Rsa,
  WechatPayApiError,
  WechatPayBillError,
  WechatPayClient,
  type TradeBillRow,
} from '../../../cloudfunctions/common/wechatpay';
import {
  assembleBill,
  paymentRow,
  refundRow,
  tradeBillLines,
  type BillPayment,
  type TradeBillType,
} from '../../../localcloud/wechatpay-sim/bills-format';
import { parseAuthorization } from '../../../localcloud/wechatpay-sim/auth';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';

const APPID = 'wxd678efh567hg6787';
const MCHID = '1230000109';
const at = (t: string) => Date.parse(t);

const payA: BillPayment = {
  outTradeNo: 'T20261122A001',
  transactionId: '4200001234202611220000000001',
  appid: APPID,
  mchid: MCHID,
  openid: 'oUser-A',
  totalFen: 12345,
  successTime: at('2026-11-22T13:14:15+08:00'),
  description: '美式咖啡, 大杯,加冰',
  attach: 'order-a',
};
const payB: BillPayment = {
  ...payA,
  outTradeNo: 'T20261122B002',
  transactionId: '4200001234202611220000000002',
  totalFen: 1,
  successTime: at('2026-11-22T00:00:00+08:00'),
  description: '拿铁',
  attach: '',
};

function dayRows() {
  const snapshot = at('2026-11-23T09:00:00+08:00');
  const refund = (no: string, fen: number, status: 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL') =>
    refundRow(
      {
        outRefundNo: no,
        refundId: `5030${no}`,
        refundFen: fen,
        status,
        createTime: at('2026-11-22T20:00:00+08:00'),
        successTime: at('2026-11-22T20:00:05+08:00'),
        payment: payA,
      },
      60,
      snapshot,
    );
  return [
    paymentRow(payB, 60),
    paymentRow(payA, 60),
    refund('R1', 345, 'SUCCESS'),
    refund('R2', 100, 'CLOSED'),
    refund('R3', 7, 'PROCESSING'),
    refund('R4', 50, 'ABNORMAL'),
  ];
}

function parse(text: string): { rows: TradeBillRow[]; totals: ReturnType<TradeBillParser['finish']> } {
  const rows: TradeBillRow[] = [];
  const parser = new TradeBillParser((row) => rows.push(row));
  for (const line of text.replace(/^\ufeff/, '').split('\r\n')) if (line) parser.line(line);
  return { rows, totals: parser.finish() };
}

const billText = (type: TradeBillType = 'ALL', rows = dayRows()) =>
  assembleBill(tradeBillLines(type, rows), false).bytes.toString('utf8');

describe('amounts from their digits', () => {
  it('reads yuan into integer fen and the fee into thousandths of a fen, never through a float', () => {
    expect(
      ['0.00', '0.01', '0.29', '1.10', '19.90', '1234567.89', '-0.27', '1.5', '7'].map((t) => parseYuan(t, 2)),
    ).toEqual([0, 1, 29, 110, 1990, 123456789, -27, 150, 700]);
    expect(['0.04000', '-0.27000', '0.00001', '123.45678'].map((t) => parseYuan(t, 5))).toEqual([
      4000, -27000, 1, 12345678,
    ]);
    for (const bad of ['', '1.234', '1e3', ' 1.00', '1,000.00', '--1', '.5', '0x10', '１.00', '99999999999999.00'])
      expect(parseYuan(bad, 2)).toBeUndefined();
    expect([4000, -27000, 499, 500, -500, 1499, 0].map(milliFenToFen)).toEqual([4, -27, 0, 1, -1, 1, 0]);
  });
});

describe('the trade bill parser', () => {
  it('reads every column of an ALL bill, a product name with commas included, and totals that match the summary row', () => {
    const { rows, totals } = parse(billText());
    expect(rows).toHaveLength(6);
    const a = rows.find((r) => r.kind === 'payment' && r.outTradeNo === payA.outTradeNo)!;
    expect(a).toMatchObject({
      time: payA.successTime,
      appid: APPID,
      mchid: MCHID,
      transactionId: payA.transactionId,
      openid: 'oUser-A',
      tradeType: 'JSAPI',
      tradeState: 'SUCCESS',
      currency: 'CNY',
      settlementFen: 12345,
      orderFen: 12345,
      refundFen: 0,
      outRefundNo: '',
      refundStatus: '',
      description: '美式咖啡, 大杯,加冰',
      attach: 'order-a',
      feeMilliFen: 74_000, // 123.45 × 0.60% = 0.7407 → 0.74
      rateBp: 60,
    });
    const refunds = rows.filter((r) => r.kind === 'refund');
    expect(
      refunds.map((r) => [
        r.outRefundNo,
        r.refundFen,
        r.refundApplyFen,
        r.refundStatus,
        r.outTradeNo,
        r.orderFen,
        r.feeMilliFen,
      ]),
    ).toEqual([
      ['R1', 345, 345, 'SUCCESS', payA.outTradeNo, 0, -2000],
      ['R2', 100, 100, 'REFUNDCLOSE', payA.outTradeNo, 0, -1000],
      ['R3', 7, 7, 'PROCESSING', payA.outTradeNo, 0, 0],
      ['R4', 50, 50, 'CHANGE', payA.outTradeNo, 0, 0],
    ]);
    expect(totals).toEqual({
      count: 6,
      settlementFen: 12346,
      refundFen: 502,
      rechargeRefundFen: 0,
      feeMilliFen: 71_000,
      orderFen: 12346,
      refundApplyFen: 502,
    });
  });

  it('reads SUCCESS and REFUND bills by their own headers', () => {
    expect(
      parse(
        billText(
          'SUCCESS',
          dayRows().filter((r) => r.kind === 'payment'),
        ),
      ).rows.map((r) => [r.kind, r.outTradeNo, r.orderFen]),
    ).toEqual([
      ['payment', payB.outTradeNo, 1],
      ['payment', payA.outTradeNo, 12345],
    ]);
    const refundsOnly = dayRows().filter((r) => r.kind === 'refund');
    const { rows, totals } = parse(billText('REFUND', refundsOnly));
    expect(rows.map((r) => [r.outRefundNo, r.refundFen, r.refundStatus])).toEqual([
      ['R1', 345, 'SUCCESS'],
      ['R2', 100, 'REFUNDCLOSE'],
      ['R3', 7, 'PROCESSING'],
      ['R4', 50, 'CHANGE'],
    ]);
    expect(totals.refundFen).toBe(502);
  });

  it('refuses a bill whose summary row does not add up to its rows, one that stops early, and rows it cannot read', () => {
    const text = billText();
    // one fen more on a detail row than the summary counted
    const tampered = text.replace('`123.45,', '`123.46,');
    expect(tampered).not.toBe(text);
    expect(() => parse(tampered)).toThrow(expect.objectContaining({ reason: 'SUMMARY_MISMATCH' }));
    const lines = text.split('\r\n');
    const withoutSummary = lines.slice(0, -3).join('\r\n');
    expect(() => parse(withoutSummary)).toThrow(expect.objectContaining({ reason: 'MALFORMED' }));
    const rowDropped = [...lines.slice(0, 2), ...lines.slice(3)].join('\r\n');
    expect(() => parse(rowDropped)).toThrow(expect.objectContaining({ reason: 'SUMMARY_MISMATCH' }));
    expect(() => parse(text.replace('`123.45,', '`12x.45,'))).toThrow(expect.objectContaining({ reason: 'MALFORMED' }));
    expect(() => parse(text.replace('0.60%', '0.60'))).toThrow(expect.objectContaining({ reason: 'MALFORMED' }));
    expect(() => parse(text.replace('`2026-11-22 13:14:15', '`2026-11-22T13:14:15'))).toThrow(
      expect.objectContaining({ reason: 'MALFORMED' }),
    );
  });
});

describe('reading a downloaded bill', () => {
  const file = () => assembleBill(tradeBillLines('ALL', dayRows()), true);
  const chunked = (bytes: Buffer, size: number) =>
    (async function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })();

  it('gunzips, splits CRLF lines in any chunking (multi-byte characters cut in half too) and checks the SHA1 of the original bill', async () => {
    const f = file();
    const expected = billText()
      .replace(/^\ufeff/, '')
      .split('\r\n')
      .filter(Boolean);
    for (const size of [1, 7, 4096, f.bytes.length]) {
      const lines: string[] = [];
      const result = await readBill(chunked(f.bytes, size), { gzip: true, hashType: 'SHA1', hashValue: f.sha1 }, (l) =>
        lines.push(l),
      );
      expect(lines).toEqual(expected);
      expect(result).toEqual({ lines: expected.length, plainBytes: f.plainBytes, sha1: f.sha1 });
    }
    // a plain (uncompressed) stream, with the hash in capitals
    const plain = assembleBill(tradeBillLines('ALL', dayRows()), false);
    const lines: string[] = [];
    await readBill(
      chunked(plain.bytes, 5),
      { gzip: false, hashType: 'sha1', hashValue: plain.sha1.toUpperCase() },
      (l) => lines.push(l),
    );
    expect(lines).toEqual(expected);
  });

  it('refuses a digest that is not the original bill’s, including one taken over the gzip bytes as served', async () => {
    const f = file();
    const overServed = createHash('sha1').update(f.bytes).digest('hex');
    for (const hashValue of [overServed, '0'.repeat(40)]) {
      const error = await readBill(
        chunked(f.bytes, 100),
        { gzip: true, hashType: 'SHA1', hashValue },
        () => undefined,
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WechatPayBillError);
      expect(error).toMatchObject({ reason: 'DIGEST_MISMATCH' });
    }
    await expect(
      readBill(chunked(f.bytes, 100), { gzip: true, hashType: 'MD5', hashValue: f.sha1 }, () => undefined),
    ).rejects.toMatchObject({ reason: 'UNSUPPORTED_HASH' });
    const truncated = f.bytes.subarray(0, f.bytes.length - 20);
    await expect(
      readBill(chunked(truncated, 100), { gzip: true, hashType: 'SHA1', hashValue: f.sha1 }, () => undefined),
    ).rejects.toMatchObject({ reason: 'MALFORMED' });
    await expect(
      readBill(
        chunked(Buffer.from('not gzip at all'), 4),
        { gzip: true, hashType: 'SHA1', hashValue: f.sha1 },
        () => undefined,
      ),
    ).rejects.toMatchObject({ reason: 'MALFORMED' });
    await expect(
      readBill(
        chunked(f.bytes, 100),
        { gzip: true, hashType: 'SHA1', hashValue: f.sha1, maxBytes: 100 },
        () => undefined,
      ),
    ).rejects.toMatchObject({ reason: 'TOO_LARGE' });
  });
});

describe('the client: apply, then a signed download whose answer is not verified', () => {
  const merchant = testKeyPair('merchant');
  const platform = testKeyPair('platform');
  const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
  let server: Server;
  let baseUrl: string;
  const seen: { url: string; authorizationValid: boolean }[] = [];
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const auth = parseAuthorization(req.headers.authorization ?? '');
      seen.push({
        url: req.url!,
        authorizationValid:
          !!auth &&
          verifySha256Rsa(
            buildRequestMessage('GET', req.url!, auth.timestamp, auth.nonce, ''),
            auth.signature,
            merchant.publicKey,
          ),
      });
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => void (seen.length = 0));

  const client = () =>
    new WechatPayClient({
      baseUrl,
      credential: { mchid: MCHID, serialNo: 'ABCDEF0123456789', signer: new RsaSha256Signer(merchant.privateKey) },
      verifier: new SignatureVerifier({ keys: loadPlatformKeys([{ id: SERIAL, pem: platform.publicPem }]) }),
      timeoutMs: 1000,
      sleep: async () => {},
    });

  it('applies with the documented query, verified like any answer, and streams the unsigned file', async () => {
    const f = assembleBill(tradeBillLines('ALL', dayRows()), true);
    handle = (req, res) => {
      if (req.url!.startsWith('/v3/bill/tradebill')) {
        const body = JSON.stringify({
          download_url: `${baseUrl}/v3/billdownload/file?token=abc&tartype=gzip`,
          hash_type: 'SHA1',
          hash_value: f.sha1,
        });
        res
          .writeHead(200, {
            'Content-Type': 'application/json',
            ...signResponse(new RsaSha256Signer(platform.privateKey), SERIAL, body, Math.floor(Date.now() / 1000)),
          })
          .end(body);
      } else res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Request-ID': 'DL-1' }).end(f.bytes);
    };
    const c = client();
    const application = await c.applyTradeBill({ bill_date: '2026-11-22', bill_type: 'ALL', tar_type: 'GZIP' });
    expect(application.hash_value).toBe(f.sha1);
    const download = await c.downloadBill(application.download_url);
    expect(download.requestId).toBe('DL-1');
    const lines: string[] = [];
    await readBill(
      download.body,
      { gzip: true, hashType: application.hash_type, hashValue: application.hash_value },
      (l) => lines.push(l),
    );
    expect(lines).toHaveLength(9);
    expect(seen).toEqual([
      { url: '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=ALL&tar_type=GZIP', authorizationValid: true },
      { url: '/v3/billdownload/file?token=abc&tartype=gzip', authorizationValid: true },
    ]);
  });

  it('an expired link is a typed 400; a link elsewhere is refused before anything is sent; a bad date before anything is sent', async () => {
    handle = (_req, res) =>
      res
        .writeHead(400, { 'Content-Type': 'application/json' })
        .end('{"code":"INVALID_REQUEST","message":"下载链接已失效"}');
    const error = await client()
      .downloadBill(`${baseUrl}/v3/billdownload/file?token=old`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WechatPayApiError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    await expect(client().downloadBill('https://evil.example.com/v3/billdownload/file?token=x')).rejects.toMatchObject({
      reason: 'FOREIGN_URL',
    });
    expect(() => client().applyTradeBill({ bill_date: '2026/11/22' })).toThrow(TypeError);
    expect(seen.map((s) => s.url)).toEqual(['/v3/billdownload/file?token=old']);
  });
});
