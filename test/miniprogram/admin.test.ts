/**
 * The merchant's subpackage in both backend modes: every action the backend offers, sent as the contract says, and a
 * buyer who opens an admin page (the backend answers FORBIDDEN) sees no action at all.
 */
import type { AdminOrderView, DailyMetrics, ExceptionView, StatementView } from '../../typings/api';
import { appConfig } from '../../miniprogram/config';
import {
  FakeBackend,
  MODES,
  fail,
  flush,
  inTap,
  loadComponent,
  renderPage,
  resetClient,
  tap,
  text,
  until,
  type Rendered,
} from './harness';
import { paidOrder } from './fixtures';

const pages: Record<string, string> = {};
beforeAll(() => {
  for (const name of ['index', 'exceptions', 'exception', 'orders', 'order', 'statements', 'metrics'])
    pages[name] = loadComponent(`pages/admin/${name}/index`);
});

const T = new Date(2026, 10, 23, 9, 0).getTime();
const reviewException: ExceptionView = {
  id: 'amount_mismatch:O1234567890ABCDEF1234P1',
  kind: 'amount_mismatch',
  status: 'open',
  orderId: 'O1234567890ABCDEF1234',
  outTradeNo: 'O1234567890ABCDEF1234P1',
  transactionId: '4200000000202611230000000001',
  expectedFen: 3980,
  actualFen: 3900,
  detail: 'WeChat Pay total 3900 fen, payment 3980 fen',
  firstSeenAt: T,
  lastSeenAt: T,
  occurrences: 1,
};
const abnormalException: ExceptionView = {
  id: 'abnormal_refund:O1234567890ABCDEF1234R1',
  kind: 'abnormal_refund',
  status: 'open',
  orderId: 'O1234567890ABCDEF1234',
  outRefundNo: 'O1234567890ABCDEF1234R1',
  actualFen: 3980,
  detail: 'the refund reached WeChat Pay but the user’s account refused it',
  firstSeenAt: T,
  lastSeenAt: T + 60_000,
  occurrences: 3,
};
const resolved = (e: ExceptionView, action: string, note: string): ExceptionView => ({
  ...e,
  status: 'resolved',
  resolvedAt: T + 3_600_000,
  resolvedBy: 'o-admin',
  resolution: { action, note },
});

const adminOrder = (overrides: Partial<AdminOrderView> = {}): AdminOrderView => ({
  ...paidOrder(),
  openid: 'o-buyer',
  payments: [
    {
      outTradeNo: 'O1234567890ABCDEF1234P1',
      status: 'success',
      amountFen: 3980,
      paidTotalFen: 3980,
      transactionId: '4200000000202611230000000001',
      createdAt: T,
      paidAt: T + 60_000,
    },
  ],
  ...overrides,
});

const statement: StatementView = {
  billDate: '2026-11-22',
  status: 'done',
  attempts: 1,
  bill: {
    paymentCount: 3,
    refundCount: 1,
    grossFen: 9960,
    refundFen: 1990,
    feeFen: 60,
    netFen: 7910,
    settlementFen: 9960,
    feeMilliFen: 6000,
    rows: 4,
    sha1: 'ab',
  },
  books: { paymentCount: 2, refundCount: 1, grossFen: 7970, refundFen: 1990, feeFen: 48, netFen: 5932 },
  differences: [
    {
      kind: 'missing_here',
      subject: 'payment',
      outTradeNo: 'OAAAAAAAAAAAAAAAAAAAAP1',
      billFen: 1990,
      detail: 'paid at WeChat Pay, pending here',
      healed: 'settled by query',
    },
    {
      kind: 'amount_differs',
      subject: 'payment',
      outTradeNo: 'OBBBBBBBBBBBBBBBBBBBBP1',
      billFen: 1990,
      booksFen: 1900,
      detail: 'amounts differ',
      exceptionId: 'bill_difference:2026-11-22:OBBBBBBBBBBBBBBBBBBBBP1',
    },
  ],
  differenceCount: 2,
  healedCount: 1,
  openCount: 1,
  runs: 1,
  updatedAt: T,
  completedAt: T,
};

function day(date: string, paid: number): DailyMetrics {
  return {
    date,
    rolledUpAt: T,
    orders: { created: paid + 2, paid, expired: 1, cancelled: 1 },
    paidBy: { notification: paid - 1, query: 1, reconcile: 0, bill: 0, unknown: 0 },
    prepayToPaid: { count: paid, buckets: [], p50Seconds: 12, p90Seconds: 95 },
    notifications: { total: paid + 3, byVerdict: { paid, duplicate: 1, 'rejected:BAD_SIGNATURE': 2 } },
    refunds: {
      created: 1,
      byStatus: { queued: 0, unknown: 0, processing: 0, abnormal: 0, success: 1, closed: 0, failed: 0 },
      openOver5Minutes: 0,
      openOver3Days: 0,
    },
    exceptionsOpen: {
      unfulfillable: 0,
      amount_mismatch: 1,
      duplicate_charge: 0,
      abnormal_refund: 0,
      refund_unapplied: 0,
      refund_refused: 0,
      unknown_payment: 0,
      payment_mismatch: 0,
      bill_difference: 1,
    },
    bill: { status: 'done', differences: 2, healed: 1, open: 1 },
  };
}

