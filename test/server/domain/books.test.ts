/**
 * The books job on the in-memory harness, against the simulator's bills room itself (its bill files, download links,
 * clock rules and bill faults) standing in for WeChat Pay's bill endpoints: the harness's scripted client hands the
 * application and the download to the room. WeChat Pay's own ledger is a list the test keeps beside the books.
 */
import { createHash } from 'node:crypto';
import {
  BillComparison,
  refundStateAgrees,
  type BooksRefund,
} from '../../../cloudfunctions/common/domain/books/bill-compare';
import {
  BILL_RETRY_MS,
  booksTimer,
  RUN_BUDGET_MS,
  runBillDay,
} from '../../../cloudfunctions/common/domain/books/books';
import type { Alert, AlertSink } from '../../../cloudfunctions/common/domain/deps';
import { exceptionId, type ExceptionDoc } from '../../../cloudfunctions/common/domain/attention/exceptions';
import type { OrderDoc, PaymentDoc, RefundDoc } from '../../../cloudfunctions/common/domain/records';
import { toStatementView, type StatementDoc } from '../../../cloudfunctions/common/domain/books/statements';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import {
  rfc3339,
  WechatPayApiError,
  type TradeBillRow,
  type Transaction,
} from '../../../cloudfunctions/common/wechatpay';
import { HttpError } from '../../../localcloud/http';
import {
  BillsRoom,
  recordsLedger,
  type LedgerRefundRecord,
  type LedgerTransactionRecord,
} from '../../../localcloud/wechatpay-sim/bills';
import {
  APPID,
  BUYER,
  createHarness,
  getOrder,
  getPayment,
  MCHID,
  seedPaidOrder,
  seedUnpaidOrder,
  T0,
  type Harness,
} from './harness';

const DAY = '2026-03-01'; // T0 is 10:00 on this day, China time
const NEXT_MORNING = Date.parse('2026-03-02T10:30:00+08:00');

let h: Harness;
let ledger: { txs: LedgerTransactionRecord[]; refunds: LedgerRefundRecord[] };
let room: BillsRoom;

/** WeChat Pay's answer to a room call, as the real client would raise it. */
function asApiError(error: unknown): unknown {
  return error instanceof HttpError
    ? new WechatPayApiError(error.status, error.code, error.message, error.detail, 'ROOM')
    : error;
}

async function callRoom(pathAndQuery: string) {
  const url = new URL(pathAndQuery, 'http://sim');
  return room
    .route('GET', url.pathname)!
    .run(url)
    .catch((e: unknown) => Promise.reject(asApiError(e)));
}

/** A fresh harness, database, WeChat Pay ledger and bills room (a test that builds a day twice calls it again). */
function setUp(): void {
  h = createHarness();
  ledger = { txs: [], refunds: [] };
  room = new BillsRoom({
    ledger: recordsLedger({ transactions: async () => ledger.txs, refunds: async () => ledger.refunds }),
    clock: () => h.now(),
    baseUrl: () => 'http://sim',
    appid: APPID,
    mchid: MCHID,
  });
  h.wx.applyTradeBill.fallback = async (request) => {
    const answer = await callRoom(
      `/v3/bill/tradebill?bill_date=${request.bill_date}&bill_type=${request.bill_type}&tar_type=${request.tar_type}`,
    );
    return (answer as { body: { download_url: string; hash_type: string; hash_value: string } }).body;
  };
  h.wx.downloadBill.fallback = async (downloadUrl) => {
    const url = new URL(downloadUrl);
    const answer = (await callRoom(url.pathname + url.search)) as { raw: Buffer };
    return {
      body: (async function* () {
        yield answer.raw;
      })(),
      requestId: 'ROOM',
    };
  };
  // what WeChat Pay answers a query: from its ledger
  h.wx.queryByOutTradeNo.fallback = async (outTradeNo) => {
    const tx = ledger.txs.find((t) => t._id === outTradeNo);
    if (!tx) throw new WechatPayApiError(404, 'ORDER_NOT_EXIST', '订单不存在', undefined, 'ROOM');
    return txView(tx);
  };
}
beforeEach(setUp);
afterEach(() => h.close());

function txView(tx: LedgerTransactionRecord): Transaction {
  return {
    appid: tx.appid,
    mchid: tx.mchid,
    out_trade_no: tx._id,
    trade_state: tx.trade_state as Transaction['trade_state'],
    ...(tx.transaction_id
      ? { transaction_id: tx.transaction_id, success_time: tx.success_time!, trade_type: 'JSAPI', bank_type: 'OTHERS' }
      : {}),
    attach: tx.attach ?? '',
    payer: { openid: tx.payer.openid },
    amount: { total: tx.amount.total, payer_total: tx.amount.total, currency: 'CNY', payer_currency: 'CNY' },
  };
}

/** WeChat Pay's record of a payment that succeeded at `at`. */
function wechatPaid(
  outTradeNo: string,
  orderId: string,
  totalFen: number,
  at: number,
  transactionId = `4200${orderId}`,
): void {
  ledger.txs.push({
    _id: outTradeNo,
    appid: APPID,
    mchid: MCHID,
    description: '拿铁',
    attach: orderId,
    payer: { openid: BUYER },
    amount: { total: totalFen },
    trade_state: 'SUCCESS',
    transaction_id: transactionId,
    success_time: rfc3339(at),
  });
}

