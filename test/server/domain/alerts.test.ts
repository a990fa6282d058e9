/**
 * Alerts: one per cause, reminders at most daily, every send recorded with each channel's answer, a failing channel
 * never failing the job; the conditions the books timer watches; and the daily metrics against hand-counted fixtures.
 */
import type { DailyMetrics } from '../../../typings/api';
import {
  AlertCenter,
  DEFAULT_ALERT_SETTINGS,
  loadAlertSettings,
  REMINDER_MS,
  WECOM_MAX_BYTES,
  type AlertDoc,
  type AlertSettings,
} from '../../../cloudfunctions/common/domain/attention/alerts';
import { subscribeAlerts } from '../../../cloudfunctions/common/domain/books/admin';
import { runBillDay } from '../../../cloudfunctions/common/domain/books/books';
import { openException } from '../../../cloudfunctions/common/domain/attention/exceptions';
import { rollUpDay } from '../../../cloudfunctions/common/domain/books/metrics';
import type { PaymentDoc, RefundDoc } from '../../../cloudfunctions/common/domain/records';
import { watchConditions } from '../../../cloudfunctions/common/domain/books/watch';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { createHarness, T0, type Harness } from './harness';

const ADMIN = 'o-admin-openid-01';
let h: Harness;
let posts: { url: string; body: { msgtype: string; markdown: { content: string } } }[];
let webhook: (body: string) => Promise<Response>;

function center(settings: Partial<AlertSettings> = {}) {
  return new AlertCenter({
    store: h.store,
    clock: h.now,
    log: h.deps.log,
    messenger: h.deps.messenger,
    admins: h.deps.config.adminOpenids,
    settings: { ...DEFAULT_ALERT_SETTINGS, webhookUrl: 'http://127.0.0.1:9/cgi-bin/webhook/send?key=k', ...settings },
    fetch: (async (url: string, init: RequestInit) => {
      posts.push({ url, body: JSON.parse(init.body as string) });
      return webhook(init.body as string);
    }) as typeof fetch,
  });
}

const ok = async () => new Response('{"errcode":0,"errmsg":"ok"}', { status: 200 });
const alertDoc = (cause: string) => h.store.getById<AlertDoc>(COLLECTIONS.alerts, cause);

beforeEach(() => {
  h = createHarness();
  posts = [];
  webhook = ok;
  h.deps.alerts = center();
});
afterEach(() => h.close());

describe('one alert per cause', () => {
  it('sends a cause once, counts the repeats, and reminds at most once a day', async () => {
    const alert = {
      cause: 'bill_missing:2026-03-01',
      severity: 'critical' as const,
      message: 'no statement by noon',
      detail: { billDate: '2026-03-01' },
    };
    await h.deps.alerts!.raise(alert);
    await h.deps.alerts!.raise(alert);
    h.advance(REMINDER_MS - 1);
    await h.deps.alerts!.raise(alert);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.msgtype).toBe('markdown');
    expect(posts[0]!.body.markdown.content).toContain('no statement by noon');
    expect(posts[0]!.body.markdown.content).toContain('严重');
    expect(await alertDoc(alert.cause)).toMatchObject({
      sendCount: 1,
      suppressed: 2,
      sends: [{ at: T0, reminder: false, deliveries: [{ channel: 'wecom', ok: true, status: 200, errcode: 0 }] }],
    });
    h.advance(1);
    await h.deps.alerts!.raise(alert);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body.markdown.content).toContain('每日提醒');
    expect(await alertDoc(alert.cause)).toMatchObject({
      sendCount: 2,
      sends: [{ reminder: false }, { reminder: true, at: T0 + REMINDER_MS }],
    });
  });

  it('two raisers at once send once', async () => {
    const alert = { cause: 'verification_failures', severity: 'critical' as const, message: 'burst' };
    await Promise.all([h.deps.alerts!.raise(alert), center().raise(alert), center().raise(alert)]);
    h.advance(REMINDER_MS);
    await Promise.all([h.deps.alerts!.raise(alert), center().raise(alert)]);
    expect(posts).toHaveLength(2);
  });

  it('an exception alerts when it opens, not when its cause is seen again', async () => {
    const input = {
      kind: 'amount_mismatch' as const,
      key: 'T1P1',
      orderId: 'T1',
      outTradeNo: 'T1P1',
      expectedFen: 100,
      actualFen: 99,
      detail: 'WeChat Pay total 99 fen',
    };
    await openException(h.deps, input);
    await openException(h.deps, input);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.markdown.content).toContain('amount_mismatch');
    expect(await alertDoc('exception:amount_mismatch:T1P1')).toMatchObject({
      severity: 'critical',
      detail: { orderId: 'T1', expectedFen: 100, actualFen: 99 },
    });
    await openException(h.deps, { kind: 'abnormal_refund', key: 'R1', detail: 'abnormal' });
    expect(await alertDoc('exception:abnormal_refund:R1')).toMatchObject({ severity: 'warning' });
  });

  it('keeps a markdown message within WeCom’s 4096 bytes', async () => {
    await h.deps.alerts!.raise({ cause: 'long', severity: 'warning', message: '很长'.repeat(3000) });
    expect(Buffer.byteLength(posts[0]!.body.markdown.content, 'utf8')).toBeLessThanOrEqual(WECOM_MAX_BYTES);
  });
});

