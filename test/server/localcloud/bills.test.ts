/**
 * The simulator's bills room: WeChat Pay's trade and fund flow bill files (pinned by hand-checked rows and by a
 * real published bill whose SHA1 WeChat Pay gave), the bill faults, and the endpoints' answers on an injected clock.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { feeAt } from '../../../cloudfunctions/common/domain/books/bill-compare';
import { HttpError } from '../../../localcloud/http';
import {
  assembleBill,
  chinaDayStart,
  feeFen,
  fenToYuan,
  fenToYuan5,
  formatRate,
  monthsBefore,
  paymentRow,
  syntheticPayments,
  tradeBillLines,
  type BillPayment,
} from '../../../localcloud/wechatpay-sim/bills-format';
import { parseBillFaultRule } from '../../../localcloud/wechatpay-sim/bills-faults';
import {
  BillsRoom,
  recordsLedger,
  type BillAnswer,
  type BillLedger,
  type LedgerRefundRecord,
  type LedgerTransactionRecord,
} from '../../../localcloud/wechatpay-sim/bills';

const APPID = 'wxd678efh567hg6787';
const MCHID = '1230000109';
const BASE = 'http://127.0.0.1:18788';
const at = (rfc3339: string) => Date.parse(rfc3339);
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

let txs: LedgerTransactionRecord[];
let refunds: LedgerRefundRecord[];
let now: number;

function tx(
  no: string,
  txId: string,
  total: number,
  successTime: string,
  description: string,
  attach: string,
  openid: string,
): LedgerTransactionRecord {
  return {
    _id: no,
    appid: APPID,
    mchid: MCHID,
    description,
    attach,
    payer: { openid },
    amount: { total },
    trade_state: 'SUCCESS',
    transaction_id: txId,
    success_time: successTime,
  };
}
function refund(
  no: string,
  refundId: string,
  outTradeNo: string,
  amount: number,
  status: LedgerRefundRecord['status'],
  createTime: string,
  successTime?: string,
): LedgerRefundRecord {
  return {
    _id: no,
    refund_id: refundId,
    out_trade_no: outTradeNo,
    amount: { refund: amount },
    status,
    create_time: createTime,
    ...(successTime ? { success_time: successTime } : {}),
  };
}

/** The hand-checked day, 2026-11-22 (China time), with its neighbours. */
function fixture() {
  txs = [
    {
      ...tx(
        'T20261121C003',
        '4200001234202611210000000003',
        10000,
        '2026-11-21T23:59:59+08:00',
        '手冲咖啡',
        'order-c',
        'oUser-C',
      ),
      trade_state: 'REFUND',
    },
    tx('T20261122A001', '4200001234202611220000000001', 1, '2026-11-22T00:00:00+08:00', '拿铁', 'order-a', 'oUser-A'),
    tx(
      'T20261122B002',
      '4200001234202611220000000002',
      12345,
      '2026-11-22T13:14:15+08:00',
      '美式咖啡, 大杯',
      '',
      'oUser-B',
    ),
    tx('T20261123D004', '4200001234202611230000000004', 500, '2026-11-23T00:00:00+08:00', '摩卡', 'order-d', 'oUser-D'),
    {
      _id: 'T20261122N005',
      appid: APPID,
      mchid: MCHID,
      description: '未支付',
      payer: { openid: 'oUser-N' },
      amount: { total: 700 },
      trade_state: 'NOTPAY',
    },
  ];
  refunds = [
    refund(
      'R1',
      '50300000000000000000000000001',
      'T20261121C003',
      5000,
      'SUCCESS',
      '2026-11-22T09:00:00+08:00',
      '2026-11-22T09:00:05+08:00',
    ),
    refund('R2', '50300000000000000000000000002', 'T20261122B002', 345, 'PROCESSING', '2026-11-22T20:00:00+08:00'),
  ];
}

function makeRoom(options: Partial<ConstructorParameters<typeof BillsRoom>[0]> = {}) {
  return new BillsRoom({
    ledger: recordsLedger({ transactions: async () => txs, refunds: async () => refunds }),
    clock: () => now,
    baseUrl: () => BASE,
    appid: APPID,
    mchid: MCHID,
    ...options,
  });
}

async function call(room: BillsRoom, pathAndQuery: string): Promise<BillAnswer> {
  const url = new URL(pathAndQuery, 'http://sim');
  const route = room.route('GET', url.pathname);
  if (!route) throw new Error(`no route for ${url.pathname}`);
  return route.run(url);
}

async function callError(
  room: BillsRoom,
  pathAndQuery: string,
): Promise<{ status: number; code: string; message: string; detail?: unknown }> {
  try {
    await call(room, pathAndQuery);
  } catch (error) {
    if (error instanceof HttpError)
      return { status: error.status, code: error.code, message: error.message, detail: error.detail };
    throw error;
  }
  throw new Error(`${pathAndQuery} answered 2xx`);
}

