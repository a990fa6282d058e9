/**
 * Where alerts go. Until the books issue's alerts (a WeCom robot, an `alerts` collection, subscribe messages to admins)
 * land, an alert is one log line at warn or error level, searchable by `"alert"`. To wire another sink, change
 * `alertSink` (the runtime asks it for every invocation) or pass one to the key watch.
 */
import type { Alert, AlertSink, Logger } from '../domain/deps';

export function logAlerts(log: Logger): AlertSink {
  return {
    async raise(alert: Alert) {
      const fields = { alert: alert.cause, severity: alert.severity, ...alert.detail };
      if (alert.severity === 'critical') log.error(`ALERT ${alert.message}`, fields);
      else log.warn(`ALERT ${alert.message}`, fields);
    },
  };
}

export function alertSink(log: Logger): AlertSink {
  return logAlerts(log);
}
