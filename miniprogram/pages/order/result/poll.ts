/** When the result page asks again: backing off, and when it asks WeChat Pay through the backend instead. */
export const POLL_DELAYS_MS = [1000, 1500, 2250, 3000, 4000, 5000];
/** still pending after this long: the notification is late, ask the backend to query WeChat Pay */
export const CONFIRM_AFTER_MS = 3000;