/** A paid order in the books and in WeChat Pay's ledger, paid `minutes` after T0 (or at `at`). */
async function paid(totalFen: number, minutes = 0, at = T0 + minutes * 60_000): Promise<OrderDoc> {
  const saved = h.now();
  h.advance(at - saved);
  const order = await seedPaidOrder(h, totalFen);
  h.advance(saved - at);
  wechatPaid(order.paidOutTradeNo!, order._id, totalFen, at, order.transactionId);
  return order;
}

/** A refund of an order, in the books and at WeChat Pay, created (and accepted) at T0 + `minutes`. */
async function refunded(
  order: OrderDoc,
  amountFen: number,
  status: 'success' | 'processing' | 'closed',
  minutes = 30,
  acceptedAt?: number,
  at = T0 + minutes * 60_000,
): Promise<RefundDoc> {
  const refund: RefundDoc = {
    _id: `${order._id}-R${amountFen}`,
    kind: 'order',
    orderId: order._id,
    outTradeNo: order.paidOutTradeNo!,
    openid: BUYER,
    amountFen,
    totalFen: order.paidFen,
    reason: '测试',
    requestedBy: 'admin',
    requestedByOpenid: 'o-admin-openid-01',
    status,
    refundId: `5030${order._id}${amountFen}`,
    nextAttemptAt: at + 60_000,
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    ...(status === 'success' || status === 'closed' ? { settledAt: at + 5000 } : {}),
  };
  await h.store.insert(COLLECTIONS.refunds, refund);
  ledger.refunds.push({
    _id: refund._id,
    refund_id: refund.refundId!,
    out_trade_no: refund.outTradeNo,
    amount: { refund: amountFen },
    status: status === 'success' ? 'SUCCESS' : status === 'closed' ? 'CLOSED' : 'PROCESSING',
    create_time: rfc3339(acceptedAt ?? at),
    ...(status === 'success' ? { success_time: rfc3339((acceptedAt ?? at) + 5000) } : {}),
  });
  return refund;
}

const statement = async () => (await h.store.getById<StatementDoc>(COLLECTIONS.statements, DAY))!;
const billExceptions = async () =>
  (await h.store.find<ExceptionDoc>(COLLECTIONS.exceptions, { kind: 'bill_difference' }, { limit: 100 })).sort((a, b) =>
    a._id.localeCompare(b._id),
  );
const run = () => runBillDay(h.deps, DAY, { by: 'test' });
const toNextMorning = () => h.advance(NEXT_MORNING - h.now());

describe('a clean day', () => {
  it('has the bill’s totals on both sides, equal to the summary row, no differences and no exceptions', async () => {
    const a = await paid(1990, 1);
    await paid(1, 2);
    const c = await paid(123456, 3);
    await refunded(a, 990, 'success');
    await refunded(c, 456, 'closed', 40);
    toNextMorning();
    const view = await run();
    expect(view).toMatchObject({
      billDate: DAY,
      status: 'done',
      differenceCount: 0,
      healedCount: 0,
      openCount: 0,
      differences: [],
      runs: 1,
    });
    // the bill's side is read from the rows and held to the summary row (the parser refuses a file where they differ)
    const fees = [1990, 1, 123456].map((f) => Math.floor((f * 60 + 5000) / 10000));
    const refundFees = [990, 456].map((f) => Math.floor((f * 60 + 5000) / 10000));
    const fee = fees.reduce((x, y) => x + y) - refundFees.reduce((x, y) => x + y);
    expect(view.bill).toMatchObject({
      paymentCount: 3,
      refundCount: 2,
      grossFen: 125447,
      refundFen: 1446,
      feeFen: fee,
      settlementFen: 125447,
      feeMilliFen: fee * 1000,
      rows: 5,
    });
    expect(view.bill!.netFen).toBe(125447 - 1446 - fee);
    expect(view.books).toEqual({
      paymentCount: 3,
      refundCount: 2,
      grossFen: 125447,
      refundFen: 1446,
      feeFen: fee,
      netFen: 125447 - 1446 - fee,
    });
    expect(await billExceptions()).toEqual([]);
    expect(h.unscripted).toEqual([]);
    // the digest the statement keeps is the original bill's
    const file = await room.buildTradeBill(DAY, 'ALL');
    expect(view.bill!.sha1).toBe(createHash('sha1').update(file!.bytes).digest('hex'));
  });
});

