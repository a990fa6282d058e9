/**
 * The books job end to end on the local cloud: the books function's runBillDay (an admin's) and its timer, through the
 * project's own WechatPayClient, against the simulator's bills room (its bill faults, link lifetime and wrong
 * hashes), with the local WeCom robot recording what alerts would post. The simulator's business clock is moved to
 * the next morning so WeChat Pay serves the day's bill; the functions keep the wall clock.
 */
import type { ExceptionView, OrderView, StatementView } from '../../../typings/api';
import { chinaDate, chinaDayStart } from '../../../cloudfunctions/common/domain/days';
import type { AlertDoc } from '../../../cloudfunctions/common/domain/attention/alerts';
import type { PaymentDoc } from '../../../cloudfunctions/common/domain/records';
import { parseYuan } from '../../../cloudfunctions/common/wechatpay';
import { HELP, runCli } from '../../../localcloud/cli';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { runReconcile, settleRefunds } from '../../support/refunds';

jest.setTimeout(60_000);

let t: TestCloud;
let day: string;

beforeEach(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  day = chinaDate(t.cloud.pay.now());
});
afterEach(() => t.close());

const db = () => t.cloud.engine.database();
const control = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${t.cloud.urls.wechatpay}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as unknown };
};
/** WeChat Pay's clock to the next morning, 10:30 China time: the day's bill is served. */
const nextMorning = () => t.cloud.pay.setClock(chinaDayStart(day)! + (24 + 10.5) * 3600_000);
const runDay = (billDate = day) => t.ok<StatementView>('books', { action: 'runBillDay', billDate }, 'admin');
const billExceptions = async (status: 'open' | 'resolved' = 'open') =>
  (
    await t.ok<{ exceptions: ExceptionView[] }>(
      'admin',
      { action: 'listExceptions', kind: 'bill_difference', status, pageSize: 50 },
      'admin',
    )
  ).exceptions;

async function paidOrder(user: string, quantity = 1): Promise<OrderView> {
  const order = await t.confirm(user, [{ productId: 'latte', quantity }]);
  return t.payAndWait(user, order.id);
}

/** The bill's summary row, read from the file the simulator serves for the day. */
async function summaryRow(): Promise<{
  rows: number;
  settlementFen: number;
  refundFen: number;
  feeMilliFen: number;
  orderFen: number;
}> {
  const file = (await t.cloud.pay.bills.buildTradeBill(day, 'ALL'))!;
  const lines = file.bytes.toString('utf8').trim().split('\r\n');
  const f = lines[lines.length - 1]!.slice(1).split(',`');
  return {
    rows: Number(f[0]),
    settlementFen: parseYuan(f[1]!, 2)!,
    refundFen: parseYuan(f[2]!, 2)!,
    feeMilliFen: parseYuan(f[4]!, 5)!,
    orderFen: parseYuan(f[5]!, 2)!,
  };
}

test('a clean day: the statement’s totals are the bill’s summary row on both sides, nothing to look at, each payment settled by its notification', async () => {
  const a = await paidOrder('alice', 2);
  const b = await paidOrder('bob', 1);
  await t.ok(
    'admin',
    { action: 'refund', orderId: a.id, amountFen: 100, reason: '少一杯', requestId: 'refund-clean-0001' },
    'admin',
  );
  await settleRefunds(t, 'alice', a.id);
  nextMorning();
  const statement = await runDay();
  const summary = await summaryRow();
  expect(statement).toMatchObject({ billDate: day, status: 'done', differenceCount: 0, openCount: 0, differences: [] });
  expect(statement.bill).toMatchObject({
    rows: summary.rows,
    settlementFen: summary.settlementFen,
    refundFen: summary.refundFen,
    feeMilliFen: summary.feeMilliFen,
    grossFen: summary.orderFen,
    paymentCount: 2,
    refundCount: 1,
  });
  expect(statement.books).toEqual({
    paymentCount: 2,
    refundCount: 1,
    grossFen: a.totalFen + b.totalFen,
    refundFen: 100,
    feeFen: statement.bill!.feeFen,
    netFen: statement.bill!.netFen,
  });
  expect(summary.orderFen).toBe(a.totalFen + b.totalFen);
  expect(await billExceptions()).toEqual([]);
  const payments = (await db().collection('payments').where({}).get()).data as unknown as PaymentDoc[];
  expect(payments.map((p) => p.settledVia)).toEqual(['notification', 'notification']);
  expect(t.cloud.wecom.messages).toEqual([]);
});