describe.each(MODES)('%s mode', (mode) => {
  let backend: FakeBackend;
  let client: ReturnType<typeof resetClient>;
  beforeEach(() => {
    backend = new FakeBackend()
      .on('admin.listExceptions', (e) => ({
        exceptions:
          e.status === 'open'
            ? [reviewException, abnormalException]
            : [resolved(reviewException, 'accepted', '按实收确认')],
        hasMore: false,
      }))
      .on('admin.getException', (e) => (e.id === reviewException.id ? reviewException : abnormalException))
      .on('admin.acceptReview', () => paidOrder())
      .on('admin.refundReview', () => paidOrder({ status: 'refunding' }))
      .on('admin.applyAbnormalRefund', () => abnormalException)
      .on('admin.markAbnormalHandled', () => resolved(abnormalException, 'handled_outside', '已在商户平台退回'))
      .on('admin.resolveException', (e) => resolved(reviewException, 'resolved', String(e.note)))
      .on('admin.searchOrders', () => ({ matchedBy: 'phone', orders: [paidOrder()] }))
      .on('admin.getOrder', () => adminOrder())
      .on('admin.refund', () => paidOrder({ status: 'partially_refunded' }))
      .on('books.listStatements', () => ({ statements: [statement], hasMore: false }))
      .on('books.runBillDay', () => ({
        ...statement,
        differences: [],
        differenceCount: 0,
        healedCount: 0,
        openCount: 0,
        runs: 2,
      }))
      .on('books.listMetrics', () => ({ metrics: [day('2026-11-22', 5), day('2026-11-21', 3)] }))
      .on('books.subscribeAlerts', (e) => ({ credits: Number(e.accepted) + 1 }));
    client = resetClient(backend, { mode });
  });

  async function open(name: string, query: Record<string, string> = {}): Promise<Rendered> {
    const page = renderPage(pages[name]!);
    page.instance.onLoad(query);
    await until(() => !page.instance.data.loading);
    await flush(10);
    return page;
  }

  const forbidAll = () => {
    for (const key of [
      'admin.listExceptions',
      'admin.getException',
      'admin.searchOrders',
      'admin.getOrder',
      'books.listStatements',
      'books.listMetrics',
    ])
      backend.on(key, () => fail('FORBIDDEN', '没有管理权限'));
  };

  test('home: what waits for a person, the entries, and the alerts subscription (accepted in the tap)', async () => {
    appConfig.alertTemplateId = 'TPL_alert_01';
    const page = await open('index');
    expect(text(page)).toContain('2件异常等待处理');
    expect(text(page)).toContain('订单查询与退款');
    expect(text(page)).toContain('每日对账');
    expect(text(page)).toContain('经营数据');
    client.platform.subscribe.push('accept');
    await tap(page, '.admin__subscribe');
    await until(() => page.instance.data.alertCredits >= 0);
    expect(client.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['TPL_alert_01'] }));
    expect(backend.of('books.subscribeAlerts')).toEqual([{ action: 'subscribeAlerts', accepted: 1 }]);
    expect(text(page)).toContain('当前还可接收 2 条告警');
    client.platform.subscribe.push('reject');
    await tap(page, '.admin__subscribe');
    await until(() => !page.instance.data.subscribing);
    expect(backend.count('books.subscribeAlerts')).toBe(1);
    page.querySelector('.admin__entry--orders')!.dispatchEvent('click');
    await flush();
    expect(client.navigateTo).toHaveBeenCalledWith({ url: '/pages/admin/orders/index' });
  });

  test('the exception queue: open ones, then the resolved ones; a tap opens one', async () => {
    const page = await open('exceptions');
    await until(() => page.instance.data.rows.length === 2);
    expect(text(page)).toContain('实收金额与订单不符');
    expect(text(page)).toContain('应收 ¥39.80');
    expect(text(page)).toContain('实际 ¥39.00');
    expect(text(page)).toContain('3 次');
    page.querySelectorAll('.tabs__item')[1]!.dispatchEvent('tap');
    await until(() => page.instance.data.rows.length === 1 && page.instance.data.status === 'resolved');
    expect(backend.of('admin.listExceptions').at(-1)).toMatchObject({ status: 'resolved' });
    await tap(page, '.exception-card');
    expect(client.navigateTo).toHaveBeenCalledWith({
      url: `/pages/admin/exception/index?id=${encodeURIComponent(reviewException.id)}`,
    });
  });

  async function act(page: Rendered, selector: string, fill: () => void) {
    await tap(page, selector);
    fill();
    await flush();
    await page.instance.onConfirmAction();
    await flush(20);
  }

  test('a review order: accept at WeChat Pay’s amount, or refund it in full — each with a note', async () => {
    const page = await open('exception', { id: encodeURIComponent(reviewException.id) });
    expect(text(page)).toContain('微信支付实收¥39.00与订单应收¥39.80不一致');
    expect(text(page)).not.toContain('WeChat Pay total'); // the backend's English record is not shown to the shop
    expect(page.querySelector('.exception__user-card')).toBeFalsy();
    await act(page, '.exception__accept', () => undefined);
    expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请填写处理说明' }));
    expect(backend.count('admin.acceptReview')).toBe(0);
    page.instance.onNote({ detail: { value: '顾客用了优惠券，按实收确认' } });
    await page.instance.onConfirmAction();
    await flush(20);
    expect(backend.of('admin.acceptReview')).toEqual([
      { action: 'acceptReview', orderId: reviewException.orderId, note: '顾客用了优惠券，按实收确认' },
    ]);
    await act(page, '.exception__refund-review', () =>
      page.instance.onNote({ detail: { value: '联系不上顾客，全额退回' } }),
    );
    expect(backend.of('admin.refundReview')).toEqual([
      {
        action: 'refundReview',
        orderId: reviewException.orderId,
        note: '联系不上顾客，全额退回',
        requestId: expect.stringMatching(/^review-/),
      },
    ]);
  });

  test('an abnormal refund: to the user’s bank card (details checked), to the merchant’s, or handled in the merchant platform', async () => {
    const page = await open('exception', { id: encodeURIComponent(abnormalException.id) });
    expect(page.querySelector('.exception__accept')).toBeFalsy();
    await act(page, '.exception__user-card', () =>
      page.instance.onBankAccount({ detail: { value: '6222000012345678' } }),
    );
    expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '请选择开户银行' }));
    page.querySelectorAll('.bank-chip')[0]!.dispatchEvent('tap'); // 工商银行
    page.instance.onRealName({ detail: { value: '张三' } });
    await flush();
    await page.instance.onConfirmAction();
    await flush(20);
    expect(backend.of('admin.applyAbnormalRefund')).toEqual([
      {
        action: 'applyAbnormalRefund',
        outRefundNo: abnormalException.outRefundNo,
        type: 'USER_BANK_CARD',
        bankType: 'ICBC_DEBIT',
        bankAccount: '6222000012345678',
        realName: '张三',
      },
    ]);
    // the card number is not kept on the page once sent
    expect(page.instance.data.bankAccount).toBe('');
    await act(page, '.exception__merchant-card', () => undefined);
    expect(backend.of('admin.applyAbnormalRefund').at(-1)).toEqual({
      action: 'applyAbnormalRefund',
      outRefundNo: abnormalException.outRefundNo,
      type: 'MERCHANT_BANK_CARD',
    });
    await act(page, '.exception__handled', () => page.instance.onNote({ detail: { value: '已在商户平台退回' } }));
    expect(backend.of('admin.markAbnormalHandled')).toEqual([
      { action: 'markAbnormalHandled', outRefundNo: abnormalException.outRefundNo, note: '已在商户平台退回' },
    ]);
  });

  test('any open exception can be resolved with a note; a resolved one shows how, and offers nothing', async () => {
    const page = await open('exception', { id: encodeURIComponent(reviewException.id) });
    backend.on('admin.getException', () => resolved(reviewException, 'resolved', '已电话联系顾客'));
    await act(page, '.exception__resolve', () => page.instance.onNote({ detail: { value: '已电话联系顾客' } }));
    expect(backend.of('admin.resolveException')).toEqual([
      { action: 'resolveException', id: reviewException.id, note: '已电话联系顾客' },
    ]);
    await until(() => text(page).includes('已标记处理'));
    expect(text(page)).toContain('已电话联系顾客');
    expect(page.querySelector('.exception__resolve')).toBeFalsy();
    expect(page.querySelector('.exception__accept')).toBeFalsy();
  });

  test('order search by phone, then the order with its payments; refunds in full or in part', async () => {
    const search = await open('orders');
    search.instance.onQuery({ detail: { value: '13800138000' } });
    await search.instance.onSearch();
    await flush(10);
    expect(backend.of('admin.searchOrders')).toEqual([{ action: 'searchOrders', query: '13800138000' }]);
    expect(text(search)).toContain('按手机号找到 1 笔订单');
    await tap(search, '.result-card');
    expect(client.navigateTo).toHaveBeenCalledWith({ url: `/pages/admin/order/index?id=${paidOrder().id}` });

    const page = await open('order', { id: paidOrder().id });
    expect(text(page)).toContain('张三 13800138000'); // the merchant sees the phone to call
    expect(text(page)).toContain('商户单号 O1234567890ABCDEF1234P1');
    expect(text(page)).toContain('微信支付单号 4200000000202611230000000001');
    await tap(page, '.admin-order__refund-button');
    expect(page.instance.data.refundAmount).toBe('39.80');
    page.instance.onReason({ detail: { value: '缺货' } });
    page.instance.onAmount({ detail: { value: '40' } });
    await page.instance.onSubmitRefund();
    expect(client.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '最多可退 ¥39.80' }));
    page.instance.onAmount({ detail: { value: '12.5' } });
    await page.instance.onSubmitRefund();
    await flush(10);
    expect(backend.of('admin.refund')).toEqual([
      {
        action: 'refund',
        orderId: paidOrder().id,
        amountFen: 1250,
        reason: '缺货',
        requestId: expect.stringMatching(/^admin-refund-/),
      },
    ]);
    // a retried submit of the same dialog is the same refund
    backend.on('admin.refund', () => fail('PAYMENT_PROVIDER_ERROR'));
    await tap(page, '.admin-order__refund-button');
    page.instance.onReason({ detail: { value: '全额退' } });
    await page.instance.onSubmitRefund();
    await page.instance.onSubmitRefund();
    const retried = backend.of('admin.refund').slice(1);
    expect(retried.map((e) => e.amountFen)).toEqual([3980, 3980]);
    expect(retried[0]!.requestId).toBe(retried[1]!.requestId);
  });

  test('daily statements: totals side by side, each difference healed or waiting, a day compared again', async () => {
    const page = await open('statements');
    await until(() => page.instance.data.rows.length === 1);
    expect(text(page)).toContain('差异 2 笔，已修复 1，待处理 1');
    page.querySelector('.statement__head')!.dispatchEvent('tap');
    await flush(10);
    expect(text(page)).toContain('微信支付账单');
    expect(text(page)).toContain('¥99.60');
    expect(text(page)).toContain('¥79.70');
    expect(text(page)).toContain('账单有、系统无');
    expect(text(page)).toContain('已自动修复：settled by query');
    expect(text(page)).toContain('金额不一致');
    expect(text(page)).toContain('待人工处理');
    page.querySelectorAll('.difference')[1]!.dispatchEvent('tap');
    await flush();
    expect(client.navigateTo).toHaveBeenCalledWith({
      url: `/pages/admin/exception/index?id=${encodeURIComponent('bill_difference:2026-11-22:OBBBBBBBBBBBBBBBBBBBBP1')}`,
    });
    await tap(page, '.statement__rerun');
    await until(() => !page.instance.data.running);
    expect(backend.of('books.runBillDay')).toEqual([{ action: 'runBillDay', billDate: '2026-11-22' }]);
    expect(text(page)).toContain('账实相符');
  });

  test('metrics of the last 30 days as charts and totals', async () => {
    const page = await open('metrics');
    expect(backend.of('books.listMetrics')).toEqual([{ action: 'listMetrics', days: 30 }]);
    expect(text(page)).toContain('2026-11-21 至 2026-11-22');
    const view = page.instance.data.view;
    expect(view.cards).toEqual([
      { label: '下单', value: '12' },
      { label: '支付成功', value: '8' },
      { label: '支付转化', value: '66.7%' },
      { label: '退款', value: '2' },
    ]);
    expect(view.paidBars).toEqual([
      { label: '11-21', value: 3, extra: 2 },
      { label: '11-22', value: 5, extra: 2 },
    ]);
    expect(view.notifyBars).toEqual([
      { label: '11-21', value: 4, extra: 2 },
      { label: '11-22', value: 6, extra: 2 },
    ]);
    expect(text(page)).toContain('每日支付成功订单');
    expect(text(page)).toContain('支付通知');
    expect(text(page)).toContain('中位 12 秒 · 90% 1.6 分钟');
    expect(text(page)).toContain('实收金额与订单不符');
  });

  test.each(['index', 'exceptions', 'exception', 'orders', 'order', 'statements', 'metrics'])(
    'a buyer opening %s sees no action, only that it is not theirs',
    async (name) => {
      forbidAll();
      const page = await open(name, { id: 'x' });
      if (name === 'orders') {
        page.instance.onQuery({ detail: { value: '13800138000' } });
        await inTap(() => page.instance.onSearch());
        await flush(10);
      }
      expect(text(page)).toContain('没有管理权限');
      for (const selector of [
        't-button',
        '.exception-card',
        '.result-card',
        '.statement',
        '.admin__entry',
        'bar-chart',
      ])
        expect(page.querySelector(selector)).toBeFalsy();
      expect(client.showToast).not.toHaveBeenCalled();
    },
  );
});
