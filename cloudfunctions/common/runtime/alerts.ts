/**
 * Where alerts go: the alert center (domain/attention/alerts.ts: a log line, the WeCom robot of ALERT_WEBHOOK_URL, subscribe
 * messages of ALERT_TEMPLATE_ID to admins who accepted them, one per cause, every send recorded in `alerts`). The
 * runtime asks `alertSink` for every invocation; `logAlerts` is the log line alone.
 */
import { AlertCenter, loadAlertSettings } from '../domain/attention/alerts';
import type { Alert, AlertSink, Deps, Logger } from '../domain/deps';

export function logAlerts(log: Logger): AlertSink {
  return {
    async raise(alert: Alert) {
      const fields = { alert: alert.cause, severity: alert.severity, ...alert.detail };
      if (alert.severity === 'critical') log.error(`ALERT ${alert.message}`, fields);
      else log.warn(`ALERT ${alert.message}`, fields);
    },
  };
}

let reported = '';

export function alertSink(deps: Pick<Deps, 'store' | 'clock' | 'log' | 'messenger' | 'config'>): AlertSink {
  const { settings, problems } = loadAlertSettings(process.env);
  // a malformed alert setting is said once per value, not on every invocation
  if (problems.length && problems.join() !== reported) deps.log.warn('alert settings: defaults used', { problems });
  reported = problems.join();
  return new AlertCenter({
    store: deps.store,
    clock: deps.clock,
    log: deps.log,
    messenger: deps.messenger,
    admins: deps.config.adminOpenids,
    settings,
  });
}