test('each bill fault yields exactly its difference and one exception; a re-run resolves the one before', async () => {
  const a = await paidOrder('alice', 1);
  const b = await paidOrder('bob', 2);
  await t.ok(
    'admin',
    { action: 'refund', orderId: a.id, amountFen: 50, reason: '部分退款', requestId: 'refund-fault-0001' },
    'admin',
  );
  await settleRefunds(t, 'alice', a.id);
  const refundNo = (await t.order('alice', a.id)).refunds[0]!.outRefundNo;
  nextMorning();
  const cases: [Record<string, unknown>, Partial<StatementView['differences'][number]>][] = [
    [
      { kind: 'ROW_MISSING', outTradeNo: `${b.id}P1` },
      { kind: 'missing_in_bill', subject: 'payment', outTradeNo: `${b.id}P1`, booksFen: b.totalFen },
    ],
    [
      { kind: 'EXTRA_ROW', outTradeNo: 'EXTRA0000000001', amountFen: 321 },
      { kind: 'missing_here', subject: 'payment', outTradeNo: 'EXTRA0000000001', billFen: 321 },
    ],
    [
      { kind: 'AMOUNT_CHANGED', outTradeNo: `${a.id}P1`, amountFen: a.totalFen + 1 },
      { kind: 'amount_differs', outTradeNo: `${a.id}P1`, billFen: a.totalFen + 1, booksFen: a.totalFen },
    ],
    [
      { kind: 'REFUND_STATE_CHANGED', outRefundNo: refundNo },
      { kind: 'refund_state_differs', outRefundNo: refundNo, billState: 'REFUNDCLOSE', booksState: 'success' },
    ],
  ];
  for (const [fault, difference] of cases) {
    expect((await control('POST', '/sim/bills/faults', fault)).status).toBe(200);
    const statement = await runDay();
    expect(statement.differences).toEqual([expect.objectContaining(difference)]);
    expect(statement).toMatchObject({ differenceCount: 1, openCount: 1, healedCount: 0 });
    const open = await billExceptions();
    expect(open).toHaveLength(1);
    expect(open[0]!.id).toBe(statement.differences[0]!.exceptionId);
  }
  expect(await billExceptions('resolved')).toHaveLength(3);
  // each exception opened was posted to the merchant's WeCom group once
  await waitFor(
    async () => t.cloud.wecom.messages,
    (m) => m.length === 4,
  );
  expect(
    t.cloud.wecom.messages.every(
      (m) => m.msgtype === 'markdown' && m.content.includes('bill_difference') && m.errcode === 0,
    ),
  ).toBe(true);
});

