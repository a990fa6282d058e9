/**
 * The payment-success subscribe message, sent only to a user who accepted it. WeChat delivers a one-time subscribe
 * message only after the user accepted its template in wx.requestSubscribeMessage (otherwise errcode 43101), and
 * one message per acceptance. The client asks in the pay tap and, on 'accept', records it here for the order it is
 * paying; settlement claims that acceptance when the order is paid, so at most one message per order is sent and none
 * without an acceptance.
 */
import type { SubscribePaidRequest, SubscribePaidResponse } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { loadOwnedOrder, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError } from '../errors';
import { asObject, onlyKeys, readOrderId, readString } from '../validate';

/** One per order (`_id` the order id). */
export interface PaySubscriptionDoc {
  _id: string;
  openid: string;
  templateId: string;
  /** accepted: waiting for the payment; sent: the message went out; failed: WeChat refused it */
  status: 'accepted' | 'sent' | 'failed';
  acceptedAt: number;
  sentAt?: number;
  error?: string;
  updatedAt: number;
}

/** payment.subscribe: the owner of an order accepted the payment-success message while paying it. */
export async function subscribePaid(deps: Deps, caller: Caller, event: unknown): Promise<SubscribePaidResponse> {
  const openid = requireCaller(caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'orderId', 'templateId']);
  const { orderId, templateId }: SubscribePaidRequest = {
    orderId: readOrderId(obj),
    templateId: readString(obj, 'templateId', { max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
  };
  if (templateId !== deps.config.subscribeTemplateId) {
    // the client asked for a template this backend does not send (or none is configured): nothing could be delivered
    throw new DomainError('FAILED_PRECONDITION', '该订阅消息未启用');
  }
  const order = await loadOwnedOrder(deps, openid, orderId);
  const now = deps.clock();
  const doc: PaySubscriptionDoc = {
    _id: order._id,
    openid,
    templateId,
    status: 'accepted',
    acceptedAt: now,
    updatedAt: now,
  };
  if ((await deps.store.insert(COLLECTIONS.paySubscriptions, doc)) === 'exists') {
    // accepted again (a second pay tap): still one message; one already sent stays sent
    await deps.store.updateWhere(
      COLLECTIONS.paySubscriptions,
      { _id: order._id, status: deps.store.command.neq('sent') },
      { status: 'accepted', templateId, acceptedAt: now, updatedAt: now },
    );
  }
  return { orderId: order._id, templateId, acceptedAt: now };
}

/**
 * Claims the order's acceptance for sending (compare-and-set accepted → sent): true once, for the first caller, and
 * only when the order's owner accepted this template. One write.
 */
export async function claimPaidMessage(
  deps: Deps,
  orderId: string,
  openid: string,
  templateId: string,
): Promise<boolean> {
  const now = deps.clock();
  const claimed = await deps.store.updateWhere(
    COLLECTIONS.paySubscriptions,
    { _id: orderId, openid, templateId, status: 'accepted' },
    { status: 'sent', sentAt: now, updatedAt: now },
  );
  return claimed > 0;
}

/** WeChat refused the message (the user turned subscriptions off meanwhile, say): kept with the reason. */
export async function markPaidMessageFailed(deps: Deps, orderId: string, error: string): Promise<void> {
  await deps.store.updateWhere(
    COLLECTIONS.paySubscriptions,
    { _id: orderId, status: 'sent' },
    { status: 'failed', error: error.slice(0, 200), updatedAt: deps.clock() },
  );
}