describe('each bill fault yields exactly its difference and one exception', () => {
  let a: OrderDoc;
  let b: OrderDoc;
  beforeEach(async () => {
    a = await paid(1990, 1);
    b = await paid(500, 2);
    await refunded(a, 990, 'success');
    toNextMorning();
  });

  it('a payment row missing: settled here, not in the bill (WeChat Pay’s query still says SUCCESS)', async () => {
    room.faults.add({ kind: 'ROW_MISSING', outTradeNo: b.paidOutTradeNo!, billDate: DAY });
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_in_bill',
        subject: 'payment',
        outTradeNo: b.paidOutTradeNo,
        orderId: b._id,
        booksFen: 500,
        detail: expect.stringContaining('SUCCESS'),
      }),
    ]);
    expect(view).toMatchObject({ differenceCount: 1, openCount: 1, healedCount: 0 });
    const [exception] = await billExceptions();
    expect(await billExceptions()).toHaveLength(1);
    expect(exception).toMatchObject({
      _id: `bill_difference:${DAY}|missing_in_bill|${b.paidOutTradeNo}`,
      status: 'open',
      orderId: b._id,
      expectedFen: 500,
    });
    expect(view.books!.grossFen - view.bill!.grossFen).toBe(500);
  });

  it('an extra row: in the bill, unknown here; the query finds nothing to settle', async () => {
    room.faults.add({ kind: 'EXTRA_ROW', outTradeNo: 'EXTRA20260301X', amountFen: 777, billDate: DAY });
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_here',
        subject: 'payment',
        outTradeNo: 'EXTRA20260301X',
        billFen: 777,
        detail: expect.stringContaining('not_found'),
      }),
    ]);
    expect(view.differences[0]!.healed).toBeUndefined();
    expect((await billExceptions()).map((e) => e._id)).toEqual([`bill_difference:${DAY}|missing_here|EXTRA20260301X`]);
    expect(h.wx.queryByOutTradeNo.calls).toEqual(['EXTRA20260301X']);
  });

  it('an amount changed', async () => {
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: a.paidOutTradeNo!, amountFen: 1999, billDate: DAY });
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'amount_differs',
        subject: 'payment',
        outTradeNo: a.paidOutTradeNo,
        billFen: 1999,
        booksFen: 1990,
      }),
    ]);
    expect((await billExceptions()).map((e) => [e._id, e.expectedFen, e.actualFen])).toEqual([
      [`bill_difference:${DAY}|amount_differs|${a.paidOutTradeNo}`, 1990, 1999],
    ]);
  });

  it('a refund state changed: SUCCESS here, REFUNDCLOSE in the bill', async () => {
    room.faults.add({ kind: 'REFUND_STATE_CHANGED', outRefundNo: `${a._id}-R990`, billDate: DAY });
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'refund_state_differs',
        subject: 'refund',
        outRefundNo: `${a._id}-R990`,
        billState: 'REFUNDCLOSE',
        booksState: 'success',
        orderId: a._id,
      }),
    ]);
    expect((await billExceptions()).map((e) => e._id)).toEqual([
      `bill_difference:${DAY}|refund_state_differs|${a._id}-R990`,
    ]);
  });

  it.each(['SEPARATOR_IN_NAME', 'GZIP_TRUNCATED'] as const)(
    '%s: no download reads the file; the day stays uncompared, retried, with one exception and its alert',
    async (kind) => {
      const alerts: Alert[] = [];
      (h.deps as { alerts?: AlertSink }).alerts = { raise: async (alert) => void alerts.push(alert) };
      room.faults.add({ kind, outTradeNo: a.paidOutTradeNo!, billDate: DAY });
      const view = await run();
      expect(view).toMatchObject({
        status: 'failed',
        lastError: expect.stringContaining('MALFORMED'),
        nextAttemptAt: h.now() + BILL_RETRY_MS,
      });
      expect(view.differences).toEqual([]);
      expect(h.wx.downloadBill.calls).toHaveLength(3);
      expect((await billExceptions()).map((e) => e._id)).toEqual([`bill_difference:${DAY}|unreadable`]);
      expect(alerts).toHaveLength(1);
    },
  );

  it('run twice: one statement, the same exceptions seen again, none duplicated; cleared ones resolve on the next run', async () => {
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: a.paidOutTradeNo!, amountFen: 1999, billDate: DAY });
    await run();
    const second = await run();
    expect(second).toMatchObject({ runs: 2, differenceCount: 1 });
    expect(await h.store.countWhere(COLLECTIONS.statements, {})).toBe(1);
    const exceptions = await billExceptions();
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ status: 'open', occurrences: 2 });
    room.faults.clear();
    const third = await run();
    expect(third).toMatchObject({ runs: 3, differenceCount: 0, differences: [] });
    expect((await billExceptions())[0]).toMatchObject({
      status: 'resolved',
      resolvedBy: 'system',
      resolution: { action: 'cleared_on_rerun' },
    });
  });
});

