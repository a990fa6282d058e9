/**
 * WeChat's order shipping management (小程序发货信息管理服务): for mini-programs under it, the payment's money stays
 * frozen until the shipping information is uploaded and the buyer confirms receipt. An order's upload is kept on the
 * order (`wxShipping`), written by the same compare-and-set as the move that made it due (handed over: 4 buyer
 * pick-up; shipped: 1 express with tracking; service completed: 3 virtual), so it is never lost between two writes.
 * It is tried at once and then by the reconcile timer with backoff; after a day of failures an alert is raised.
 * When is_trade_managed says the mini-program is not managed, nothing is uploaded ('not_managed').
 * WeChat allows one update of an upload, before the buyer confirms receipt: `correctShipping` uses it, once.
 */
import { COLLECTIONS } from '../../store/store';
import { raiseAlert } from '../attention/alerts';
import type { Deps, UploadShippingInfo, WxAnswer } from '../deps';
import type { LogisticsType, OrderDoc, WxShippingRecord } from '../records';

export const UPLOAD_LEASE_MS = 2 * 60_000;
export const UPLOAD_ALERT_AFTER_MS = 24 * 3600_000;
/** is_trade_managed changes rarely (an admin opens the service in the mp admin): asked again after this */
export const TRADE_MANAGED_TTL_MS = 6 * 3600_000;

/**
 * upload_shipping_info's documented errcodes (WeChat's page for the API; 10060001 and 10060004 are also confirmed by
 * WeChat's answers in its developer community). The project reads them by meaning, below.
 */
export const SHIPPING_ERRCODES = {
  /** 支付单不存在: also what WeChat answers in the first seconds after payment (the order not yet in its system) */
  orderNotFound: 10060001,
  /** 支付单已完成发货，无法继续发货 */
  alreadyShipped: 10060002,
  /** 支付单已使用重新发货机会 (the one update was used) */
  updateUsed: 10060003,
  /** 支付单处于不可发货的状态 (e.g. not paid, refunded) */
  notShippable: 10060004,
  /** 物流类型有误 */
  invalidLogisticsType: 10060005,
  /** 非快递发货时不允许分拆发货 */
  splitNotExpress: 10060006,
  /** 商品描述 item_desc 不能为空 */
  itemDescEmpty: 10060008,
  /** 物流公司编码有误 */
  invalidExpressCompany: 10060027,
  /** 系统繁忙 */
  busy: 10060012,
  /** 参数错误 */
  invalidParam: 10060014,
  /** 上传时间非法 (RFC 3339, later than the previous upload) */
  invalidUploadTime: 268485216,
} as const;

/** ms since epoch as RFC 3339 in China time, as WeChat's example: 2022-12-15T13:29:35.120+08:00 */
export function rfc3339China(ms: number): string {
  return `${new Date(ms + 8 * 3600_000).toISOString().replace('Z', '')}+08:00`;
}

/** The first 120 characters of what was bought, as item_desc wants it: 拿铁咖啡*2 黄油可颂*1 */
export const itemDescOf = (order: Pick<OrderDoc, 'items'>) =>
  order.items
    .map((i) => `${i.title}*${i.quantity}`)
    .join(' ')
    .slice(0, 120);

/** 138****1234: what WeChat wants as a contact, and what staff see of the buyer. */
export const maskPhone = (phone: string) => (phone.length >= 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : '****');

/** The upload a move makes due: set on the order by that move's compare-and-set. */
export function shippingDue(
  order: OrderDoc,
  logisticsType: LogisticsType,
  now: number,
  express?: { expressCompany: string; trackingNo: string },
): WxShippingRecord {
  return {
    status: 'pending',
    logisticsType,
    itemDesc: itemDescOf(order),
    ...(express ?? {}),
    ...(order.fulfilment?.address ? { receiverContact: maskPhone(order.fulfilment.address.telNumber) } : {}),
    attempts: 0,
    nextAttemptAt: now,
    firstAttemptAt: now,
  };
}

interface WxStateDoc {
  _id: string;
  managed: boolean;
  checkedAt: number;
}

