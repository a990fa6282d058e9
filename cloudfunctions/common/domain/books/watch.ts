/**
 * What the books timer watches besides the bill (every run, a few `count()`s each): notifications failing
 * verification in a burst (a key misconfigured, or someone forging deliveries), refunds that stay abnormal, a bill day
 * without its statement by noon, and a daily reminder of exceptions still open. Each raises one alert per cause;
 * the alert center sends a cause at most once a day.
 */
import { COLLECTIONS } from '../../store/store';
import { alertSettingsOf, raiseAlert } from '../attention/alerts';
import { chinaHour, DAY_MS } from '../days';
import type { Alert, Deps } from '../deps';
import type { RefundDoc } from '../records';
import type { StatementDoc } from './statements';

/** verdicts of deliveries that failed verification or decryption (a SIGNTEST probe is WeChat Pay's own, not counted) */
export const VERIFICATION_FAILURES: readonly string[] = [
  'MISSING_HEADER',
  'MALFORMED_HEADER',
  'UNKNOWN_SERIAL',
  'STALE_TIMESTAMP',
  'BAD_SIGNATURE',
  'DECRYPT_BAD_KEY',
  'DECRYPT_BAD_INPUT',
  'DECRYPT_AUTHENTICATION_FAILED',
  'MALFORMED',
].map((reason) => `rejected:${reason}`);

/** Checks every condition and raises what holds; returns the causes raised. */
export async function watchConditions(deps: Deps, billDate: string): Promise<string[]> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const settings = alertSettingsOf(deps);
  const alerts: Alert[] = [];

  const windowMs = settings.verifyWindowMinutes * 60_000;
  const failures = await store.countWhere(COLLECTIONS.notifications, {
    receivedAt: _.gte(now - windowMs),
    verdict: _.in([...VERIFICATION_FAILURES]),
  });
  if (failures >= settings.verifyFailures) {
    alerts.push({
      cause: 'verification_failures',
      severity: 'critical',
      message: `${failures} notifications failed verification in the last ${settings.verifyWindowMinutes} minutes: check WECHATPAY_PUBLIC_KEY / platform certificates and the APIv3 key, or someone is posting forged notifications`,
      detail: { failures, windowMinutes: settings.verifyWindowMinutes, threshold: settings.verifyFailures },
    });
  }

  const stuck = await store.find<RefundDoc>(
    COLLECTIONS.refunds,
    { status: 'abnormal', abnormalAt: _.lte(now - settings.abnormalRefundHours * 3600_000) },
    { orderBy: [['abnormalAt', 'asc']], limit: 20 },
  );
  for (const refund of stuck) {
    const hours = Math.floor((now - refund.abnormalAt!) / 3600_000);
    alerts.push({
      cause: `abnormal_refund_stuck:${refund._id}`,
      severity: 'critical',
      message: `refund ${refund._id} (${refund.amountFen} fen, order ${refund.orderId}) has been ABNORMAL for ${hours} hours: apply for the abnormal refund or handle it in the merchant platform`,
      detail: { outRefundNo: refund._id, orderId: refund.orderId, amountFen: refund.amountFen, hours },
    });
  }

  if (chinaHour(now) >= 12) {
    const statement = await store.getById<StatementDoc>(COLLECTIONS.statements, billDate);
    if (!statement || (statement.status !== 'done' && statement.status !== 'no_statement')) {
      alerts.push({
        cause: `bill_missing:${billDate}`,
        severity: 'critical',
        message: `no statement for ${billDate} by noon: ${statement ? `${statement.status}, ${statement.lastError ?? 'no error recorded'}` : 'the books job has not run'}`,
        detail: { billDate, status: statement?.status ?? 'none', attempts: statement?.attempts ?? 0 },
      });
    }
  }

  const open = await store.countWhere(COLLECTIONS.exceptions, { status: 'open', firstSeenAt: _.lte(now - DAY_MS) });
  if (open > 0) {
    alerts.push({
      cause: 'exceptions_open',
      severity: 'warning',
      message: `${open} exceptions have been open for more than a day`,
      detail: { open },
    });
  }

  for (const alert of alerts) await raiseAlert(deps, alert);
  return alerts.map((a) => a.cause);
}