describe('healing and the attacker’s order', () => {
  it('a payment WeChat Pay took but still pending here is settled by query through the notification’s settlement, and recorded as healed', async () => {
    await paid(1990, 1);
    const { order, payments } = await seedUnpaidOrder(h, 3300);
    wechatPaid(payments[0]!._id, order._id, 3300, T0 + 5 * 60_000);
    toNextMorning();
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_here',
        subject: 'payment',
        outTradeNo: payments[0]!._id,
        orderId: order._id,
        billFen: 3300,
        booksFen: 3300,
        healed: expect.stringContaining('paid'),
      }),
    ]);
    expect(view).toMatchObject({ healedCount: 1, openCount: 0 });
    expect(await getOrder(h, order._id)).toMatchObject({
      status: 'paid',
      paidFen: 3300,
      paidOutTradeNo: payments[0]!._id,
    });
    expect(await getPayment(h, payments[0]!._id)).toMatchObject({
      status: 'success',
      settledVia: 'bill',
      paidAt: T0 + 5 * 60_000,
    });
    expect(await billExceptions()).toEqual([]);
    // both sides now agree on the day's totals
    expect(view.books).toMatchObject({ paymentCount: 2, grossFen: 5290 });
    expect(view.bill).toMatchObject({ paymentCount: 2, grossFen: 5290 });
  });

  it('a payment not settled here listed twice: settled by query once, the second row a duplicate, counted once', async () => {
    await paid(1990, 1);
    const { order, payments } = await seedUnpaidOrder(h, 3300);
    wechatPaid(payments[0]!._id, order._id, 3300, T0 + 5 * 60_000);
    ledger.txs.push({ ...ledger.txs.at(-1)! });
    toNextMorning();
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({ kind: 'missing_here', outTradeNo: payments[0]!._id, healed: expect.any(String) }),
      expect.objectContaining({
        kind: 'duplicate_row',
        subject: 'payment',
        outTradeNo: payments[0]!._id,
        billFen: 3300,
      }),
    ]);
    expect(h.wx.queryByOutTradeNo.calls).toEqual([payments[0]!._id]);
    expect(view.books).toMatchObject({ paymentCount: 2, grossFen: 5290 });
    expect(view.bill).toMatchObject({ paymentCount: 3, grossFen: 8590 });
    expect((await billExceptions()).map((e) => e._id)).toEqual([
      `bill_difference:${DAY}|duplicate_row|${payments[0]!._id}`,
    ]);
  });

  it('a payment not settled here listed at another amount: settled by query, then its row held to what was settled', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 3300);
    wechatPaid(payments[0]!._id, order._id, 3300, T0 + 5 * 60_000);
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: payments[0]!._id, amountFen: 3399, billDate: DAY });
    toNextMorning();
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({ kind: 'missing_here', outTradeNo: payments[0]!._id, healed: expect.any(String) }),
      expect.objectContaining({ kind: 'amount_differs', outTradeNo: payments[0]!._id, billFen: 3399, booksFen: 3300 }),
    ]);
    expect(view).toMatchObject({ healedCount: 1, openCount: 1 });
    expect((await billExceptions()).map((e) => [e._id, e.expectedFen, e.actualFen])).toEqual([
      [`bill_difference:${DAY}|amount_differs|${payments[0]!._id}`, 3300, 3399],
    ]);
  });

  it('a bill no download can parse (a product name holding the separator) opens an exception and raises its alert at once; a later readable bill resolves it', async () => {
    const alerts: Alert[] = [];
    (h.deps as { alerts?: AlertSink }).alerts = { raise: async (alert) => void alerts.push(alert) };
    const order = await paid(1990, 1);
    ledger.txs.find((t) => t._id === order.paidOutTradeNo)!.description = '拿铁,`大杯';
    toNextMorning();
    const view = await run();
    expect(view).toMatchObject({ status: 'failed', lastError: expect.stringContaining('MALFORMED') });
    expect(h.wx.downloadBill.calls).toHaveLength(3);
    const id = `bill_difference:${DAY}|unreadable`;
    expect((await billExceptions()).map((e) => [e._id, e.status])).toEqual([[id, 'open']]);
    expect(alerts.map((a) => a.cause)).toEqual([`exception:${id}`]);
    // the product renamed, the bill reads: the exception is resolved by the run that compared it
    ledger.txs.find((t) => t._id === order.paidOutTradeNo)!.description = '拿铁';
    h.advance(BILL_RETRY_MS);
    expect(await run()).toMatchObject({ status: 'done', differenceCount: 0 });
    expect((await billExceptions()).map((e) => [e._id, e.status])).toEqual([[id, 'resolved']]);
  });

  it('an order marked paid here while WeChat Pay says NOTPAY is reported, with WeChat Pay’s word for it', async () => {
    await paid(1990, 1);
    const { order, payments } = await seedUnpaidOrder(h, 8800);
    ledger.txs.push({
      _id: payments[0]!._id,
      appid: APPID,
      mchid: MCHID,
      description: '拿铁',
      attach: order._id,
      payer: { openid: BUYER },
      amount: { total: 8800 },
      trade_state: 'NOTPAY',
    });
    // marked paid without WeChat Pay's word: the order alone, as an attacker with database access would
    await h.store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id },
      { status: 'paid', paidFen: 8800, refundableFen: 8800, paidAt: T0 + 6 * 60_000, paidOutTradeNo: payments[0]!._id },
    );
    toNextMorning();
    const view = await run();
    expect(view.differences).toEqual([
      expect.objectContaining({
        kind: 'missing_in_bill',
        subject: 'payment',
        outTradeNo: payments[0]!._id,
        orderId: order._id,
        booksFen: 8800,
        detail: expect.stringContaining('NOTPAY'),
      }),
    ]);
    expect((await billExceptions()).map((e) => [e._id, e.status, e.orderId])).toEqual([
      [`bill_difference:${DAY}|missing_in_bill|${payments[0]!._id}`, 'open', order._id],
    ]);
  });

  it('a day WeChat Pay has no trades for, while the books say paid: NO_STATEMENT_EXIST stops the retries and reports the books', async () => {
    const { order, payments } = await seedUnpaidOrder(h, 100);
    await h.store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id },
      { status: 'paid', paidFen: 100, paidAt: T0, paidOutTradeNo: payments[0]!._id },
    );
    ledger.txs.push({
      _id: payments[0]!._id,
      appid: APPID,
      mchid: MCHID,
      description: '拿铁',
      payer: { openid: BUYER },
      amount: { total: 100 },
      trade_state: 'NOTPAY',
    });
    toNextMorning();
    const view = await run();
    expect(view).toMatchObject({
      status: 'no_statement',
      differenceCount: 1,
      bill: { rows: 0, grossFen: 0 },
      books: { paymentCount: 1, grossFen: 100 },
    });
    expect(view.nextAttemptAt).toBeUndefined();
  });
});