/** is_trade_managed, cached for TRADE_MANAGED_TTL_MS; null when WeChat could not be asked. */
export async function tradeManaged(deps: Deps, options: { fresh?: boolean } = {}): Promise<boolean | null> {
  const now = deps.clock();
  const cached = await deps.store.getById<WxStateDoc>(COLLECTIONS.wxState, 'trade_managed');
  if (cached && !options.fresh && now - cached.checkedAt < TRADE_MANAGED_TTL_MS) return cached.managed;
  if (!deps.wxOrder) return cached?.managed ?? null;
  const answer: WxAnswer & { is_trade_managed?: boolean } = await call(() =>
    deps.wxOrder!.isTradeManaged({ appid: deps.wxOrder!.appid }),
  );
  if (answer.errcode !== 0 || typeof answer.is_trade_managed !== 'boolean') {
    deps.log.warn('is_trade_managed failed', { errcode: answer.errcode, errmsg: answer.errmsg });
    return cached?.managed ?? null;
  }
  const doc: WxStateDoc = { _id: 'trade_managed', managed: answer.is_trade_managed, checkedAt: now };
  if ((await deps.store.insert(COLLECTIONS.wxState, doc)) === 'exists')
    await deps.store.updateWhere(COLLECTIONS.wxState, { _id: doc._id }, { managed: doc.managed, checkedAt: now });
  return doc.managed;
}

/** The last is_trade_managed answer kept, for the admin home. */
export async function lastTradeManaged(deps: Deps): Promise<{ managed: boolean | null; checkedAt?: number }> {
  const doc = await deps.store.getById<WxStateDoc>(COLLECTIONS.wxState, 'trade_managed');
  return doc ? { managed: doc.managed, checkedAt: doc.checkedAt } : { managed: null };
}

/** A WeChat call whose failure (a thrown SDK error, a network error) is read as an answer, never thrown on. */
async function call<T extends WxAnswer>(fn: () => Promise<T>): Promise<T | WxAnswer> {
  try {
    return await fn();
  } catch (error) {
    const e = error as { errCode?: number; errcode?: number; errMsg?: string; message?: string };
    return { errcode: e.errCode ?? e.errcode ?? -1, errmsg: e.errMsg ?? e.message ?? String(error) };
  }
}

/** From the first attempt: 1, 2, 4 … minutes, at most an hour apart. */
export const uploadBackoffMs = (attempts: number) => Math.min(60 * 60_000, 60_000 * 2 ** Math.min(attempts, 6));

export function uploadBody(deps: Deps, order: OrderDoc, w: WxShippingRecord, uploadTime: string): UploadShippingInfo {
  const express = w.logisticsType === 1;
  return {
    order_key: { order_number_type: 1, mchid: deps.wxOrder!.mchid, out_trade_no: order.paidOutTradeNo! },
    logistics_type: w.logisticsType,
    delivery_mode: 1,
    shipping_list: [
      {
        ...(express ? { tracking_no: w.trackingNo!, express_company: w.expressCompany! } : {}),
        item_desc: w.itemDesc,
        ...(express && w.receiverContact ? { contact: { receiver_contact: w.receiverContact } } : {}),
      },
    ],
    upload_time: uploadTime,
    payer: { openid: order.openid },
  };
}

export type UploadOutcome = 'uploaded' | 'not_managed' | 'failed' | 'busy' | 'nothing_due';

/**
 * Tries the order's due upload once: claims it (a compare-and-set that pushes its next attempt out by a lease, so two
 * callers never upload it at once), asks is_trade_managed (cached), uploads, and records the answer by its meaning.
 */