test('an order paid at WeChat Pay whose notification was lost is healed by the job; one marked paid here while WeChat Pay says NOTPAY is reported', async () => {
  const lost = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const { params } = await t.ok<{ params: Record<string, string> }>(
    'payment',
    { action: 'pay', orderId: lost.id },
    'alice',
  );
  await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...params } as never);
  expect((await t.order('alice', lost.id)).status).toBe('pending_payment');
  // an attacker with database access marks an unpaid order paid
  const forged = await t.confirm('bob', [{ productId: 'latte', quantity: 3 }]);
  await t.ok('payment', { action: 'pay', orderId: forged.id }, 'bob');
  await db()
    .collection('orders')
    .doc(forged.id)
    .update({
      data: {
        status: 'paid',
        paidFen: forged.totalFen,
        refundableFen: forged.totalFen,
        paidAt: Date.now(),
        paidOutTradeNo: `${forged.id}P1`,
      },
    });
  nextMorning();
  const statement = await runDay();
  expect(statement.differences).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        kind: 'missing_here',
        outTradeNo: `${lost.id}P1`,
        healed: expect.stringContaining('paid'),
      }),
      expect.objectContaining({
        kind: 'missing_in_bill',
        outTradeNo: `${forged.id}P1`,
        orderId: forged.id,
        detail: expect.stringContaining('NOTPAY'),
      }),
    ]),
  );
  expect(statement).toMatchObject({ differenceCount: 2, healedCount: 1, openCount: 1 });
  expect((await t.order('alice', lost.id)).status).toBe('paid');
  const healed = (await db().collection('payments').doc(`${lost.id}P1`).get()).data as unknown as PaymentDoc;
  expect(healed).toMatchObject({ status: 'success', settledVia: 'bill' });
  expect((await billExceptions()).map((e) => [e.outTradeNo, e.orderId])).toEqual([[`${forged.id}P1`, forged.id]]);
});

test('what settled each payment is kept for the metrics: reconcile’s query', async () => {
  const order = await t.confirm('carol', [{ productId: 'latte', quantity: 1 }]);
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const { params } = await t.ok<{ params: Record<string, string> }>(
    'payment',
    { action: 'pay', orderId: order.id },
    'carol',
  );
  await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...params } as never);
  await db()
    .collection('payments')
    .doc(`${order.id}P1`)
    .update({ data: { nextCheckAt: 0 } });
  await runReconcile(t);
  expect(
    ((await db().collection('payments').doc(`${order.id}P1`).get()).data as unknown as PaymentDoc).settledVia,
  ).toBe('reconcile');
});

test('WeChat Pay’s answers: STATEMENT_CREATING then the bill; an expired link applied for again; a wrong SHA1 refused and fetched again; NO_STATEMENT_EXIST', async () => {
  await paidOrder('alice');
  const creating = await runDay();
  expect(creating).toMatchObject({ status: 'creating', lastError: expect.stringContaining('STATEMENT_CREATING') });
  expect(creating.nextAttemptAt).toBeGreaterThan(Date.now() + 29 * 60_000);
  nextMorning();
  // every link expires before it is used: three applications, then the day waits for the next run
  await control('POST', '/sim/bills/config', { linkLifetimeMs: 1 });
  const expired = await runDay();
  expect(expired).toMatchObject({ status: 'failed', lastError: expect.stringContaining('400 INVALID_REQUEST') });
  await control('POST', '/sim/bills/config', { linkLifetimeMs: 30_000, wrongHashes: 1 });
  const fetchedAgain = await runDay();
  expect(fetchedAgain).toMatchObject({ status: 'done', differenceCount: 0 });
  // two attempts this run (the wrong digest, then the right one), after 1 + 3 before
  expect(fetchedAgain.attempts).toBe(1 + 3 + 2);
  // the same day again: one statement, replaced
  const again = await runDay();
  expect(again).toMatchObject({ status: 'done', runs: 2 });
  expect(await db().collection('statements').count()).toMatchObject({ total: 1 });
  // a day with no trades at WeChat Pay (nor here)
  const yesterday = chinaDate(chinaDayStart(day)! - 3600_000);
  expect(await runDay(yesterday)).toMatchObject({ billDate: yesterday, status: 'no_statement', differenceCount: 0 });
});

test('the same faulty day run twice: one statement, one exception seen twice, one alert', async () => {
  const a = await paidOrder('alice');
  nextMorning();
  await control('POST', '/sim/bills/faults', {
    kind: 'AMOUNT_CHANGED',
    outTradeNo: `${a.id}P1`,
    amountFen: 1,
    billDate: day,
  });
  await runDay();
  const second = await runDay();
  expect(second).toMatchObject({ runs: 2, differenceCount: 1 });
  const open = await billExceptions();
  expect(open).toHaveLength(1);
  expect(open[0]).toMatchObject({ occurrences: 2, expectedFen: a.totalFen, actualFen: 1 });
  await waitFor(
    async () => t.cloud.wecom.messages,
    (m) => m.length >= 1,
  );
  expect(t.cloud.wecom.messages).toHaveLength(1);
});