describe('subscribe messages to admins who accepted them', () => {
  it('spends one accepted subscription per message, and stops at WeChat’s 43101', async () => {
    h.deps.alerts = center({ templateId: 'TPL-ALERT' });
    await h.deps.alerts.raise({ cause: 'a', severity: 'warning', message: 'first' });
    expect(h.messages).toEqual([]); // the admin accepted nothing yet
    expect(await subscribeAlerts(h.deps, { openid: ADMIN }, { action: 'subscribeAlerts', accepted: 2 })).toEqual({
      credits: 2,
    });
    expect(await subscribeAlerts(h.deps, { openid: ADMIN }, { action: 'subscribeAlerts', accepted: 1 })).toEqual({
      credits: 3,
    });
    await expect(
      subscribeAlerts(h.deps, { openid: 'o-somebody-else' }, { action: 'subscribeAlerts', accepted: 1 }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await h.deps.alerts.raise({
      cause: 'b',
      severity: 'critical',
      message: '账单差异需要处理，这是一条比二十个字更长的消息',
    });
    expect(h.messages).toEqual([
      {
        touser: ADMIN,
        templateId: 'TPL-ALERT',
        page: 'pages/home/index',
        data: {
          thing1: { value: expect.stringMatching(/^严重: .{15}…$/u) },
          time2: { value: '2026-03-01 10:00' },
          thing3: { value: 'b' },
        },
      },
    ]);
    expect(await h.store.getById(COLLECTIONS.alertSubscriptions, ADMIN)).toMatchObject({ credits: 2 });
    h.deps.messenger.sendSubscribeMessage = async () => {
      throw Object.assign(new Error('openapi.subscribeMessage.send:fail user refuse to accept the msg'), {
        errCode: 43101,
      });
    };
    await h.deps.alerts.raise({ cause: 'c', severity: 'warning', message: 'third' });
    expect(await alertDoc('c')).toMatchObject({
      sends: [
        {
          deliveries: [
            { channel: 'wecom', ok: true },
            { channel: 'subscribe', to: ADMIN, ok: false, errcode: 43101 },
          ],
        },
      ],
    });
    // WeChat says the admin has none left: the credit count follows WeChat, and nothing more is tried
    expect(await h.store.getById(COLLECTIONS.alertSubscriptions, ADMIN)).toMatchObject({ credits: 0 });
    let tried = 0;
    h.deps.messenger.sendSubscribeMessage = async () => void (tried += 1);
    await h.deps.alerts.raise({ cause: 'd', severity: 'warning', message: 'fourth' });
    expect(tried).toBe(0);
    expect(await h.store.getById(COLLECTIONS.alertSubscriptions, ADMIN)).toMatchObject({ credits: 0 });
  });
});

describe('a failing channel never fails the job', () => {
  /** a day with one amount difference: the job opens one exception, which raises one alert */
  async function dayWithADifference(): Promise<unknown> {
    const { BillsRoom, recordsLedger } = await import('../../../localcloud/wechatpay-sim/bills');
    const { seedPaidOrder } = await import('./harness');
    const order = await seedPaidOrder(h, 1990);
    const room = new BillsRoom({
      ledger: recordsLedger({
        transactions: async () => [
          {
            _id: order.paidOutTradeNo!,
            appid: h.deps.pay.config.appid,
            mchid: h.deps.pay.config.mchid,
            description: '拿铁',
            attach: order._id,
            payer: { openid: order.openid },
            amount: { total: 1990 },
            trade_state: 'SUCCESS',
            transaction_id: order.transactionId!,
            success_time: '2026-03-01T10:00:00+08:00',
          },
        ],
        refunds: async () => [],
      }),
      clock: h.now,
      baseUrl: () => 'http://sim',
      appid: h.deps.pay.config.appid,
      mchid: h.deps.pay.config.mchid,
    });
    room.faults.add({ kind: 'AMOUNT_CHANGED', amountFen: 2000 });
    const call = async (path: string) => {
      const url = new URL(path, 'http://sim');
      return room.route('GET', url.pathname)!.run(url);
    };
    h.wx.applyTradeBill.fallback = async (r) =>
      ((await call(`/v3/bill/tradebill?bill_date=${r.bill_date}&tar_type=GZIP`)) as unknown as { body: never }).body;
    h.wx.downloadBill.fallback = async (u) => {
      const raw = ((await call(new URL(u).pathname + new URL(u).search)) as { raw: Buffer }).raw;
      return {
        body: (async function* () {
          yield raw;
        })(),
        requestId: 'R',
      };
    };
    h.advance(Date.parse('2026-03-02T10:30:00+08:00') - h.now());
    const view = await runBillDay(h.deps, '2026-03-01', { by: 'test' });
    const { updatedAt: _u, completedAt: _c, ms: _m, ...rest } = view;
    // the order's id (and with it the file's digest) differs between the two harnesses: compare the rest
    return JSON.parse(JSON.stringify({ ...rest, bill: { ...rest.bill, sha1: 'x' } }).replaceAll(order._id, 'ORDER'));
  }

  it.each([
    [
      'answers an error code',
      async () => new Response('{"errcode":93000,"errmsg":"invalid webhook url"}', { status: 200 }),
    ],
    ['is unreachable', async () => Promise.reject(new TypeError('fetch failed'))],
    ['answers 502', async () => new Response('bad gateway', { status: 502 })],
  ])(
    'the webhook %s: the statement is what it is with a working webhook; the failed delivery is recorded',
    async (_name, failing) => {
      const working = await dayWithADifference();
      const causes = await h.store.find<AlertDoc>(COLLECTIONS.alerts, {}, { limit: 10 });
      expect(causes.map((c) => c.sends[0]!.deliveries[0]!.ok)).toEqual([true]);
      await h.close();
      h = createHarness();
      posts = [];
      webhook = failing;
      h.deps.alerts = center();
      const broken = await dayWithADifference();
      expect(broken).toEqual(working);
      const [doc] = await h.store.find<AlertDoc>(COLLECTIONS.alerts, {}, { limit: 10 });
      expect(doc!.sends[0]!.deliveries).toEqual([
        expect.objectContaining({ channel: 'wecom', ok: false, error: expect.any(String) }),
      ]);
      expect(await h.store.countWhere(COLLECTIONS.exceptions, { kind: 'bill_difference', status: 'open' })).toBe(1);
    },
  );

  it('an alert that cannot even be recorded (the database refuses) leaves the job as it was', async () => {
    const working = await dayWithADifference();
    await h.close();
    h = createHarness();
    h.deps.alerts = center();
    h.engine.failWritesTo(COLLECTIONS.alerts, 100);
    expect(await dayWithADifference()).toEqual(working);
    expect(h.logs).toEqual(expect.arrayContaining([{ level: 'error', message: 'alert not recorded or delivered' }]));
  });
});

describe('settings', () => {
  it('read from the environment, a malformed value reported by name and left at its default', () => {
    expect(loadAlertSettings({})).toEqual({ settings: DEFAULT_ALERT_SETTINGS, problems: [] });
    const { settings, problems } = loadAlertSettings({
      ALERT_WEBHOOK_URL: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc',
      ALERT_TEMPLATE_ID: 'T1',
      ALERT_VERIFY_FAILURES: '5',
      ALERT_VERIFY_WINDOW_MINUTES: 'x',
    });
    expect(settings).toMatchObject({
      webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc',
      templateId: 'T1',
      verifyFailures: 5,
      verifyWindowMinutes: 10,
    });
    expect(problems).toEqual(['ALERT_VERIFY_WINDOW_MINUTES must be an integer between 1 and 1440']);
    expect(loadAlertSettings({ ALERT_WEBHOOK_URL: 'ftp://x' }).problems).toEqual([
      'ALERT_WEBHOOK_URL must be an http(s) URL',
    ]);
  });
});

describe('watched conditions', () => {
  const rejected = (at: number, reason = 'BAD_SIGNATURE') =>
    h.store.append(COLLECTIONS.notifications, { receivedAt: at, verdict: `rejected:${reason}`, ms: 1 });

  it('verification failures at the threshold within the window raise one critical alert; a SIGNTEST probe or an old failure does not count', async () => {
    h.deps.alerts = center({ verifyFailures: 3, verifyWindowMinutes: 10 });
    await rejected(h.now() - 11 * 60_000);
    await rejected(h.now() - 60_000, 'SIGNTEST_PROBE');
    await rejected(h.now() - 60_000);
    await rejected(h.now() - 30_000, 'UNKNOWN_SERIAL');
    expect(await watchConditions(h.deps, '2026-02-28')).toEqual([]);
    await rejected(h.now(), 'DECRYPT_AUTHENTICATION_FAILED');
    expect(await watchConditions(h.deps, '2026-02-28')).toEqual(['verification_failures']);
    expect(await alertDoc('verification_failures')).toMatchObject({
      severity: 'critical',
      detail: { failures: 3, windowMinutes: 10, threshold: 3 },
    });
  });

  it('a refund abnormal for longer than the setting, and exceptions open for more than a day', async () => {
    h.deps.alerts = center({ abnormalRefundHours: 24 });
    const refund = {
      _id: 'R-ABN',
      kind: 'order',
      orderId: 'O1',
      outTradeNo: 'O1P1',
      openid: 'o',
      amountFen: 50,
      totalFen: 100,
      reason: '',
      requestedBy: 'user',
      requestedByOpenid: 'o',
      status: 'abnormal',
      nextAttemptAt: 0,
      attempts: 0,
      abnormalAt: h.now(),
      createdAt: h.now(),
      updatedAt: h.now(),
    } as RefundDoc;
    await h.store.insert(COLLECTIONS.refunds, refund);
    await openException(h.deps, { kind: 'abnormal_refund', key: 'R-ABN', outRefundNo: 'R-ABN', detail: 'abnormal' });
    h.advance(24 * 3600_000 - 1);
    expect(await watchConditions(h.deps, '2026-03-01')).toEqual([]);
    h.advance(1);
    expect(await watchConditions(h.deps, '2026-03-01')).toEqual(['abnormal_refund_stuck:R-ABN', 'exceptions_open']);
  });
});

describe('the daily roll-up, against hand-counted fixtures', () => {
  const DAY = '2026-03-01';
  const start = Date.parse('2026-03-01T00:00:00+08:00');
  const at = (hhmm: string) => Date.parse(`2026-03-01T${hhmm}:00+08:00`);

  it('counts orders, payments by what settled them, prepay-to-paid buckets, deliveries by verdict, refunds and open exceptions', async () => {
    const order = (id: string, status: string, createdAt: number, paidAt?: number) =>
      h.store.insert(COLLECTIONS.orders, {
        _id: id,
        status,
        createdAt,
        ...(paidAt !== undefined ? { paidAt } : {}),
      } as never);
    // created that day: 6 (2 paid that day, 1 closed by expiry, 2 cancelled, 1 pending); one paid that day was created the day before
    await order('O1', 'paid', at('09:00'), at('09:00'));
    await order('O2', 'refunded', at('10:00'), at('10:05'));
    await order('O3', 'closed', at('11:00'));
    await order('O4', 'cancelled', at('12:00'));
    await order('O5', 'cancelled', at('12:30'));
    await order('O6', 'pending_payment', at('23:59'));
    await order('O0', 'paid', start - 3600_000, at('00:10'));
    await order('O7', 'paid', start + 86_400_000, start + 86_400_000); // the next day: not counted
    const payment = (id: string, settledVia: PaymentDoc['settledVia'] | undefined, createdAt: number, paidAt: number) =>
      h.store.insert(COLLECTIONS.payments, {
        _id: id,
        status: 'success',
        createdAt,
        paidAt,
        ...(settledVia ? { settledVia } : {}),
      } as never);
    await payment('O1P1', 'notification', at('09:00'), at('09:00') + 8_000); // 8 s → ≤ 10 s
    await payment('O2P1', 'notification', at('10:00'), at('10:00') + 25_000); // ≤ 30 s
    await payment('O0P1', 'reconcile', start - 3600_000, at('00:10')); // 70 min → ≤ 7200 s
    await payment('O8P1', 'query', at('13:00'), at('13:00') + 45_000); // ≤ 60 s
    await payment('O9P1', 'bill', at('14:00'), at('14:00') + 20_000); // ≤ 30 s
    await payment('OAP1', undefined, at('15:00'), at('15:00') + 3 * 3600_000); // beyond the last bucket
    await payment('OBP1', 'notification', start - 10_000, start - 1); // the day before
    const delivery = (verdict: string, receivedAt: number) =>
      h.store.append(COLLECTIONS.notifications, { receivedAt, verdict, ms: 1 });
    for (const v of [
      'paid',
      'paid',
      'duplicate',
      'settled',
      'rejected:BAD_SIGNATURE',
      'ignored_event_type',
      'something_new',
    ])
      await delivery(v, at('16:00'));
    await delivery('paid', start - 1);
    const refund = (id: string, status: string, createdAt: number) =>
      h.store.insert(COLLECTIONS.refunds, { _id: id, status, createdAt } as never);
    await refund('R1', 'success', at('10:30'));
    await refund('R2', 'processing', at('23:58')); // created that day, open for less than 5 minutes at roll-up time
    await refund('R3', 'abnormal', at('11:00'));
    await refund('R4', 'processing', start - 4 * 86_400_000); // days before: open over 3 days
    await openException(h.deps, { kind: 'bill_difference', key: 'k1', detail: 'x' });
    await openException(h.deps, { kind: 'bill_difference', key: 'k2', detail: 'x' });
    await openException(h.deps, { kind: 'duplicate_charge', key: 'k3', detail: 'x' });
    await h.store.insert(COLLECTIONS.statements, {
      _id: DAY,
      status: 'done',
      differenceCount: 3,
      healedCount: 1,
      openCount: 2,
    } as never);
    h.advance(Date.parse('2026-03-02T00:01:00+08:00') - h.now());

    const metrics = await rollUpDay(h.deps, DAY, start);
    const expected: DailyMetrics = {
      date: DAY,
      rolledUpAt: h.now(),
      orders: { created: 6, paid: 3, expired: 1, cancelled: 2 },
      paidBy: { notification: 2, query: 1, reconcile: 1, bill: 1, unknown: 1 },
      prepayToPaid: {
        count: 6,
        buckets: [
          { leSeconds: 10, count: 1 },
          { leSeconds: 30, count: 2 },
          { leSeconds: 60, count: 1 },
          { leSeconds: 120, count: 0 },
          { leSeconds: 300, count: 0 },
          { leSeconds: 600, count: 0 },
          { leSeconds: 1800, count: 0 },
          { leSeconds: 3600, count: 0 },
          { leSeconds: 7200, count: 1 },
          { leSeconds: null, count: 1 },
        ],
        p50Seconds: 30, // the 3rd of 6
        p90Seconds: null, // the 6th of 6: beyond two hours
      },
      notifications: {
        total: 7,
        byVerdict: { paid: 2, duplicate: 1, settled: 1, 'rejected:BAD_SIGNATURE': 1, ignored_event_type: 1, other: 1 },
      },
      refunds: {
        created: 3,
        byStatus: { queued: 0, unknown: 0, processing: 1, abnormal: 1, success: 1, closed: 0, failed: 0 },
        openOver5Minutes: 2,
        openOver3Days: 1,
      },
      exceptionsOpen: {
        amount_mismatch: 0,
        unfulfillable: 0,
        duplicate_charge: 1,
        abnormal_refund: 0,
        refund_unapplied: 0,
        refund_refused: 0,
        unknown_payment: 0,
        payment_mismatch: 0,
        bill_difference: 2,
      },
      bill: { status: 'done', differences: 3, healed: 1, open: 2 },
    };
    expect(metrics).toEqual(expected);
    // stored, and replaced by a second roll-up
    await h.store.updateWhere(COLLECTIONS.statements, { _id: DAY }, { healedCount: 2, openCount: 1 });
    h.advance(60_000);
    await rollUpDay(h.deps, DAY, start);
    expect(await h.store.getById(COLLECTIONS.metrics, DAY)).toMatchObject({
      rolledUpAt: h.now(),
      bill: { healed: 2, open: 1 },
      orders: expected.orders,
    });
  });
});