describe('WeChat Pay’s bill answers', () => {
  it('STATEMENT_CREATING before 10:00: retried 30 minutes later by the timer, then compared', async () => {
    await paid(1990, 1);
    h.advance(Date.parse('2026-03-02T09:55:00+08:00') - h.now());
    const creating = await run();
    expect(creating).toMatchObject({
      status: 'creating',
      attempts: 1,
      lastError: expect.stringContaining('STATEMENT_CREATING'),
      nextAttemptAt: h.now() + 30 * 60_000,
    });
    // the timer runs from 10:00; it waits for nextAttemptAt
    h.advance(10 * 60_000);
    expect(await booksTimer(h.deps)).toMatchObject({ billDate: DAY, bill: 'skipped' });
    h.advance(20 * 60_000);
    expect(await booksTimer(h.deps)).toMatchObject({ billDate: DAY, bill: 'done' });
    expect(await statement()).toMatchObject({ status: 'done', attempts: 2, differenceCount: 0 });
    expect((await statement()).nextAttemptAt).toBeUndefined();
    expect(h.wx.applyTradeBill.calls).toHaveLength(2);
  });

  it('NO_STATEMENT_EXIST with nothing in the books: no statement to make, nothing to report, never asked again', async () => {
    toNextMorning();
    expect(await run()).toMatchObject({ status: 'no_statement', differenceCount: 0 });
    h.advance(60 * 60_000);
    expect(await booksTimer(h.deps)).toMatchObject({ bill: 'skipped' });
    expect(h.wx.applyTradeBill.calls).toHaveLength(1);
  });

  it('an expired download link is applied for again', async () => {
    await paid(1990, 1);
    toNextMorning();
    h.wx.applyTradeBill.answer(async (request) => {
      const answer = await h.wx.applyTradeBill.fallback!(request);
      h.advance(31_000); // the link lives 30 s
      return answer;
    });
    const view = await run();
    expect(view).toMatchObject({ status: 'done', attempts: 2, differenceCount: 0 });
    expect(h.wx.applyTradeBill.calls).toHaveLength(2);
    expect(h.wx.downloadBill.calls).toHaveLength(2);
  });

  it('a file whose SHA1 is not the one applied for is refused, and the bill fetched again', async () => {
    const a = await paid(1990, 1);
    toNextMorning();
    h.wx.applyTradeBill.answer(async (request) => ({
      ...(await h.wx.applyTradeBill.fallback!(request)),
      hash_value: '0'.repeat(40),
    }));
    const view = await run();
    expect(view).toMatchObject({ status: 'done', attempts: 2, differenceCount: 0 });
    // nothing of the refused file was acted on: no exception, nothing settled twice
    expect(await billExceptions()).toEqual([]);
    expect(await getOrder(h, a._id)).toMatchObject({ status: 'paid' });
    // every attempt refused: the day is failed and retried later; nothing acted on
    h.wx.applyTradeBill.answer(
      ...[1, 2, 3].map(() => async (request: Parameters<NonNullable<typeof h.wx.applyTradeBill.fallback>>[0]) => ({
        ...(await h.wx.applyTradeBill.fallback!(request)),
        hash_value: '0'.repeat(40),
      })),
    );
    const failed = await runBillDay(h.deps, '2026-03-01', { by: 'test' });
    // a day already compared keeps its statement
    expect(failed).toMatchObject({ status: 'done', lastError: expect.stringContaining('DIGEST_MISMATCH'), runs: 1 });
  });
});

describe('the books timer', () => {
  it('does nothing with the bill before 10:00, alerts at noon when yesterday has no statement, and rolls up yesterday', async () => {
    await paid(1990, 1);
    h.advance(Date.parse('2026-03-02T09:00:00+08:00') - h.now());
    expect(await booksTimer(h.deps)).toMatchObject({
      billDate: DAY,
      bill: 'skipped',
      metrics: 'rolled_up',
      alerts: [],
    });
    expect(h.wx.applyTradeBill.calls).toHaveLength(0);
    // WeChat Pay fails all morning
    h.wx.applyTradeBill.fallback = async () => {
      throw new WechatPayApiError(500, 'SYSTEM_ERROR', '系统错误', undefined, 'X');
    };
    h.advance(3 * 3600_000); // 12:00
    const noon = await booksTimer(h.deps);
    expect(noon).toMatchObject({ bill: 'failed', alerts: [`bill_missing:${DAY}`] });
    expect(await statement()).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('SYSTEM_ERROR'),
      nextAttemptAt: h.now() + 30 * 60_000,
    });
  });
});

describe('exceptions the job opens', () => {
  it('a fault on the next bill only: the exception it opened is resolved when a re-run finds the day clean', async () => {
    const a = await paid(1990, 1);
    toNextMorning();
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: a.paidOutTradeNo!, amountFen: 1 });
    await run();
    expect(
      await h.store.getById<ExceptionDoc>(
        COLLECTIONS.exceptions,
        exceptionId('bill_difference', `${DAY}|amount_differs|${a.paidOutTradeNo}`),
      ),
    ).toMatchObject({ status: 'open', actualFen: 1 });
    // the rule was for the next bill only: a re-run finds the day clean and resolves it
    await run();
    expect((await billExceptions())[0]).toMatchObject({ status: 'resolved' });
    expect(await h.store.find<PaymentDoc>(COLLECTIONS.payments, {}, { limit: 10 })).toHaveLength(1);
  });
});