export async function uploadShipping(deps: Deps, orderId: string): Promise<UploadOutcome> {
  const { store } = deps;
  const order = await store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  const w = order?.wxShipping;
  if (!order || !w) return 'nothing_due';
  const due = w.status === 'pending' || w.status === 'failed' || (w.status === 'uploaded' && w.correctionPending);
  const now = deps.clock();
  if (!due || w.nextAttemptAt > now) return 'nothing_due';
  const claimed = await store.updateWhere(
    COLLECTIONS.orders,
    { _id: orderId, 'wxShipping.attempts': w.attempts, 'wxShipping.nextAttemptAt': w.nextAttemptAt },
    { wxShipping: { nextAttemptAt: now + UPLOAD_LEASE_MS } },
  );
  if (!claimed) return 'busy';
  const same = { _id: orderId, 'wxShipping.attempts': w.attempts };
  const managed = await tradeManaged(deps);
  if (managed === false) {
    await store.updateWhere(COLLECTIONS.orders, same, {
      wxShipping: { status: 'not_managed', attempts: w.attempts + 1 },
    });
    return 'not_managed';
  }
  // a later upload must carry a later upload_time than the one before it
  const at = w.uploadTime ? Math.max(now, Date.parse(w.uploadTime) + 1) : now;
  const uploadTime = rfc3339China(at);
  const answer =
    managed === null
      ? { errcode: -1, errmsg: 'is_trade_managed could not be asked' }
      : await call(() => deps.wxOrder!.uploadShippingInfo(uploadBody(deps, order, w, uploadTime)));
  // already shipped (e.g. entered by hand in the mp admin) is, for a first upload, what we wanted
  const done = answer.errcode === 0 || (answer.errcode === SHIPPING_ERRCODES.alreadyShipped && !w.correctionPending);
  if (done) {
    await store.updateWhere(COLLECTIONS.orders, same, {
      wxShipping: {
        status: 'uploaded',
        attempts: w.attempts + 1,
        uploadedAt: now,
        uploadTime,
        correctionPending: false,
        ...(w.correctionPending ? { corrected: true } : {}),
        lastError: answer.errcode === 0 ? '' : `${answer.errcode} ${answer.errmsg}`,
      },
      timeline: store.command.push([
        { at: now, event: w.correctionPending ? 'shipping_corrected' : 'shipping_uploaded' },
      ]),
    });
    return 'uploaded';
  }
  const overdue = now - w.firstAttemptAt >= UPLOAD_ALERT_AFTER_MS && w.overdueAlertAt === undefined;
  await store.updateWhere(COLLECTIONS.orders, same, {
    wxShipping: {
      status: w.status === 'uploaded' ? 'uploaded' : 'failed',
      attempts: w.attempts + 1,
      nextAttemptAt: now + uploadBackoffMs(w.attempts),
      lastError: `${answer.errcode} ${answer.errmsg}`.slice(0, 200),
      ...(overdue ? { overdueAlertAt: now } : {}),
    },
  });
  deps.log.warn('shipping upload failed', { orderId, errcode: answer.errcode, errmsg: answer.errmsg });
  if (overdue)
    await raiseAlert(deps, {
      cause: `shipping_upload:${orderId}`,
      severity: 'critical',
      message: `订单 ${orderId} 的发货信息一天内未能录入微信（${answer.errcode}），货款将保持冻结`,
      detail: { orderId, errcode: answer.errcode, errmsg: answer.errmsg },
    });
  return 'failed';
}

/** The reconcile timer's pass: uploads due now, oldest first, at most `limit`. */
export async function retryDueUploads(deps: Deps, limit: number): Promise<Record<UploadOutcome, number>> {
  const _ = deps.store.command;
  const due = await deps.store.find<OrderDoc>(
    COLLECTIONS.orders,
    { 'wxShipping.status': _.in(['pending', 'failed']), 'wxShipping.nextAttemptAt': _.lte(deps.clock()) },
    { orderBy: [['wxShipping.nextAttemptAt', 'asc']], limit },
  );
  const counts: Record<UploadOutcome, number> = { uploaded: 0, not_managed: 0, failed: 0, busy: 0, nothing_due: 0 };
  for (const order of due) counts[await uploadShipping(deps, order._id)] += 1;
  return counts;
}

/** get_order: the WeChat-side state of the order's payment (1 待发货 2 已发货 3 确认收货 4 交易完成 5 已退款). */
export async function readWxOrderState(deps: Deps, order: OrderDoc): Promise<number | undefined> {
  if (!deps.wxOrder || !order.paidOutTradeNo) return undefined;
  const answer = await call(() =>
    deps.wxOrder!.getOrder({ merchant_id: deps.wxOrder!.mchid, merchant_trade_no: order.paidOutTradeNo! }),
  );
  const state = 'order' in answer ? answer.order?.order_state : undefined;
  if (answer.errcode !== 0 || state === undefined) return undefined;
  await deps.store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id, wxShipping: deps.store.command.exists(true) },
    {
      wxShipping: { wxOrderState: state },
    },
  );
  return state;
}