function json(answer: BillAnswer): { download_url: string; hash_type: string; hash_value: string } {
  if (!('body' in answer)) throw new Error('expected a JSON answer');
  return answer.body as { download_url: string; hash_type: string; hash_value: string };
}

async function download(room: BillsRoom, downloadUrl: string): Promise<Buffer> {
  const url = new URL(downloadUrl);
  const answer = await call(room, url.pathname + url.search);
  if (!('raw' in answer)) throw new Error('expected raw bytes');
  return answer.raw;
}

/** Applies for a bill and downloads it, checking the SHA1 against the original bill. */
async function fetchBill(room: BillsRoom, pathAndQuery: string): Promise<string> {
  const info = json(await call(room, pathAndQuery));
  const served = await download(room, info.download_url);
  const plain = pathAndQuery.includes('tar_type=GZIP') ? gunzipSync(served) : served;
  expect(sha1(plain)).toBe(info.hash_value);
  return plain.toString('utf8');
}

const lines = (file: string) => file.split('\r\n');

beforeEach(() => {
  fixture();
  now = at('2026-11-23T10:00:00+08:00');
});

describe('amounts, rates and fees from integer fen', () => {
  it('writes yuan with two decimals for edge amounts, the fee with five, the rate like 0.60%', () => {
    expect([0, 1, 10, 100, 123456789, -27, 100000].map(fenToYuan)).toEqual([
      '0.00',
      '0.01',
      '0.10',
      '1.00',
      '1234567.89',
      '-0.27',
      '1000.00',
    ]);
    expect([0, 32, -27, 123456789].map(fenToYuan5)).toEqual(['0.00000', '0.32000', '-0.27000', '1234567.89000']);
    expect([60, 54, 100, 38, 1250, 0].map(formatRate)).toEqual(['0.60%', '0.54%', '1.00%', '0.38%', '12.50%', '0.00%']);
    expect(() => fenToYuan(1.5)).toThrow(RangeError);
  });

  it('rounds each fee half up to the fen (6.00 at 0.60% is 0.04, 0.01 is 0.00, as real bills show)', () => {
    expect(feeFen(600, 60)).toBe(4); // 3.6 fen
    expect(feeFen(1, 60)).toBe(0);
    expect(feeFen(6000, 54)).toBe(32); // 60.00 at 0.54% → 0.32, the real bill's row
    expect(feeFen(5000, 54)).toBe(27); // its refund row gives back 0.27
    expect(feeFen(750, 60)).toBe(5); // exactly 4.5 fen: half up, not to even
    expect(feeFen(250, 60)).toBe(2); // 1.5
    expect(feeFen(83, 60)).toBe(0); // 0.498
    expect(feeFen(84, 60)).toBe(1); // 0.504
    expect(feeFen(-750, 60)).toBe(-5);
    expect(feeFen(123456789, 60)).toBe(740741); // 740740.734
  });

  it('stays exact where amount × rate passes 2^53: the simulator and the books job agree with a BigInt reference', () => {
    const reference = (amount: number, bp: number) => {
      const scaled = BigInt(Math.abs(amount)) * BigInt(bp) + 5000n;
      return (amount < 0 ? -1 : 1) * Number(scaled / 10000n);
    };
    const amounts = [Number.MAX_SAFE_INTEGER, 2 ** 50 + 12345, 9_007_199_254_740_991 - 4999, 1e15 + 7, 750, 84, 83, 1];
    for (const amount of amounts)
      for (const bp of [60, 54, 38, 10_000, 1]) {
        if (!Number.isSafeInteger(reference(amount, bp))) continue;
        expect([amount, bp, feeFen(amount, bp)]).toEqual([amount, bp, reference(amount, bp)]);
        expect([amount, bp, feeFen(-amount, bp)]).toEqual([amount, bp, reference(-amount, bp)]);
        expect([amount, bp, feeAt(amount, bp)]).toEqual([amount, bp, reference(amount, bp)]);
      }
    expect(2 ** 50 * 60).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it('builds a bill, not a 500, for a payment whose amount × rate passes 2^53', async () => {
    txs.push(
      tx('T20261122H006', '4200001234202611220000000006', 2 ** 50, '2026-11-22T15:00:00+08:00', '大单', '', 'oH'),
    );
    const file = lines(
      await fetchBill(makeRoom({ feeRateBp: 60 }), '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS'),
    );
    const row = file.find((l) => l.includes('T20261122H006'))!.split(',`');
    expect(row[16]).toBe(fenToYuan5(Number((BigInt(2 ** 50) * 60n + 5000n) / 10000n)));
  });

  it('cuts China days at 00:00 +08:00 and counts three calendar months back', () => {
    expect(chinaDayStart('2026-11-22')).toBe(at('2026-11-21T16:00:00Z'));
    expect(chinaDayStart('2026-02-30')).toBeUndefined();
    expect(chinaDayStart('20261122')).toBeUndefined();
    expect(monthsBefore('2026-11-23', 3)).toBe('2026-08-23');
    expect(monthsBefore('2026-05-31', 3)).toBe('2026-02-28');
    expect(monthsBefore('2024-05-31', 3)).toBe('2024-02-29');
    expect(monthsBefore('2026-01-15', 3)).toBe('2025-10-15');
  });
});

describe('the trade bill file', () => {
  it('reproduces, byte for byte, a real downloaded bill: BOM, CRLF, backticks, and the hash_value WeChat Pay gave for it', () => {
    // Three 0.01 NATIVE payments at 1.00% as published (rows and hash_value dcd7ceb3…) in gunsluo/wechatpay-go's
    // client test of its download: the framing below is the only one that hashes to WeChat Pay's value.
    const p = (time: string, transactionId: string, outTradeNo: string) =>
      paymentRow(
        {
          outTradeNo,
          transactionId,
          appid: 'wx81be3101902f7cb2',
          mchid: '1601959334',
          openid: 'ofyak5qR_1wYsC99CsWA6R9MJazA',
          totalFen: 1,
          successTime: at(`${time.replace(' ', 'T')}+08:00`),
          description: 'for testing',
          attach: 'cipher code',
          tradeType: 'NATIVE',
        },
        100,
      );
    const rows = [
      p('2021-01-28 17:07:11', '4200000925202101284997714292', 'S20210128170702357723'),
      p('2021-01-28 15:35:18', '4200000910202101282955148400', 'S20210128153505214586'),
      p('2021-01-28 16:59:46', '4200000926202101281412639609', 'S20210128165824499930'),
    ];
    const file = assembleBill(tradeBillLines('ALL', rows), false);
    expect(file.sha1).toBe('dcd7ceb3d382a1181798368bb15d8437de46c00f');
    expect(file.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(lines(file.bytes.toString('utf8')).at(-2)).toBe('`3,`0.03,`0.00,`0.00,`0.00000,`0.03,`0.00');
  });

  it("ALL: the day's payments and accepted refunds, each field backticked, refund rows carrying their payment's columns", async () => {
    const file = await fetchBill(makeRoom(), '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=ALL');
    expect(lines(file)).toEqual([
      '\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
      '`2026-11-22 00:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000001,`T20261122A001,`oUser-A,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`拿铁,`order-a,`0.00000,`0.60%,`0.01,`0.00,`',
      '`2026-11-22 09:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611210000000003,`T20261121C003,`oUser-C,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300000000000000000000000001,`R1,`50.00,`0.00,`ORIGINAL,`SUCCESS,`手冲咖啡,`order-c,`-0.30000,`0.60%,`0.00,`50.00,`',
      '`2026-11-22 13:14:15,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000002,`T20261122B002,`oUser-B,`JSAPI,`SUCCESS,`OTHERS,`CNY,`123.45,`0.00,`0,`0,`0.00,`0.00,`,`,`美式咖啡, 大杯,`,`0.74000,`0.60%,`123.45,`0.00,`',
      '`2026-11-22 20:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000002,`T20261122B002,`oUser-B,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300000000000000000000000002,`R2,`3.45,`0.00,`ORIGINAL,`PROCESSING,`美式咖啡, 大杯,`,`-0.02000,`0.60%,`0.00,`3.45,`',
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
      '`4,`123.46,`53.45,`0.00,`0.42000,`123.46,`53.45',
      '',
    ]);
  });

  it('SUCCESS and REFUND bills have their own columns and summaries; the REFUND bill files rows under the payment time', async () => {
    const success = lines(await fetchBill(makeRoom(), '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS'));
    expect(success[0]).toBe(
      '\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
    );
    expect(success.slice(1, 3)).toEqual([
      '`2026-11-22 00:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000001,`T20261122A001,`oUser-A,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`拿铁,`order-a,`0.00000,`0.60%,`0.01,`',
      '`2026-11-22 13:14:15,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000002,`T20261122B002,`oUser-B,`JSAPI,`SUCCESS,`OTHERS,`CNY,`123.45,`0.00,`美式咖啡, 大杯,`,`0.74000,`0.60%,`123.45,`',
    ]);
    expect(success.slice(3)).toEqual([
      '总交易单数,应结订单总金额,手续费总金额,订单总金额',
      '`2,`123.46,`0.74000,`123.46',
      '',
    ]);

    const refundBill = lines(await fetchBill(makeRoom(), '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=REFUND'));
    expect(refundBill.slice(1)).toEqual([
      '`2026-11-21 23:59:59,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611210000000003,`T20261121C003,`oUser-C,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`2026-11-22 09:00:00,`2026-11-22 09:00:05,`50300000000000000000000000001,`R1,`50.00,`0.00,`ORIGINAL,`SUCCESS,`手冲咖啡,`order-c,`-0.30000,`0.60%,`0.00,`50.00,`',
      '`2026-11-22 13:14:15,`wxd678efh567hg6787,`1230000109,`0,`,`4200001234202611220000000002,`T20261122B002,`oUser-B,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`2026-11-22 20:00:00,`,`50300000000000000000000000002,`R2,`3.45,`0.00,`ORIGINAL,`PROCESSING,`美式咖啡, 大杯,`,`-0.02000,`0.60%,`0.00,`3.45,`',
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
      '`2,`0.00,`53.45,`0.00,`-0.32000,`0.00,`53.45',
      '',
    ]);
    expect(refundBill[0]!.split(',')).toHaveLength(refundBill[1]!.split(',`').length);
  });

  it('cuts days at 00:00 China time: 23:59:59 belongs to the day before, 00:00:00 to the day it starts', async () => {
    refunds.push(
      refund('R6', '50300000000000000000000000006', 'T20261122B002', 100, 'PROCESSING', '2026-11-23T00:00:00+08:00'),
    );
    const room = makeRoom();
    const refundsOf = (file: string) =>
      lines(file)
        .filter((l) => l.startsWith('`2026'))
        .map((l) => l.split(',`')[17]);
    expect(refundsOf(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=REFUND'))).toEqual([
      'R1',
      'R2',
    ]);
    const day21 = lines(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-21&bill_type=SUCCESS'));
    expect(day21.filter((l) => l.startsWith('`2026')).map((l) => l.split(',`')[6])).toEqual(['T20261121C003']);
    const day22 = lines(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS'));
    expect(day22.filter((l) => l.startsWith('`2026')).map((l) => l.split(',`')[6])).toEqual([
      'T20261122A001',
      'T20261122B002',
    ]);
    now = at('2026-11-24T10:00:00+08:00');
    const day23 = lines(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-23&bill_type=SUCCESS'));
    expect(day23.filter((l) => l.startsWith('`2026')).map((l) => l.split(',`')[6])).toEqual(['T20261123D004']);
    expect(refundsOf(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-23&bill_type=REFUND'))).toEqual([
      'R6',
    ]);
  });

  it('is a snapshot taken at 09:00 the next day: a refund that succeeded later still reads PROCESSING; CLOSED and ABNORMAL read REFUNDCLOSE and CHANGE', async () => {
    refunds = [
      refund(
        'R1',
        '50300000000000000000000000001',
        'T20261121C003',
        100,
        'SUCCESS',
        '2026-11-22T09:00:00+08:00',
        '2026-11-23T08:59:59+08:00',
      ),
      refund(
        'R3',
        '50300000000000000000000000003',
        'T20261121C003',
        100,
        'SUCCESS',
        '2026-11-22T21:00:00+08:00',
        '2026-11-23T09:00:01+08:00',
      ),
      refund('R4', '50300000000000000000000000004', 'T20261122B002', 100, 'CLOSED', '2026-11-22T21:30:00+08:00'),
      refund('R5', '50300000000000000000000000005', 'T20261122B002', 100, 'ABNORMAL', '2026-11-22T22:00:00+08:00'),
    ];
    const rows = lines(await fetchBill(makeRoom(), '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=REFUND')).filter(
      (l) => l.startsWith('`2026'),
    );
    expect(
      rows.map((l) => {
        const f = l.split(',`');
        return [f[17], f[21], f[15]];
      }),
    ).toEqual([
      ['R1', 'SUCCESS', '2026-11-23 08:59:59'],
      ['R3', 'PROCESSING', ''],
      ['R4', 'REFUNDCLOSE', ''],
      ['R5', 'CHANGE', ''],
    ]);
  });

  it("writes CR, LF and \\x01 in the merchant's text the way WeChat Pay escapes them", async () => {
    txs = [
      tx(
        'T20261122E006',
        '4200001234202611220000000006',
        100,
        '2026-11-22T08:00:00+08:00',
        'two\r\nlines',
        `a${String.fromCharCode(1)}b`,
        'oUser-E',
      ),
    ];
    refunds = [];
    const row = lines(await fetchBill(makeRoom(), '/v3/bill/tradebill?bill_date=2026-11-22')).filter((l) =>
      l.startsWith('`2026'),
    );
    expect(row).toHaveLength(1);
    expect(row[0]!.split(',`').slice(20, 22)).toEqual(['two\\r\\nlines', 'a b']);
  });

  it('uses the configured fee rate', async () => {
    const room = makeRoom({ feeRateBp: 54 });
    const file = lines(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS'));
    expect(file[2]!.split(',`').slice(16, 18)).toEqual(['0.67000', '0.54%']); // 123.45 × 0.54% = 0.66663
  });
});

describe('the fund flow bill', () => {
  it('moves the basic account by each payment net of its fee and each accepted refund net of the fee given back', async () => {
    const file = await fetchBill(makeRoom(), '/v3/bill/fundflowbill?bill_date=2026-11-22&account_type=BASIC');
    expect(lines(file)).toEqual([
      '\ufeff记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号',
      '`2026-11-22 00:00:00,`4200001234202611220000000001,`4200001234202611220000000001,`交易,`交易,`收入,`0.01,`99.41,`system,`结算总金额 0.01 元;含手续费 0.00 元,`T20261122A001',
      '`2026-11-22 09:00:00,`50300000000000000000000000001,`4200001234202611210000000003,`退款,`退款,`支出,`49.70,`49.71,`1230000109API,`退款总金额50.00元;含手续费0.30元,`R1',
      '`2026-11-22 13:14:15,`4200001234202611220000000002,`4200001234202611220000000002,`交易,`交易,`收入,`122.71,`172.42,`system,`结算总金额 123.45 元;含手续费 0.74 元,`T20261122B002',
      '`2026-11-22 20:00:00,`50300000000000000000000000002,`4200001234202611220000000002,`退款,`退款,`支出,`3.43,`168.99,`1230000109API,`退款总金额3.45元;含手续费0.02元,`R2',
      '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
      '`4,`2,`122.72,`2,`53.13',
      '',
    ]);
  });

  it('has nothing for the operation and fees accounts, which never move here', async () => {
    const room = makeRoom();
    for (const account of ['OPERATION', 'FEES']) {
      expect(await callError(room, `/v3/bill/fundflowbill?bill_date=2026-11-22&account_type=${account}`)).toMatchObject(
        { status: 400, code: 'NO_STATEMENT_EXIST' },
      );
    }
    expect(await callError(room, '/v3/bill/fundflowbill?bill_date=2026-11-22&account_type=ALL')).toMatchObject({
      status: 400,
      code: 'PARAM_ERROR',
    });
  });
});

describe('bill faults', () => {
  const detail = (file: string) =>
    lines(file)
      .filter((l) => l.startsWith('`2026'))
      .map((l) => l.split(',`'));
  const summary = (file: string) => lines(file).at(-2)!;
  const ALL = '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=ALL';

  it('ROW_MISSING for the next bill drops one payment row (summary as served), then is spent', async () => {
    const room = makeRoom();
    room.faults.add({ kind: 'ROW_MISSING', times: 1 });
    const faulty = await fetchBill(room, ALL);
    expect(detail(faulty).map((f) => (f[15] === '0' ? f[6] : f[15]))).toEqual(['R1', 'T20261122B002', 'R2']);
    expect(summary(faulty)).toBe('`3,`123.45,`53.45,`0.00,`0.42000,`123.45,`53.45');
    expect(room.faults.list()).toEqual([]);
    expect(detail(await fetchBill(room, ALL))).toHaveLength(4);
  });

  it('a per-day rule stands for every bill of its day and no other, picking the refund row by out_refund_no', async () => {
    const room = makeRoom();
    room.faults.add({ kind: 'ROW_MISSING', billDate: '2026-11-22', outRefundNo: 'R2' });
    room.faults.add({ kind: 'AMOUNT_CHANGED', billDate: '2026-11-22' });
    for (let i = 0; i < 2; i++)
      expect(detail(await fetchBill(room, ALL)).map((f) => [f[15], f[24]])).toEqual([
        ['0', '0.02'],
        ['R1', '0.00'],
        ['0', '123.45'],
      ]);
    expect(detail(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-21')).map((f) => [f[6], f[24]])).toEqual([
      ['T20261121C003', '100.00'],
    ]);
    expect(room.faults.list()).toHaveLength(2);
  });

  it('EXTRA_ROW adds a payment WeChat Pay has and the books do not; a REFUND bill has no place for it and leaves it unspent', async () => {
    const room = makeRoom();
    room.faults.add({ kind: 'EXTRA_ROW', outTradeNo: 'GHOST0001', amountFen: 999 });
    await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=REFUND');
    expect(room.faults.list()).toHaveLength(1);
    const file = await fetchBill(room, ALL);
    const extra = detail(file).find((f) => f[6] === 'GHOST0001')!;
    expect(extra.slice(0, 3)).toEqual(['`2026-11-22 12:00:00', APPID, MCHID]);
    expect([extra[9], extra[12], extra[22], extra[24]]).toEqual(['SUCCESS', '9.99', '0.06000', '9.99']);
    expect(summary(file)).toBe('`5,`133.45,`53.45,`0.00,`0.48000,`133.45,`53.45');
    expect(room.faults.list()).toEqual([]);
  });

  it("AMOUNT_CHANGED changes a payment's amounts (fee follows) or a refund's, by default one fen up", async () => {
    const room = makeRoom();
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: 'T20261122B002', amountFen: 10000 });
    room.faults.add({ kind: 'AMOUNT_CHANGED', outRefundNo: 'R1' });
    const file = await fetchBill(room, ALL);
    const rows = detail(file);
    expect([rows[2]![12], rows[2]![22], rows[2]![24]]).toEqual(['100.00', '0.60000', '100.00']);
    expect([rows[1]![16], rows[1]![22], rows[1]![25]]).toEqual(['50.01', '-0.30000', '50.01']);
    expect(summary(file)).toBe('`4,`100.01,`53.46,`0.00,`0.28000,`100.01,`53.46');
  });

  it('REFUND_STATE_CHANGED turns SUCCESS into REFUNDCLOSE by default, or into the state asked for', async () => {
    const room = makeRoom();
    room.faults.add({ kind: 'REFUND_STATE_CHANGED' });
    expect(detail(await fetchBill(room, ALL)).map((f) => f[19])).toEqual(['', 'REFUNDCLOSE', '', 'PROCESSING']);
    room.faults.add({ kind: 'REFUND_STATE_CHANGED', outRefundNo: 'R2', refundStatus: 'CHANGE' });
    expect(detail(await fetchBill(room, ALL)).map((f) => f[19])).toEqual(['', 'SUCCESS', '', 'CHANGE']);
    room.faults.add({ kind: 'REFUND_STATE_CHANGED', outRefundNo: 'R2' });
    expect(detail(await fetchBill(room, ALL)).map((f) => f[19])).toEqual(['', 'SUCCESS', '', 'SUCCESS']);
  });

  it('rule validation answers what is wrong', () => {
    expect(parseBillFaultRule({ kind: 'NOPE' })).toMatch(/kind must be one of/);
    expect(parseBillFaultRule({ kind: 'ROW_MISSING', billDate: '2026-02-30' })).toMatch(/billDate/);
    expect(parseBillFaultRule({ kind: 'ROW_MISSING', billDate: '2026-11-22', times: 2 })).toMatch(/not both/);
    expect(parseBillFaultRule({ kind: 'ROW_MISSING', times: 0 })).toMatch(/times/);
    expect(parseBillFaultRule({ kind: 'AMOUNT_CHANGED', amountFen: 1.5 })).toMatch(/amountFen/);
    expect(parseBillFaultRule({ kind: 'ROW_MISSING', amountFen: 5 })).toMatch(/amountFen is for/);
    expect(parseBillFaultRule({ kind: 'REFUND_STATE_CHANGED', refundStatus: 'CLOSED' })).toMatch(
      /refundStatus must be/,
    );
    expect(parseBillFaultRule({ kind: 'REFUND_STATE_CHANGED', outTradeNo: 'T1' })).toMatch(/outRefundNo/);
    expect(parseBillFaultRule({ kind: 'EXTRA_ROW' })).toEqual({ kind: 'EXTRA_ROW', times: 1 });
    expect(
      parseBillFaultRule({
        kind: 'REFUND_STATE_CHANGED',
        billDate: '2026-11-22',
        outRefundNo: 'R1',
        refundStatus: 'CHANGE',
      }),
    ).toEqual({
      kind: 'REFUND_STATE_CHANGED',
      billDate: '2026-11-22',
      outRefundNo: 'R1',
      refundStatus: 'CHANGE',
    });
  });
});

describe('the endpoints', () => {
  it('answers download_url on the simulator, SHA1 and a hash over the original bill; the download is raw bytes, unsigned', async () => {
    const room = makeRoom();
    const info = json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22'));
    expect(info.hash_type).toBe('SHA1');
    expect(info.download_url).toMatch(/^http:\/\/127\.0\.0\.1:18788\/v3\/billdownload\/file\?token=[A-Za-z0-9_-]{64}$/);
    const answer = await call(room, new URL(info.download_url).pathname + new URL(info.download_url).search);
    expect(Object.keys(answer).sort()).toEqual(['headers', 'raw', 'status']); // bytes as they are: nothing to sign
    if (!('raw' in answer)) throw new Error('raw expected');
    expect(answer.status).toBe(200);
    expect(sha1(answer.raw)).toBe(info.hash_value);
    expect(answer.raw.toString('utf8')).toContain('`T20261122B002');
  });

  it('GZIP: the link says tartype=gzip, the bytes are gzip, and the hash is of the bill gunzipped', async () => {
    const room = makeRoom();
    const info = json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=ALL&tar_type=GZIP'));
    expect(info.download_url).toMatch(/&tartype=gzip$/);
    const served = await download(room, info.download_url);
    expect(served.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(sha1(served)).not.toBe(info.hash_value);
    const plain = gunzipSync(served);
    expect(sha1(plain)).toBe(info.hash_value);
    const direct = await room.buildTradeBill('2026-11-22', 'ALL');
    expect(plain.equals(direct!.bytes)).toBe(true);
  });

  it("links live 30 s on the simulator's clock, then 400 INVALID_REQUEST; an unknown token too", async () => {
    const room = makeRoom();
    const info = json(await call(room, '/v3/bill/fundflowbill?bill_date=2026-11-22'));
    const { pathname, search } = new URL(info.download_url);
    now += 29_999;
    expect('raw' in (await call(room, pathname + search))).toBe(true);
    now += 1;
    expect(await callError(room, pathname + search)).toEqual({
      status: 400,
      code: 'INVALID_REQUEST',
      message: '下载链接已失效，请重新申请账单',
      detail: undefined,
    });
    expect(await callError(room, '/v3/billdownload/file?token=nope')).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
    });
  });

  it('STATEMENT_CREATING until 10:00 China time of the next day, and for today', async () => {
    const room = makeRoom();
    now = at('2026-11-23T09:59:59.999+08:00');
    expect(await callError(room, '/v3/bill/tradebill?bill_date=2026-11-22')).toEqual({
      status: 400,
      code: 'STATEMENT_CREATING',
      message: '账单生成中',
      detail: undefined,
    });
    expect(await callError(room, '/v3/bill/fundflowbill?bill_date=2026-11-22')).toMatchObject({
      code: 'STATEMENT_CREATING',
    });
    expect(await callError(room, '/v3/bill/tradebill?bill_date=2026-11-23')).toMatchObject({
      code: 'STATEMENT_CREATING',
    });
    now = at('2026-11-23T10:00:00+08:00');
    expect(json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22')).hash_type).toBe('SHA1');
  });

  it('NO_STATEMENT_EXIST for a day without trades, or without the rows a bill type lists', async () => {
    const room = makeRoom();
    const noStatement = { status: 400, code: 'NO_STATEMENT_EXIST', message: '请求的账单文件不存在', detail: undefined };
    expect(await callError(room, '/v3/bill/tradebill?bill_date=2026-11-20')).toEqual(noStatement);
    expect(await callError(room, '/v3/bill/fundflowbill?bill_date=2026-11-20')).toEqual(noStatement);
    expect(await callError(room, '/v3/bill/tradebill?bill_date=2026-11-21&bill_type=REFUND')).toEqual(noStatement);
    expect(await callError(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=RECHARGE_REFUND')).toEqual(
      noStatement,
    );
  });

  it('PARAM_ERROR for bad parameters, a future day, and days older than three months', async () => {
    const room = makeRoom();
    const bad = async (q: string) => (await callError(room, q)).code;
    expect(await callError(room, '/v3/bill/tradebill')).toMatchObject({
      status: 400,
      code: 'PARAM_ERROR',
      detail: { field: 'bill_date', location: 'query', issue: 'missing' },
    });
    for (const q of [
      '/v3/bill/tradebill?bill_date=20261122',
      '/v3/bill/tradebill?bill_date=2026-13-01',
      '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=all',
      '/v3/bill/tradebill?bill_date=2026-11-22&tar_type=ZIP',
      '/v3/bill/fundflowbill?bill_date=2026-11-22&account_type=basic',
      '/v3/bill/tradebill?bill_date=2026-11-24',
      '/v3/bill/tradebill?bill_date=2026-08-22',
    ]) {
      expect([q, await bad(q)]).toEqual([q, 'PARAM_ERROR']);
    }
    expect(await bad('/v3/bill/tradebill?bill_date=2026-08-23')).toBe('NO_STATEMENT_EXIST'); // exactly three months back is served
  });

  it('routes only its own GET paths', () => {
    const room = makeRoom();
    expect(room.route('POST', '/v3/bill/tradebill')).toBeUndefined();
    expect(room.route('GET', '/v3/bill/other')).toBeUndefined();
    expect(room.route('GET', '/v3/bill/tradebill')?.target).toBe('bill');
    expect(room.route('GET', '/v3/bill/fundflowbill')?.target).toBe('bill');
    expect(room.route('GET', '/v3/billdownload/file')?.target).toBe('bill-download');
  });

  it('control API: faults listed, added, cleared; fee rate and link lifetime configured; bad input refused', async () => {
    const room = makeRoom();
    expect(room.control('POST', '/sim/bills/faults', { kind: 'ROW_MISSING', billDate: '2026-11-22' })).toEqual({
      status: 200,
      body: [{ kind: 'ROW_MISSING', billDate: '2026-11-22' }],
    });
    expect(room.control('GET', '/sim/bills/faults', undefined)?.body).toHaveLength(1);
    expect(() => room.control('POST', '/sim/bills/faults', { kind: 'X' })).toThrow(HttpError);
    expect(room.control('DELETE', '/sim/bills/faults', undefined)).toEqual({ status: 200, body: [] });
    expect(room.faults.list()).toEqual([]);
    expect(room.control('POST', '/sim/bills/config', { feeRateBp: 100, linkLifetimeMs: 5000 })).toEqual({
      status: 200,
      body: { feeRateBp: 100, linkLifetimeMs: 5000, wrongHashes: 0 },
    });
    expect(() => room.control('POST', '/sim/bills/config', { feeRateBp: 0.6 })).toThrow(HttpError);
    expect(() => room.control('POST', '/sim/bills/config', { linkLifetimeMs: 0 })).toThrow(HttpError);
    expect(room.control('GET', '/sim/other', undefined)).toBeUndefined();
    const file = lines(await fetchBill(room, '/v3/bill/tradebill?bill_date=2026-11-22&bill_type=SUCCESS'));
    expect(file[2]!.split(',`')[17]).toBe('1.00%');
    const info = json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22'));
    now += 5000;
    expect(
      await callError(room, new URL(info.download_url).pathname + new URL(info.download_url).search),
    ).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('wrongHashes: the next applications answer a hash_value that is not the file’s, then the file’s again', async () => {
    const room = makeRoom();
    expect(room.control('POST', '/sim/bills/config', { wrongHashes: 1 })?.body).toMatchObject({ wrongHashes: 1 });
    expect(() => room.control('POST', '/sim/bills/config', { wrongHashes: -1 })).toThrow(HttpError);
    const wrong = json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22&tar_type=GZIP'));
    const served = gunzipSync(await download(room, wrong.download_url));
    expect(wrong.hash_value).toMatch(/^[0-9a-f]{40}$/);
    expect(wrong.hash_value).not.toBe(sha1(served));
    const right = json(await call(room, '/v3/bill/tradebill?bill_date=2026-11-22&tar_type=GZIP'));
    expect(right.hash_value).toBe(sha1(gunzipSync(await download(room, right.download_url))));
    expect(room.wrongHashes).toBe(0);
  });
});

describe('scale', () => {
  it('builds a 100,000-row gzip bill from a synthetic day whose payments a benchmark can reproduce', async () => {
    const args = { date: '2026-11-22', count: 100_000, appid: APPID, mchid: MCHID };
    const payments: BillPayment[] = [...syntheticPayments(args)];
    const digest = (list: BillPayment[]) => createHash('sha1').update(JSON.stringify(list)).digest('hex');
    expect(digest([...syntheticPayments(args)])).toBe(digest(payments)); // the same call, the same day
    expect(new Set(payments.map((p) => p.outTradeNo)).size).toBe(100_000);
    const start = chinaDayStart('2026-11-22')!;
    expect(
      payments.every(
        (p) =>
          p.successTime >= start &&
          p.successTime < start + 86_400_000 &&
          Number.isSafeInteger(p.totalFen) &&
          p.totalFen >= 1,
      ),
    ).toBe(true);
    const ledger: BillLedger = {
      paymentsSucceededBetween: async () => payments,
      refundsCreatedBetween: async () => [],
    };
    const room = new BillsRoom({ ledger, clock: () => now, baseUrl: () => BASE, appid: APPID, mchid: MCHID });
    const file = await room.buildTradeBill('2026-11-22', 'ALL', { gzip: true });
    const plain = gunzipSync(file!.bytes);
    expect(sha1(plain)).toBe(file!.sha1);
    const text = plain.toString('utf8');
    expect(file!.lines).toBe(100_003); // header, rows, summary header, summary
    const totalFen = payments.reduce((sum, p) => sum + p.totalFen, 0);
    const fees = payments.reduce((sum, p) => sum + feeFen(p.totalFen, 60), 0);
    expect(lines(text).at(-2)).toBe(
      `\`100000,\`${fenToYuan(totalFen)},\`0.00,\`0.00,\`${fenToYuan5(fees)},\`${fenToYuan(totalFen)},\`0.00`,
    );
  });
});
