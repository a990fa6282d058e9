/** clientLog: what the mini-program could not explain to its user, reported without personal data and rate-limited. */

/**
 * What the client reports that it could not explain to the user: a payment errMsg it does not know, a payment sheet
 * answered "cancel" (which WeChat also answers for some real errors), a subscribe request that failed. No personal
 * data: no openid, order number, name or phone; the server masks long digit and hex runs in `message` as well.
 */
export type ClientLogKind = 'pay_error' | 'pay_cancel' | 'subscribe_error';

export const CLIENT_LOG_KINDS: readonly ClientLogKind[] = ['pay_error', 'pay_cancel', 'subscribe_error'];

export interface ClientLogRequest {
  kind: ClientLogKind;
  /** the platform's raw message, e.g. wx.requestPayment's errMsg (at most 200 characters) */
  message: string;
  /** the page route, e.g. `pages/order/confirm/index` */
  page: string;
  /** the base library version and platform (`ios`, `android`, `windows`, `mac`, `devtools`) */
  sdkVersion?: string;
  platform?: string;
  /** ms from opening the payment sheet to its answer: a "cancel" within a second is likely an error */
  elapsedMs?: number;
}

/** `accepted: false` when the caller is over its rate limit: the entry was dropped, which is not an error. */
export interface ClientLogResponse {
  accepted: boolean;
}
