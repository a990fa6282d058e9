/**
 * msgPush: the mini-program's message push (消息推送) delivered by WeChat Cloud to this function: the order shipping
 * management's events (trade_manage_order_settlement, trade_manage_remind_shipping, trade_manage_remind_access_api).
 * Not callable from the mini-program: an event that carries a user's identity is refused, like the timers.
 */
import { handlePushEvent } from '../common/domain/fulfilment/wechat-events';
import { cloudRuntime } from '../common/runtime/cloud';
import { messagePush } from '../common/runtime/handler';

export const main = messagePush(cloudRuntime('msgPush'), handlePushEvent);