describe('runs and lookups', () => {
  it('two runs of one day at once: one compares, the other is told the day is busy', async () => {
    await paid(1990, 1);
    toNextMorning();
    const first = run();
    h.advance(1);
    const results = await Promise.allSettled([first, run()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
    expect(await statement()).toMatchObject({ runs: 1, status: 'done' });
    // the lease is given back: the next run goes ahead
    expect(await run()).toMatchObject({ runs: 2 });
  });

  it('a run that dies before writing its outcome leaves the day to the next timer run once its lease lapses', async () => {
    await paid(1990, 1);
    toNextMorning();
    h.wx.downloadBill.answer(new TypeError('the function died here'));
    await expect(run()).rejects.toThrow('the function died here');
    expect(await statement()).toMatchObject({ status: 'creating', lastError: expect.stringContaining('died') });
    h.advance(10 * 60_000);
    expect(await booksTimer(h.deps)).toMatchObject({ bill: 'done' });
    expect(await statement()).toMatchObject({ status: 'done', differenceCount: 0 });
  });

  it('a bill row whose payment is settled here but not filed under the day is matched by looking it up, not healed again', async () => {
    const a = await paid(1990, 1);
    await h.store.updateWhere(COLLECTIONS.orders, { _id: a._id }, { paidAt: h.store.command.remove() });
    toNextMorning();
    expect(await run()).toMatchObject({ differenceCount: 0, books: { paymentCount: 1, grossFen: 1990 } });
    expect(h.wx.queryByOutTradeNo.calls).toEqual([]);
  });
});

describe('day boundaries (00:00 China time)', () => {
  it('a payment at 00:00:00 of the next day is the next day’s, one at 23:59:59 this day’s, in the books as in the bill', async () => {
    const first = await paid(100, -600); // 00:00:00 this day (T0 is 10:00)
    const last = await paid(200, 0, Date.parse('2026-03-01T23:59:59+08:00'));
    await paid(300, 14 * 60); // 00:00:00 the next day
    toNextMorning();
    const view = await run();
    expect(view).toMatchObject({
      status: 'done',
      differenceCount: 0,
      bill: { paymentCount: 2, grossFen: 300 },
      books: { paymentCount: 2, grossFen: 300 },
    });
    expect([first.paidAt, last.paidAt]).toEqual([
      Date.parse('2026-03-01T00:00:00+08:00'),
      Date.parse('2026-03-01T23:59:59+08:00'),
    ]);
  });

  it('a refund recorded just before midnight and accepted after it is the next day’s; one recorded the evening before and accepted on the day is the day’s', async () => {
    const a = await paid(5000, -700); // 22:20 the day before
    const b = await paid(4000, 60);
    // recorded here 23:55 the day before, accepted by WeChat Pay at 00:00:30 on the day
    await refunded(a, 1000, 'success', -605, Date.parse('2026-03-01T00:00:30+08:00'));
    // recorded here 23:59:50 on the day, accepted at 00:00:10 the next day
    await refunded(
      b,
      500,
      'processing',
      0,
      Date.parse('2026-03-02T00:00:10+08:00'),
      Date.parse('2026-03-01T23:59:50+08:00'),
    );
    h.wx.queryRefund.fallback = async (outRefundNo) => {
      const r = ledger.refunds.find((x) => x._id === outRefundNo)!;
      return {
        refund_id: r.refund_id,
        out_refund_no: r._id,
        out_trade_no: r.out_trade_no,
        transaction_id: '',
        status: r.status,
        create_time: r.create_time,
        amount: { refund: r.amount.refund, total: 0 },
      };
    };
    toNextMorning();
    const view = await run();
    expect(view).toMatchObject({
      status: 'done',
      differenceCount: 0,
      bill: { paymentCount: 1, refundCount: 1, refundFen: 1000 },
      books: { paymentCount: 1, refundCount: 1, refundFen: 1000 },
    });
    expect(h.wx.queryRefund.calls).toEqual([`${b._id}-R500`]);
  });
});

describe('comparison rules', () => {
  const snapshot = Date.parse('2026-03-02T09:00:00+08:00');
  const books = (
    status: BooksRefund['status'],
    movedAt?: number,
  ): Pick<BooksRefund, 'status' | 'settledAt' | 'abnormalAt'> => ({
    status,
    ...(movedAt !== undefined && status !== 'abnormal' ? { settledAt: movedAt } : {}),
    ...(movedAt !== undefined && status === 'abnormal' ? { abnormalAt: movedAt } : {}),
  });

  it.each([
    ['SUCCESS', books('success', snapshot - 1), true],
    ['SUCCESS', books('processing'), false],
    ['SUCCESS', books('closed', snapshot - 1), false],
    ['REFUNDCLOSE', books('closed', snapshot - 1), true],
    ['REFUNDCLOSE', books('failed', snapshot - 1), true],
    ['REFUNDCLOSE', books('success', snapshot + 1), false],
    ['PROCESSING', books('processing'), true],
    ['PROCESSING', books('unknown'), true],
    ['PROCESSING', books('success', snapshot + 1), true], // finished after the bill was made
    ['PROCESSING', books('success', snapshot), false], // finished by the snapshot: the bill would say SUCCESS
    ['PROCESSING', books('closed', snapshot + 1), true],
    ['PROCESSING', books('abnormal', snapshot + 1), true],
    ['PROCESSING', books('abnormal', snapshot - 1), false],
    ['CHANGE', books('abnormal', snapshot - 1), true],
    ['CHANGE', books('success', snapshot + 1), true], // handled after the bill was made
    ['CHANGE', books('success', snapshot - 1), false],
    ['CHANGE', books('processing'), false],
    ['SOMETHING_NEW', books('success', snapshot - 1), false],
  ])('bill %s against the books’ %o: agrees %s', (billState, b, agrees) => {
    expect(refundStateAgrees(billState, b, snapshot)).toBe(agrees);
  });

  const row = (over: Partial<TradeBillRow>): TradeBillRow => ({
    kind: 'payment',
    time: T0,
    appid: APPID,
    mchid: MCHID,
    transactionId: '4200X',
    outTradeNo: 'T1',
    openid: BUYER,
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'OTHERS',
    currency: 'CNY',
    settlementFen: 100,
    couponFen: 0,
    refundId: '0',
    outRefundNo: '',
    refundFen: 0,
    rechargeRefundFen: 0,
    refundType: '',
    refundStatus: '',
    description: '',
    attach: '',
    feeMilliFen: 1000,
    rateBp: 60,
    orderFen: 100,
    refundApplyFen: 0,
    ...over,
  });

  it('a payment or refund the bill lists twice is a difference of its own; amounts are compared to the fen', () => {
    const refund: BooksRefund = {
      outRefundNo: 'R1',
      outTradeNo: 'T1',
      orderId: 'T',
      amountFen: 50,
      status: 'success',
      createdAt: T0,
      settledAt: T0,
      inDay: true,
    };
    const c = new BillComparison(
      new Map([
        ['T1', 100],
        ['T2', 201],
      ]),
      new Map([['R1', refund]]),
      snapshot,
    );
    c.row(row({}));
    c.row(row({}));
    c.row(row({ outTradeNo: 'T2', orderFen: 200 }));
    const r = row({
      kind: 'refund',
      tradeState: 'REFUND',
      outRefundNo: 'R1',
      refundFen: 51,
      refundStatus: 'SUCCESS',
      orderFen: 0,
      settlementFen: 0,
    });
    c.row(r);
    c.row(r);
    expect(c.differences.map((d) => [d.kind, d.subject, d.outRefundNo ?? d.outTradeNo, d.billFen, d.booksFen])).toEqual(
      [
        ['duplicate_row', 'payment', 'T1', 100, undefined],
        ['amount_differs', 'payment', 'T2', 200, 201],
        ['amount_differs', 'refund', 'R1', 51, 50],
        ['duplicate_row', 'refund', 'R1', 51, undefined],
      ],
    );
    expect(c.refundStates).toEqual([]);
    expect(c.missingFromBill()).toEqual({ payments: [], refunds: [] });
  });
});

describe('a day compared a slice at a time (order ids in runs of `sliceRows`), resumed across runs', () => {
  const SLICE_ROWS = 40;
  // two slices end at 38 s, within the run's 40 s for queries (healing as the whole run does); a third would end at 57 s
  const SLICE_MS = 19_000;

  /**
   * 150 paid orders, refunds, and one of each fault and heal spread over the day's order ids: a payment row missing,
   * an amount changed, a refund state changed, a row naming no order, a payment pending here that WeChat Pay took.
   */
  async function busyDay(): Promise<string[]> {
    const orders: OrderDoc[] = [];
    for (let i = 0; i < 150; i++) orders.push(await paid(100 + i * 7, (i * 3) % 800));
    for (const i of [3, 47, 88, 120]) await refunded(orders[i]!, 50, 'success');
    await refunded(orders[130]!, 60, 'success');
    const { order, payments } = await seedUnpaidOrder(h, 3300);
    wechatPaid(payments[0]!._id, order._id, 3300, T0 + 5 * 60_000);
    room.faults.add({ kind: 'ROW_MISSING', outTradeNo: orders[10]!.paidOutTradeNo!, billDate: DAY });
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: orders[95]!.paidOutTradeNo!, amountFen: 1, billDate: DAY });
    room.faults.add({ kind: 'REFUND_STATE_CHANGED', outRefundNo: `${orders[130]!._id}-R60`, billDate: DAY });
    // a row naming no order (the room's EXTRA_ROW fault is random, a new file at each download)
    wechatPaid('EXTRA20260301X', 'none', 777, T0 + 60 * 60_000);
    toNextMorning();
    return [...orders.map((o) => o._id), order._id];
  }

  /** The statement and the day's exceptions with the order ids made positions, so two built days compare. */
  async function outcome(ids: string[]) {
    const view = toStatementView(await statement());
    const exceptions = (await billExceptions()).map(({ _id, status, detail }) => ({ _id, status, detail }));
    const positions = (text: string) =>
      ids.reduce((t, id, i) => t.split(id).join(`#${i}`), text.replace(/"exceptionId":"[^"]*",?/g, ''));
    const differences = view.differences.map((d) => positions(JSON.stringify(d))).sort();
    return {
      ...JSON.parse(
        positions(
          JSON.stringify({
            status: view.status,
            // the digest aside: the two days' order ids, and so their files, differ
            bill: { ...view.bill, sha1: undefined },
            books: view.books,
            differenceCount: view.differenceCount,
            healedCount: view.healedCount,
            openCount: view.openCount,
            runs: view.runs,
          }),
        ),
      ),
      differences,
      exceptions: exceptions.map((e) => positions(JSON.stringify(e))).sort(),
    };
  }

  /** Each download costs SLICE_MS on the domain's clock: a slice's time, as a run sees it. */
  function slicesTakeTime(): void {
    const download = h.wx.downloadBill.fallback!;
    h.wx.downloadBill.fallback = async (url) => {
      h.advance(SLICE_MS);
      return download(url);
    };
  }

  const sliced = () => runBillDay(h.deps, DAY, { by: 'test', sliceRows: SLICE_ROWS });

  it('gives exactly the statement one whole run gives, over separate runs each stopping within its budget', async () => {
    let ids = await busyDay();
    await run();
    const whole = await outcome(ids);
    expect(whole).toMatchObject({ status: 'done', differenceCount: 5, healedCount: 1, openCount: 4 });
    expect(whole.exceptions).toHaveLength(4);

    await h.close();
    setUp();
    ids = await busyDay();
    slicesTakeTime();
    const views = [];
    for (let i = 0; i < 5; i++) {
      const runStarted = h.now();
      views.push(await sliced());
      // the run stops after two slices, within its 45 s
      expect(h.now() - runStarted).toBeLessThanOrEqual(RUN_BUDGET_MS);
      if (views[i]!.status === 'done') break;
      h.advance(10 * 60_000);
    }
    // 151 orders in slices of 40: four slices, two a run
    expect(views.map((v) => [v.status, v.progress])).toEqual([
      ['comparing', { slice: 2, slices: 4 }],
      ['done', undefined],
    ]);
    expect(h.wx.applyTradeBill.calls).toHaveLength(4);
    expect(await outcome(ids)).toEqual(whole);
    expect(await statement()).not.toHaveProperty('cursor');
  });

  it('while comparing, the statement shows progress and no totals; the timer takes the day up again at once', async () => {
    await busyDay();
    slicesTakeTime();
    expect(await sliced()).toMatchObject({ status: 'comparing', progress: { slice: 2, slices: 4 }, runs: 0 });
    const doc = await statement();
    expect(doc).not.toHaveProperty('books');
    expect(doc.cursor).toMatchObject({
      slice: 2,
      slices: 4,
      sliceRows: SLICE_ROWS,
      exceptionIds: [expect.any(String)],
    });
    h.advance(10 * 60_000);
    // the timer passes no slice size: the day goes on in the slices its first run cut
    expect(await booksTimer(h.deps)).toMatchObject({ bill: 'done' });
    expect(await statement()).toMatchObject({ status: 'done', differenceCount: 5, runs: 1 });
  });

  it.each([
    [40, 'a middle slice', 4, 5],
    [80, 'the last slice', 2, 3],
  ])(
    'a run that dies in %i-order slices, in %s, is taken up from there by the next run once its lease lapses; woken, the dead run writes nothing',
    async (sliceRows, _where, slices, applications) => {
      const ids = await busyDay();
      let wake: (() => void) | undefined;
      const download = h.wx.downloadBill.fallback!;
      h.wx.downloadBill.answer(
        (url) => download(url),
        (url) => new Promise((resolve) => (wake = () => resolve(download(url)))),
      );
      const again = () => runBillDay(h.deps, DAY, { by: 'test', sliceRows });
      const dead = again();
      // until the run hangs in its second download (bounded)
      for (let i = 0; i < 200 && !wake; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await statement()).toMatchObject({ status: 'comparing', progress: { slice: 1, slices } });
      await expect(again()).rejects.toMatchObject({ code: 'CONFLICT' });
      h.advance(61_000);
      expect(await again()).toMatchObject({ status: 'done', differenceCount: 5, runs: 1 });
      // slice 0 once, by the dead run; slice 1 by both
      expect(h.wx.applyTradeBill.calls).toHaveLength(applications);
      const done = await outcome(ids);
      wake!();
      await expect(dead).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await outcome(ids)).toEqual(done);
      const doc = await statement();
      expect(doc).toMatchObject({ leaseUntil: 0, status: 'done', runs: 1 });
      expect(doc).not.toHaveProperty('lastError');
    },
  );

  it('a bill that changed between runs starts the day again: what the first slices found of the old file is dropped', async () => {
    const ids = await busyDay();
    slicesTakeTime();
    expect(await sliced()).toMatchObject({ status: 'comparing', progress: { slice: 2, slices: 4 } });
    // WeChat Pay's file is another now: one more difference, in the first slice
    room.faults.add({ kind: 'AMOUNT_CHANGED', outTradeNo: `${ids[1]!}P1`, amountFen: 2, billDate: DAY });
    h.advance(10 * 60_000);
    expect(await sliced()).toMatchObject({ status: 'comparing', progress: { slice: 1, slices: 4 } });
    expect(h.logs).toContainEqual(expect.objectContaining({ message: expect.stringContaining('bill changed') }));
    h.advance(10 * 60_000);
    expect(await sliced()).toMatchObject({ status: 'comparing', progress: { slice: 3, slices: 4 } });
    h.advance(10 * 60_000);
    const view = await sliced();
    expect(view).toMatchObject({ status: 'done', differenceCount: 6 });
    expect(
      view.differences
        .filter((d) => d.kind === 'amount_differs')
        .map((d) => d.billFen)
        .sort(),
    ).toEqual([1, 2]);
    // the exception the old file's first slices opened, seen again, is one
    expect(await billExceptions()).toHaveLength(5);
  });
});
