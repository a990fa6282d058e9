/**
 * Fulfilment's part of the reconcile timer: tell the staff of newly paid orders, alert about orders nobody accepted
 * within FULFIL_ACCEPT_ALERT_MINUTES, and retry the shipping uploads that are due (shipping/upload.ts).
 *
 * The new-order notice is sent from here rather than from the payment's settlement: the settlement path answers
 * WeChat Pay's notification within its budget and stays as it is; the order's `fulfilment.notifiedAt` (a
 * compare-and-set) makes each notice go once, whichever run gets there first. While the staff page is open it
 * refreshes the queue itself every few seconds; the notice is for staff who are not looking.
 */
import { COLLECTIONS } from '../../store/store';
import { raiseAlert } from '../attention/alerts';
import type { Deps } from '../deps';
import type { OrderDoc } from '../records';
import { retryDueUploads, type UploadOutcome } from '../shipping/upload';
import { FULFILLING_STATUSES } from './moves';
import { mayTake, takeStaffCredit } from './staff';

export interface FulfilmentTimerSummary {
  noticesSent: number;
  staffMessages: number;
  lateAlerts: number;
  uploads: Record<UploadOutcome, number>;
}

const orderLine = (order: OrderDoc) => order.items.map((i) => `${i.title}×${i.quantity}`).join('、');

export async function fulfilmentTimer(
  deps: Deps,
  limit = deps.config.reconcileBatchSize,
): Promise<FulfilmentTimerSummary> {
  const { store, config } = deps;
  const _ = store.command;
  const now = deps.clock();
  const summary: FulfilmentTimerSummary = { noticesSent: 0, staffMessages: 0, lateAlerts: 0, uploads: {} as never };
  const waiting = { status: _.in([...FULFILLING_STATUSES]), 'fulfilment.state': 'awaiting' };

  const fresh = await store.find<OrderDoc>(
    COLLECTIONS.orders,
    { ...waiting, 'fulfilment.notifiedAt': _.exists(false) },
    { orderBy: [['paidAt', 'asc']], limit },
  );
  for (const order of fresh) {
    const claimed = await store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id, 'fulfilment.notifiedAt': _.exists(false) },
      { fulfilment: { notifiedAt: now } },
    );
    if (!claimed) continue;
    summary.noticesSent += 1;
    await raiseAlert(deps, {
      cause: `new_order:${order._id}:${order.fulfilment?.steps.length ?? 0}`,
      severity: 'warning',
      message: `新订单待接单：${orderLine(order)}（${order._id}）`,
      detail: { orderId: order._id, kind: order.fulfilment?.kind },
    });
    if (!config.staffSubscribeTemplateId) continue;
    for (const [openid, member] of config.staff) {
      if (!mayTake(member, order) || !(await takeStaffCredit(deps, openid))) continue;
      try {
        await deps.messenger.sendSubscribeMessage({
          touser: openid,
          templateId: config.staffSubscribeTemplateId,
          page: `pages/staff/order/index?id=${order._id}`,
          data: {
            thing1: { value: orderLine(order).slice(0, 20) },
            character_string2: { value: order._id.slice(0, 32) },
            time3: {
              value: new Date((order.paidAt ?? now) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' '),
            },
          },
        });
        summary.staffMessages += 1;
      } catch (error) {
        deps.log.warn('staff new-order message failed', { orderId: order._id, error: (error as Error).message });
      }
    }
  }

  const late = await store.find<OrderDoc>(
    COLLECTIONS.orders,
    {
      ...waiting,
      paidAt: _.lte(now - config.fulfilAcceptAlertMinutes * 60_000),
      'fulfilment.lateAlertAt': _.exists(false),
    },
    { orderBy: [['paidAt', 'asc']], limit },
  );
  for (const order of late) {
    const claimed = await store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id, 'fulfilment.lateAlertAt': _.exists(false) },
      { fulfilment: { lateAlertAt: now } },
    );
    if (!claimed) continue;
    summary.lateAlerts += 1;
    await raiseAlert(deps, {
      cause: `not_accepted:${order._id}`,
      severity: 'critical',
      message: `订单 ${order._id} 付款 ${config.fulfilAcceptAlertMinutes} 分钟仍无人接单：${orderLine(order)}`,
      detail: { orderId: order._id, paidAt: order.paidAt },
    });
  }

  summary.uploads = await retryDueUploads(deps, limit);
  return summary;
}
