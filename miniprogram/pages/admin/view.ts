/** How the admin pages show exceptions and orders (text prepared here: WXML cannot call functions). */
import type { AdminOrderSummary, ExceptionView } from '../../../typings/api';
import { EXCEPTION_KIND_TEXT, EXCEPTION_SUMMARY, RESOLUTION_TEXT } from '../../constants/admin';
import { ORDER_STATUS_TEXT, ORDER_STATUS_THEME } from '../../constants/order';
import { formatFen } from '../../utils/money';
import { formatTime } from '../../utils/time';

export function toExceptionRow(e: ExceptionView) {
  const expected = e.expectedFen !== undefined ? formatFen(e.expectedFen) : '';
  const actual = e.actualFen !== undefined ? formatFen(e.actualFen) : '';
  return {
    id: e.id,
    kind: e.kind,
    open: e.status === 'open',
    kindText: EXCEPTION_KIND_TEXT[e.kind],
    /** what it means for the shop (the backend's English `detail` stays in the console and the logs) */
    summary: EXCEPTION_SUMMARY[e.kind]({ expected, actual }),
    orderId: e.orderId ?? '',
    outTradeNo: e.outTradeNo ?? '',
    outRefundNo: e.outRefundNo ?? '',
    transactionId: e.transactionId ?? '',
    expectedText: expected,
    actualText: actual,
    firstSeenText: formatTime(e.firstSeenAt),
    lastSeenText: formatTime(e.lastSeenAt),
    occurrences: e.occurrences,
    resolvedText: e.resolvedAt
      ? `${RESOLUTION_TEXT[e.resolution?.action ?? ''] ?? e.resolution?.action ?? '已处理'} · ${formatTime(e.resolvedAt)}`
      : '',
    note: e.resolution?.note ?? '',
  };
}
export type ExceptionRow = ReturnType<typeof toExceptionRow>;

export function toSummaryRow(o: AdminOrderSummary) {
  const count = o.items.reduce((n, i) => n + i.quantity, 0);
  return {
    id: o.id,
    statusText: ORDER_STATUS_TEXT[o.status],
    statusTheme: ORDER_STATUS_THEME[o.status],
    title:
      o.items.length > 1
        ? `${o.items[0]!.title} 等 ${count} 件`
        : `${o.items[0]?.title ?? ''}${count > 1 ? ` × ${count}` : ''}`,
    totalText: formatFen(o.totalFen),
    paidText: formatFen(o.paidFen),
    refundedText: o.refundedFen > 0 ? formatFen(o.refundedFen) : '',
    contactText: `${o.contact.name} ${o.contact.phone}`,
    createdText: formatTime(o.createdAt),
  };
}
