/** How an order is shown on the list and detail pages (text prepared here: WXML cannot call functions). */
import type { OrderView } from '../../../typings/api';
import { ORDER_STATUS_TEXT, ORDER_STATUS_THEME, REFUND_STATUS_TEXT, TIMELINE_TEXT } from '../../constants/order';
import { formatFen } from '../../utils/money';
import { formatTime } from '../../utils/time';

export interface OrderCard {
  id: string;
  statusText: string;
  statusTheme: string;
  title: string;
  totalText: string;
  createdText: string;
}

export function toCard(order: OrderView): OrderCard {
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  return {
    id: order.id,
    statusText: ORDER_STATUS_TEXT[order.status],
    statusTheme: ORDER_STATUS_THEME[order.status],
    title: count > 1 ? `${order.items[0]!.title} 等 ${count} 件` : order.items[0]!.title,
    totalText: formatFen(order.totalFen),
    createdText: formatTime(order.createdAt),
  };
}

export function toDetail(order: OrderView) {
  return {
    ...toCard(order),
    items: order.items.map((i) => ({ ...i, priceText: formatFen(i.unitPriceFen), subtotalText: formatFen(i.subtotalFen) })),
    paidText: formatFen(order.paidFen),
    refundedText: formatFen(order.refundedFen),
    expiresText: formatTime(order.expiresAt),
    contact: order.contact,
    remark: order.remark,
    timeline: order.timeline.map((e) => ({ title: TIMELINE_TEXT[e.event] ?? e.event, time: formatTime(e.at) })).reverse(),
    refunds: order.refunds.map((r) => ({
      outRefundNo: r.outRefundNo,
      amountText: formatFen(r.amountFen),
      statusText: REFUND_STATUS_TEXT[r.status],
      reason: r.reason,
      timeText: formatTime(r.settledAt ?? r.createdAt),
    })),
    can: order.can,
  };
}

export type OrderDetail = ReturnType<typeof toDetail>;
