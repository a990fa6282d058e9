/**
 * The refund life cycle as one table. Submit, notification, query, reconcile and the admin actions all move a refund
 * through `moveAllowed`, and what a move does to the order's reservation comes from `reservationEffect`; nothing
 * else decides a refund's state.
 *
 *   queued      reserved and recorded, not yet accepted by WeChat Pay: to be (re)submitted with the same
 *               out_refund_no (first submission, NOT_ENOUGH, the one-minute gate, or a query that found nothing)
 *   unknown     submitted, answer unknown (network, timeout, 5xx, SYSTEM_ERROR, 429): query before anything else
 *   processing  accepted by WeChat Pay
 *   abnormal    WeChat Pay sent the money but the user's account could not take it: NOT final, the reservation holds
 *               and a person acts (apply-abnormal-refund, or the merchant platform); SUCCESS may follow
 *   success     final: the reservation is consumed (or, for a refund already released, applied again)
 *   closed      final: WeChat Pay closed it; the reservation is released
 *   failed      final: WeChat Pay refused the request for good (INVALID_REQUEST, PARAM_ERROR, …); released
 *
 * A reservation is released only by a definitive answer (closed, failed). A SUCCESS is never dropped, even for a
 * refund held as closed or failed.
 */
import type { RefundStatus as WxRefundStatus } from '../../wechatpay';

export type RefundState = 'queued' | 'unknown' | 'processing' | 'abnormal' | 'success' | 'closed' | 'failed';
export const REFUND_STATES: readonly RefundState[] = [
  'queued',
  'unknown',
  'processing',
  'abnormal',
  'success',
  'closed',
  'failed',
];

/** from → the states it may move to */
export const REFUND_TRANSITIONS: Readonly<Record<RefundState, readonly RefundState[]>> = {
  queued: ['unknown', 'processing', 'abnormal', 'success', 'closed', 'failed'],
  unknown: ['queued', 'processing', 'abnormal', 'success', 'closed'],
  processing: ['abnormal', 'success', 'closed'],
  abnormal: ['processing', 'success', 'closed'],
  success: [],
  closed: ['success'],
  failed: ['success'],
};

export type ReservationEffect = 'keep' | 'consume' | 'release';

export function reservationEffect(to: RefundState): ReservationEffect {
  if (to === 'success') return 'consume';
  if (to === 'closed' || to === 'failed') return 'release';
  return 'keep';
}

export function moveAllowed(from: RefundState, to: RefundState): boolean {
  return REFUND_TRANSITIONS[from].includes(to);
}

/** The states a refund may be in for a move to `to` (the compare-and-set condition). */
export function sourcesOf(to: RefundState): RefundState[] {
  return REFUND_STATES.filter((from) => moveAllowed(from, to));
}

/** Still needs reconcile's attention: everything not final. */
export const OPEN_REFUND_STATES: readonly RefundState[] = REFUND_STATES.filter(
  (s) => REFUND_TRANSITIONS[s].length > 0 && s !== 'closed' && s !== 'failed',
);

export const REFUND_STATE_FROM_WECHAT: Readonly<Record<WxRefundStatus, RefundState>> = {
  PROCESSING: 'processing',
  SUCCESS: 'success',
  ABNORMAL: 'abnormal',
  CLOSED: 'closed',
};

/**
 * What an answer to a refund submission means, by its documented meaning (WeChat Pay's refund error table), never
 * by its HTTP class.
 */
export type SubmitVerdict =
  | { kind: 'accepted'; status: WxRefundStatus; refundId: string }
  | { kind: 'unknown'; reason: string }
  | { kind: 'retry_later'; reason: string }
  | { kind: 'refused'; reason: string };

/** Codes after which the same out_refund_no is submitted again later, with no query needed: not accepted. */
const RETRY_LATER = new Set(['NOT_ENOUGH', 'NOTENOUGH', 'SIGN_ERROR']);
/** Codes that refuse the request for good. */
const REFUSED = new Set([
  'INVALID_REQUEST',
  'PARAM_ERROR',
  'USER_ACCOUNT_ABNORMAL',
  'NO_AUTH',
  'RESOURCE_NOT_EXISTS',
  'MCH_NOT_EXISTS',
  'ORDER_NOT_EXIST',
  'ORDERNOTEXIST',
]);

/** Classifies an error answer (status and code); anything not documented as final or as "retry later" is unknown. */
export function classifyRefundError(
  status: number | undefined,
  code: string | undefined,
): Exclude<SubmitVerdict, { kind: 'accepted' }> {
  const reason = status === undefined ? 'no answer' : `${status} ${code ?? ''}`.trim();
  if (status === undefined || code === undefined) return { kind: 'unknown', reason };
  if (RETRY_LATER.has(code)) return { kind: 'retry_later', reason };
  if (REFUSED.has(code) && status >= 400 && status < 500) return { kind: 'refused', reason };
  return { kind: 'unknown', reason };
}

/** Backoff for reconcile's next look at a refund: one minute, doubling, capped (an abnormal one at a day). */
export function refundBackoffMs(state: RefundState, attempts: number): number {
  const cap = state === 'abnormal' ? 24 * 3600_000 : 3600_000;
  return Math.min(cap, 60_000 * 2 ** Math.min(attempts, 20));
}
