/**
 * The buyer's order-progress subscribe message: sent once, when the order is ready for pickup or shipped, and only
 * after the buyer accepted it (WeChat delivers a one-time subscribe message only after an acceptance, one per
 * acceptance). The acceptance is kept beside the payment-success one (`pay_subscriptions`, `_id` `<orderId>:progress`)
 * and claimed by a compare-and-set (accepted → sent), so a retried move never sends twice.
 */
import type { SubscribeProgressRequest, SubscribeProgressResponse } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { loadOwnedOrder, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError } from '../errors';
import type { PaySubscriptionDoc } from '../money/subscriptions';
import type { OrderDoc } from '../records';
import { asObject, onlyKeys, readOrderId, readString } from '../validate';

const progressId = (orderId: string) => `${orderId}:progress`;

export async function subscribeProgress(
  deps: Deps,
  caller: Caller,
  event: unknown,
): Promise<SubscribeProgressResponse> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId', 'templateId']);
  const { orderId, templateId }: SubscribeProgressRequest = {
    orderId: readOrderId(obj),
    templateId: readString(obj, 'templateId', { max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
  };
  if (templateId !== deps.config.progressSubscribeTemplateId)
    throw new DomainError('FAILED_PRECONDITION', '该订阅消息未启用');
  const order = await loadOwnedOrder(deps, openid, orderId);
  const now = deps.clock();
  const doc: PaySubscriptionDoc = {
    _id: progressId(order._id),
    openid,
    templateId,
    status: 'accepted',
    acceptedAt: now,
    updatedAt: now,
  };
  if ((await deps.store.insert(COLLECTIONS.paySubscriptions, doc)) === 'exists')
    await deps.store.updateWhere(
      COLLECTIONS.paySubscriptions,
      { _id: doc._id, status: deps.store.command.neq('sent') },
      { status: 'accepted', templateId, acceptedAt: now, updatedAt: now },
    );
  return { orderId: order._id, templateId, acceptedAt: now };
}

/** After a ready or ship move: the one message, if accepted; a refusal by WeChat is kept, never thrown to the staff. */
export async function sendProgressMessage(deps: Deps, order: OrderDoc): Promise<boolean> {
  const templateId = deps.config.progressSubscribeTemplateId;
  const f = order.fulfilment;
  if (!templateId || !f || (f.state !== 'ready' && f.state !== 'shipped')) return false;
  const now = deps.clock();
  const claimed = await deps.store.updateWhere(
    COLLECTIONS.paySubscriptions,
    { _id: progressId(order._id), openid: order.openid, templateId, status: 'accepted' },
    { status: 'sent', sentAt: now, updatedAt: now },
  );
  if (!claimed) return false;
  const what =
    f.state === 'ready'
      ? `待取餐，取餐码 ${f.pickupCode ?? ''}`
      : `已发货 ${f.shipping?.expressName ?? ''} ${f.shipping?.trackingNo ?? ''}`;
  try {
    await deps.messenger.sendSubscribeMessage({
      touser: order.openid,
      templateId,
      page: `pages/order/detail/index?id=${order._id}`,
      data: {
        character_string1: { value: order._id.slice(0, 32) },
        thing2: {
          value: order.items
            .map((i) => i.title)
            .join('、')
            .slice(0, 20),
        },
        phrase3: { value: f.state === 'ready' ? '待取餐' : '已发货' },
        thing4: { value: what.trim().slice(0, 20) },
      },
    });
    return true;
  } catch (error) {
    await deps.store.updateWhere(
      COLLECTIONS.paySubscriptions,
      { _id: progressId(order._id), status: 'sent' },
      { status: 'failed', error: String((error as Error).message).slice(0, 200), updatedAt: deps.clock() },
    );
    deps.log.warn('progress message failed', { orderId: order._id, error: (error as Error).message });
    return false;
  }
}
