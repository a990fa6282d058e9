/**
 * The merchant's pages in plain Chinese: rendered with the pictures' fixtures (a fuller shop: every exception kind,
 * statements with differences, payments, refunds), no page shows an ASCII enum (SUCCESS, prepaid, bill_difference) or
 * an English sentence. Order numbers, transaction ids and amounts are data, not words, and may be ASCII.
 */
import { shotAdminOrder, shotExceptions, shotMetricsDay, shotStatements } from './fixtures';
import { FakeBackend, flush, loadComponent, renderPage, resetClient, text, until } from './harness';

/** Words a shop owner would not read: a run of 3+ Latin letters that is not part of an id (letters and digits mixed). */
export function englishIn(shown: string): string[] {
  return (shown.match(/[A-Za-z0-9_]*[A-Za-z]{3,}[A-Za-z0-9_]*/g) ?? []).filter((w) => !/\d/.test(w));
}

test('finds an enum or English, not an id (negative controls)', () => {
  expect(englishIn('账单 SUCCESS / 系统 prepaid')).toEqual(['SUCCESS', 'prepaid']);
  expect(englishIn('WeChat Pay total 4980 fen')).toEqual(['WeChat', 'Pay', 'total', 'fen']);
  expect(englishIn('订单 O7F3A9C2B1D4E5F60718 · 微信支付单号 4200001234 ¥39.80')).toEqual([]);
});

const pages: [string, Record<string, unknown>][] = [
  ['pages/admin/exceptions/index', {}],
  ['pages/admin/exception/index', { id: shotExceptions[0]!.id }],
  ['pages/admin/order/index', { id: shotAdminOrder.id }],
  ['pages/admin/statements/index', {}],
  ['pages/admin/metrics/index', {}],
];

describe.each(pages)('%s', (path, query) => {
  test('no ASCII enum or English sentence is rendered', async () => {
    const backend = new FakeBackend()
      .on('login', () => ({ openid: 'o-admin', isAdmin: true, createdAt: 1, lastLoginAt: 1 }))
      .on('admin.listExceptions', () => ({ exceptions: shotExceptions, page: 1, hasMore: false }))
      .on('admin.getException', (e) => shotExceptions.find((x) => x.id === e.id) ?? shotExceptions[0])
      .on('admin.getOrder', () => shotAdminOrder)
      .on('admin.listStatements', () => ({ statements: shotStatements, page: 1, hasMore: false }))
      .on('admin.listMetrics', () => ({ metrics: Array.from({ length: 30 }, (_, i) => shotMetricsDay(i)) }));
    resetClient(backend, { mode: 'local' });
    const page = renderPage(loadComponent(path));
    page.instance.onLoad(query);
    await until(() => page.instance.data.loading === false || page.instance.data.loading === undefined);
    await flush(20);
    // the statements page: every day opened
    if (path.includes('statements'))
      for (const s of shotStatements) {
        page.instance.setData({ expanded: s.billDate });
        await flush(5);
        expect(englishIn(text(page))).toEqual([]);
      }
    expect(englishIn(text(page))).toEqual([]);
  });
});
