/**
 * WeChat's message-push events of the order shipping management, delivered by WeChat Cloud to the msgPush function
 * (消息推送 → 云函数) as the function's event, fields as WeChat names them:
 *   trade_manage_order_settlement   receipt confirmed / settled: a shipped order moves to received (who and when);
 *   trade_manage_remind_shipping    WeChat reminds the merchant to upload shipping information: an alert;
 *   trade_manage_remind_access_api  WeChat asks the merchant to use the shipping API: an alert.
 * confirm_receive_method: WeChat's docs say 1 automatic, 2 by the buyer (only present on settlement); developers report
 * receiving them the other way round. The docs are followed and the raw value is kept on the step, and either value
 * moves the order: what matters is that receipt was confirmed.
 */
import { createHash } from 'node:crypto';
import { COLLECTIONS } from '../../store/store';
import { raiseAlert } from '../attention/alerts';
import { entry } from '../access';
import type { Deps } from '../deps';
import { invalid } from '../errors';
import type { OrderDoc, PaymentDoc } from '../records';
import { asObject } from '../validate';
import { moveFulfilment } from './moves';

export const SHIPPING_EVENTS = [
  'trade_manage_order_settlement',
  'trade_manage_remind_shipping',
  'trade_manage_remind_access_api',
] as const;
export type ShippingEventName = (typeof SHIPPING_EVENTS)[number];

export interface PushEvent {
  ToUserName: string;
  FromUserName: string;
  CreateTime: number;
  MsgType: 'event';
  Event: string;
  transaction_id?: string;
  merchant_id?: string;
  merchant_trade_no?: string;
  confirm_receive_method?: number;
  confirm_receive_time?: number;
  settlement_time?: number;
  msg?: string;
}

export type PushOutcome = 'received' | 'settled' | 'alerted' | 'duplicate' | 'unknown_order' | 'ignored';

export function parsePushEvent(event: unknown): PushEvent {
  const obj = asObject(event);
  if (obj.MsgType !== 'event') throw invalid('MsgType', 'a message-push event');
  if (typeof obj.Event !== 'string' || typeof obj.ToUserName !== 'string')
    throw invalid('Event', 'a message-push event');
  const num = (k: string) =>
    typeof obj[k] === 'number'
      ? obj[k]
      : typeof obj[k] === 'string' && /^\d+$/.test(obj[k] as string)
        ? Number(obj[k])
        : undefined;
  const str = (k: string) => (typeof obj[k] === 'string' ? (obj[k] as string).slice(0, 64) : undefined);
  return {
    ToUserName: obj.ToUserName,
    FromUserName: typeof obj.FromUserName === 'string' ? obj.FromUserName : '',
    CreateTime: num('CreateTime') ?? 0,
    MsgType: 'event',
    Event: obj.Event,
    ...(str('transaction_id') ? { transaction_id: str('transaction_id') } : {}),
    ...(str('merchant_id') ? { merchant_id: str('merchant_id') } : {}),
    ...(str('merchant_trade_no') ? { merchant_trade_no: str('merchant_trade_no') } : {}),
    ...(num('confirm_receive_method') !== undefined ? { confirm_receive_method: num('confirm_receive_method') } : {}),
    ...(num('confirm_receive_time') !== undefined ? { confirm_receive_time: num('confirm_receive_time') } : {}),
    ...(num('settlement_time') !== undefined ? { settlement_time: num('settlement_time') } : {}),
    ...(typeof obj.msg === 'string' ? { msg: obj.msg.slice(0, 200) } : {}),
  } as PushEvent;
}

async function orderOf(deps: Deps, e: PushEvent): Promise<OrderDoc | undefined> {
  const outTradeNo = e.merchant_trade_no;
  if (!outTradeNo) return undefined;
  const payment = await deps.store.getById<PaymentDoc>(COLLECTIONS.payments, outTradeNo);
  if (!payment) return undefined;
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, payment.orderId);
  // the order's own payment only: a payment the order never used (a duplicate) is refunded, not delivered
  return order?.paidOutTradeNo === outTradeNo ? order : undefined;
}

/** Handles one pushed event; a repeated delivery (WeChat retries) is recognised and handled once. */
export async function handlePushEvent(deps: Deps, event: unknown): Promise<PushOutcome> {
  const e = parsePushEvent(event);
  if (!(SHIPPING_EVENTS as readonly string[]).includes(e.Event)) return 'ignored';
  const key = createHash('sha256')
    .update(
      [
        e.Event,
        e.CreateTime,
        e.transaction_id ?? '',
        e.merchant_trade_no ?? '',
        e.settlement_time ?? '',
        e.confirm_receive_time ?? '',
      ].join('|'),
    )
    .digest('hex')
    .slice(0, 32);
  if ((await deps.store.insert(COLLECTIONS.wxEvents, { _id: key, event: e, at: deps.clock() })) === 'exists')
    return 'duplicate';

  if (e.Event !== 'trade_manage_order_settlement') {
    await raiseAlert(deps, {
      cause: `${e.Event}:${e.merchant_trade_no ?? e.CreateTime}`,
      severity: 'warning',
      message:
        e.Event === 'trade_manage_remind_shipping'
          ? `微信提醒发货：${e.merchant_trade_no ?? ''} ${e.msg ?? ''}`.trim()
          : `微信提醒接入发货信息管理接口：${e.msg ?? ''}`.trim(),
      detail: { ...e },
    });
    return 'alerted';
  }

  const order = await orderOf(deps, e);
  if (!order) {
    deps.log.warn('settlement event for no order of ours', { merchant_trade_no: e.merchant_trade_no });
    return 'unknown_order';
  }
  const now = deps.clock();
  const at = (e.confirm_receive_time ?? e.settlement_time ?? e.CreateTime) * 1000 || now;
  let outcome: PushOutcome = 'settled';
  if (order.fulfilment?.state === 'shipped') {
    const receivedBy = e.confirm_receive_method === 1 ? 'wechat_auto' : 'wechat_buyer';
    try {
      await moveFulfilment(
        deps,
        order,
        'receive',
        { role: 'wechat', openid: '', name: '微信' },
        {
          fulfilment: { receivedBy },
          detail: `confirm_receive_method=${e.confirm_receive_method ?? '-'} at ${new Date(at).toISOString()}`,
        },
      );
      outcome = 'received';
    } catch {
      // moved meanwhile (the buyer confirmed in the mini-program): the settlement below is still recorded
    }
  }
  if (e.settlement_time !== undefined)
    await deps.store.updateWhere(
      COLLECTIONS.orders,
      { _id: order._id, 'wxShipping.settledAt': deps.store.command.exists(false) },
      {
        wxShipping: { settledAt: e.settlement_time * 1000 },
        timeline: deps.store.command.push([
          entry(now, 'wechat_settled', new Date(e.settlement_time * 1000).toISOString()),
        ]),
      },
    );
  return outcome;
}
