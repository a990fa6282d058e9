/** How an order is shown on the list and detail pages (text prepared here: WXML cannot call functions). */
import type { OrderView } from '../../typings/api';
import { AFTER_SALE_STATUS_TEXT, RECEIVED_BY_TEXT, fulfilmentText } from '../constants/fulfilment';
import { ORDER_STATUS_TEXT, ORDER_STATUS_THEME, REFUND_STATUS_TEXT, TIMELINE_TEXT } from '../constants/order';
import { mayBeSettled } from '../services/payment';
import { maskPhone } from './mask';
import { formatFen } from './money';
import { formatTime } from './time';

export interface OrderCard {
  id: string;
  status: OrderView['status'];
  statusText: string;
  statusTheme: string;
  title: string;
  count: number;
  totalText: string;
  createdText: string;
  can: OrderView['can'];
  /** a payment was started: WeChat Pay may know more than the stored order */
  mayBeSettled: boolean;
  /** after payment: where the order is (已接单, 待取餐 …) and since when; '' before */
  progressText: string;
  progressTime: string;
}

/** Fulfilment is shown while the money stands: a paid order (not one refunded or under review). */
const showsProgress = (order: OrderView) =>
  Boolean(order.fulfilment) && (order.status === 'paid' || order.status === 'partially_refunded');

export function toCard(order: OrderView): OrderCard {
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  return {
    id: order.id,
    status: order.status,
    statusText: ORDER_STATUS_TEXT[order.status],
    statusTheme: ORDER_STATUS_THEME[order.status],
    title:
      order.items.length > 1
        ? `${order.items[0]!.title} 等 ${count} 件`
        : `${order.items[0]!.title}${count > 1 ? ` × ${count}` : ''}`,
    count,
    totalText: formatFen(order.totalFen),
    createdText: formatTime(order.createdAt),
    can: order.can,
    mayBeSettled: mayBeSettled(order),
    progressText: showsProgress(order) ? fulfilmentText(order.fulfilment!.kind, order.fulfilment!.state) : '',
    progressTime: showsProgress(order) ? formatTime(order.fulfilment!.at) : '',
  };
}

/** The detail page's fulfilment block: the state, its time, the pickup code, the parcel, who serves, every step. */
function toProgress(order: OrderView) {
  const f = order.fulfilment;
  if (!f || !showsProgress(order)) return null;
  return {
    kind: f.kind,
    title: fulfilmentText(f.kind, f.state),
    time: formatTime(f.at),
    pickupCode: f.state === 'ready' ? (f.pickupCode ?? '') : '',
    shipping: f.shipping ? `${f.shipping.expressName} ${f.shipping.trackingNo}` : '',
    trackingNo: f.shipping?.trackingNo ?? '',
    staffName: f.staffName ?? '',
    receivedText: f.receivedBy ? RECEIVED_BY_TEXT[f.receivedBy] : '',
    address: f.address
      ? `${f.address.userName} ${maskPhone(f.address.telNumber)} ${f.address.provinceName}${f.address.cityName}${f.address.countyName}${f.address.detailInfo}`
      : '',
    steps: f.steps.map((step) => ({
      title: fulfilmentText(f.kind, step.state),
      time: formatTime(step.at),
      by: step.by ?? '',
    })),
  };
}

export function toDetail(order: OrderView, now = Date.now()) {
  return {
    ...toCard(order),
    items: order.items.map((i) => ({
      ...i,
      priceText: formatFen(i.unitPriceFen),
      subtotalText: formatFen(i.subtotalFen),
    })),
    paidText: formatFen(order.paidFen),
    refundedText: formatFen(order.refundedFen),
    hasPaid: order.paidFen > 0,
    hasRefunded: order.refundedFen > 0,
    expiresText: formatTime(order.expiresAt),
    /** ms left to pay, for the countdown (0: nothing to count) */
    remainingMs: order.can.pay ? Math.max(0, order.expiresAt - now) : 0,
    contactText: `${order.contact.name} ${maskPhone(order.contact.phone)}`,
    remark: order.remark,
    timeline: order.timeline
      .map((e) => ({ title: TIMELINE_TEXT[e.event] ?? e.event, time: formatTime(e.at) }))
      .reverse(),
    refunds: order.refunds.map((r) => ({
      outRefundNo: r.outRefundNo,
      amountText: formatFen(r.amountFen),
      statusText: REFUND_STATUS_TEXT[r.status],
      reason: r.reason,
      timeText: formatTime(r.settledAt ?? r.createdAt),
    })),
    progress: toProgress(order),
    afterSale: order.afterSale
      ? {
          statusText: AFTER_SALE_STATUS_TEXT[order.afterSale.status],
          reason: order.afterSale.reason,
          note: order.afterSale.decisionNote ?? '',
          amountText: order.afterSale.amountFen ? formatFen(order.afterSale.amountFen) : '',
          timeText: formatTime(order.afterSale.decidedAt ?? order.afterSale.at),
        }
      : null,
    hasActions:
      order.can.pay ||
      order.can.cancel ||
      order.can.requestRefund ||
      order.can.confirmReceipt ||
      order.can.requestAfterSale,
  };
}

export type OrderDetail = ReturnType<typeof toDetail>;