test('a failing WeCom robot leaves the job’s outcome unchanged; the failed delivery is recorded', async () => {
  const a = await paidOrder('alice');
  nextMorning();
  await control('POST', '/sim/bills/faults', {
    kind: 'AMOUNT_CHANGED',
    outTradeNo: `${a.id}P1`,
    amountFen: 2,
    billDate: day,
  });
  t.cloud.wecom.fail(10, 200, 93000);
  const statement = await runDay();
  expect(statement).toMatchObject({ status: 'done', differenceCount: 1, openCount: 1 });
  expect(await billExceptions()).toHaveLength(1);
  const alerts = (await db().collection('alerts').where({}).get()).data as unknown as AlertDoc[];
  expect(alerts.map((x) => x.sends[0]!.deliveries)).toEqual([
    [expect.objectContaining({ channel: 'wecom', ok: false, status: 200, errcode: 93000 })],
  ]);
});

test('the books timer runs as a timer only, and an admin reads statements and metrics', async () => {
  // a user's call never runs the job: it is routed to the admin actions, which refuse a missing action and a buyer
  const alertsBefore = await t.cloud.engine.database().collection('alerts').count();
  expect(await t.call('books', {}, 'alice')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  expect(await t.call('books', { action: 'listStatements' }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
  expect(await t.cloud.engine.database().collection('alerts').count()).toEqual(alertsBefore);
  const summary = (await t.cloud.host.runTimer('books')) as { billDate: string; bill: string };
  // before 10:00 China time the bill waits; after, yesterday (no trades anywhere) has no statement to make
  expect(['skipped', 'no_statement']).toContain(summary.bill);
  await paidOrder('alice');
  nextMorning();
  await runDay();
  const list = await t.ok<{ statements: StatementView[] }>('books', { action: 'listStatements' }, 'admin');
  expect(list.statements.map((s) => s.billDate)).toContain(day);
  expect(await t.ok('books', { action: 'getStatement', billDate: day }, 'admin')).toMatchObject({
    billDate: day,
    status: 'done',
  });
  expect(await t.call('books', { action: 'getStatement', billDate: day }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
  expect(await t.call('books', { action: 'runBillDay', billDate: '2020-01-01' }, 'admin')).toMatchObject({
    ok: false,
    error: { code: 'INVALID_ARGUMENT' },
  });
  const metrics = await t.ok<{ metrics: unknown[] }>('books', { action: 'listMetrics', days: 30 }, 'admin');
  expect(Array.isArray(metrics.metrics)).toBe(true);
});

test('the CLI spoils a bill, sets the bills room and shows what the robot received', async () => {
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    expect(await runCli(argv, { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) })).toBe(0);
    return JSON.parse(lines.join('\n')) as unknown;
  };
  for (const word of ['bill-fault', 'bill-faults', 'bill-config', 'robot', 'bill-download'])
    expect(HELP).toContain(word);
  const a = await paidOrder('alice');
  expect(
    await cli('bill-fault', 'AMOUNT_CHANGED', '--date', day, '--out-trade-no', `${a.id}P1`, '--amount', '5'),
  ).toEqual([{ kind: 'AMOUNT_CHANGED', billDate: day, outTradeNo: `${a.id}P1`, amountFen: 5 }]);
  expect(await cli('bill-config', '--link-lifetime', '60000')).toMatchObject({ linkLifetimeMs: 60_000 });
  nextMorning();
  expect(await runDay()).toMatchObject({ differenceCount: 1 });
  await waitFor(
    async () => t.cloud.wecom.messages,
    (m) => m.length === 1,
  );
  expect(await cli('robot')).toEqual([
    expect.objectContaining({ msgtype: 'markdown', errcode: 0, content: expect.stringContaining('amount_differs') }),
  ]);
  expect(await cli('bill-faults', 'clear')).toEqual([]);
});
