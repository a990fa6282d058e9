/**
 * Alerts to the merchant: one per cause, reminders at most daily, each send recorded with what every channel
 * answered, and a channel that fails never fails the job that raised the alert.
 *
 * Channels:
 * - a WeCom group robot (ALERT_WEBHOOK_URL, `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`): a markdown
 *   message; WeCom answers HTTP 200 with `errcode` 0 when it took it (40058: content too long, 93000: invalid key,
 *   45009/130101: over 20 messages a minute), so success is `errcode === 0`, not the status;
 * - subscribe messages (ALERT_TEMPLATE_ID) to admins (ADMIN_OPENIDS) who accepted them: a one-time subscription
 *   allows one message, so each acceptance the admin's mini-program reports (admin `subscribeAlerts`) is a credit,
 *   spent by a compare-and-set before sending;
 * - always one log line (error for critical, warn otherwise), searchable by `"ALERT"`.
 *
 * State: `alerts/<cause>` holds when the cause was first and last seen, when it was last sent, and its last sends.
 * A send is claimed by a compare-and-set on `lastSentAt`, so two functions raising the same cause at once send once.
 */
import type { ExceptionKind } from '../../../../typings/api';
import type { Env } from '../../wechatpay/config';
import { COLLECTIONS, type Store } from '../../store/store';
import { chinaMinute, DAY_MS } from '../days';
import type { Alert, AlertSink, Deps, Logger, Messenger } from '../deps';

export const ALERT_ENV = {
  webhookUrl: 'ALERT_WEBHOOK_URL',
  templateId: 'ALERT_TEMPLATE_ID',
  verifyFailures: 'ALERT_VERIFY_FAILURES',
  verifyWindowMinutes: 'ALERT_VERIFY_WINDOW_MINUTES',
  abnormalRefundHours: 'ALERT_ABNORMAL_REFUND_HOURS',
} as const;

export interface AlertSettings {
  webhookUrl?: string;
  templateId?: string;
  /** rejected notifications within the window that raise a verification alert */
  verifyFailures: number;
  verifyWindowMinutes: number;
  /** a refund abnormal for this long raises its own alert (the exception alerted when it opened) */
  abnormalRefundHours: number;
  /** per channel call */
  timeoutMs: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  verifyFailures: 20,
  verifyWindowMinutes: 10,
  abnormalRefundHours: 24,
  timeoutMs: 2000,
};
/** a cause is sent again at most this often while it is raised */
export const REMINDER_MS = DAY_MS;
const KEEP_SENDS = 30;
/** WeCom's limit on a markdown message's content */
export const WECOM_MAX_BYTES = 4096;

/** The alert settings from the environment; a malformed value is reported by name and its default used. */
export function loadAlertSettings(env: Env): { settings: AlertSettings; problems: string[] } {
  const problems: string[] = [];
  const text = (name: string) => env[name]?.trim() || undefined;
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    problems.push(`${name} must be an integer between ${min} and ${max}`);
    return fallback;
  };
  let webhookUrl = text(ALERT_ENV.webhookUrl);
  if (webhookUrl && !/^https?:\/\/[^\s]+$/.test(webhookUrl)) {
    problems.push(`${ALERT_ENV.webhookUrl} must be an http(s) URL`);
    webhookUrl = undefined;
  }
  const templateId = text(ALERT_ENV.templateId);
  return {
    settings: {
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(templateId ? { templateId } : {}),
      verifyFailures: int(ALERT_ENV.verifyFailures, DEFAULT_ALERT_SETTINGS.verifyFailures, 1, 100_000),
      verifyWindowMinutes: int(ALERT_ENV.verifyWindowMinutes, DEFAULT_ALERT_SETTINGS.verifyWindowMinutes, 1, 1440),
      abnormalRefundHours: int(ALERT_ENV.abnormalRefundHours, DEFAULT_ALERT_SETTINGS.abnormalRefundHours, 1, 720),
      timeoutMs: DEFAULT_ALERT_SETTINGS.timeoutMs,
    },
    problems,
  };
}

export interface AlertDelivery {
  channel: 'wecom' | 'subscribe';
  /** subscribe: the admin's openid */
  to?: string;
  ok: boolean;
  status?: number;
  errcode?: number;
  error?: string;
}

export interface AlertSend {
  at: number;
  reminder: boolean;
  deliveries: AlertDelivery[];
}

export interface AlertDoc {
  _id: string;
  severity: Alert['severity'];
  message: string;
  detail?: Record<string, unknown>;
  firstAt: number;
  lastSeenAt: number;
  lastSentAt: number;
  /** times sent (the first and each reminder) and times raised while a send was less than a day old */
  sendCount: number;
  suppressed: number;
  /** the last sends, newest last */
  sends: AlertSend[];
}

export interface AlertSubscriptionDoc {
  _id: string; // the admin's openid
  credits: number;
  updatedAt: number;
}

export interface AlertCenterOptions {
  store: Store;
  clock: () => number;
  log: Logger;
  messenger: Messenger;
  admins: ReadonlySet<string>;
  settings: AlertSettings;
  fetch?: typeof fetch;
}

/** The AlertSink the runtime hands the domain (and the key watch): see the module comment. */
export class AlertCenter implements AlertSink {
  constructor(private readonly o: AlertCenterOptions) {}

  get settings(): AlertSettings {
    return this.o.settings;
  }

  /** Never throws: an alert that cannot be recorded or delivered is logged, and the caller goes on. */
  async raise(alert: Alert): Promise<void> {
    const line = `ALERT ${alert.message}`;
    const fields = { alert: alert.cause, severity: alert.severity, ...alert.detail };
    if (alert.severity === 'critical') this.o.log.error(line, fields);
    else this.o.log.warn(line, fields);
    try {
      await this.send(alert);
    } catch (error) {
      this.o.log.error('alert not recorded or delivered', { alert: alert.cause, error: (error as Error).message });
    }
  }

  private async send(alert: Alert): Promise<void> {
    const { store } = this.o;
    const now = this.o.clock();
    const fresh: AlertDoc = {
      _id: alert.cause,
      severity: alert.severity,
      message: alert.message,
      ...(alert.detail ? { detail: alert.detail } : {}),
      firstAt: now,
      lastSeenAt: now,
      lastSentAt: now,
      sendCount: 1,
      suppressed: 0,
      sends: [],
    };
    let reminder = false;
    let history: AlertSend[] = [];
    if ((await store.insert(COLLECTIONS.alerts, fresh)) === 'exists') {
      const doc = await store.getById<AlertDoc>(COLLECTIONS.alerts, alert.cause);
      if (!doc) return;
      if (now - doc.lastSentAt < REMINDER_MS) {
        await store.updateWhere(
          COLLECTIONS.alerts,
          { _id: alert.cause },
          { lastSeenAt: now, suppressed: store.command.inc(1) },
        );
        return;
      }
      // a reminder: claimed by the send time read, so one of several raisers sends it
      const claimed = await store.updateWhere(
        COLLECTIONS.alerts,
        { _id: alert.cause, lastSentAt: doc.lastSentAt },
        {
          lastSentAt: now,
          lastSeenAt: now,
          message: alert.message,
          severity: alert.severity,
          sendCount: store.command.inc(1),
        },
      );
      if (!claimed) return;
      reminder = true;
      history = doc.sends ?? [];
    }
    const deliveries = [...(await this.wecom(alert, reminder, now)), ...(await this.subscribers(alert, now))];
    const sends = [...history, { at: now, reminder, deliveries }].slice(-KEEP_SENDS);
    await store.updateWhere(COLLECTIONS.alerts, { _id: alert.cause }, { sends: store.command.set(sends) });
  }

  private async wecom(alert: Alert, reminder: boolean, now: number): Promise<AlertDelivery[]> {
    const url = this.o.settings.webhookUrl;
    if (!url) return [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.settings.timeoutMs);
    try {
      const response = await (this.o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ msgtype: 'markdown', markdown: { content: wecomMarkdown(alert, reminder, now) } }),
        signal: controller.signal,
      });
      const text = await response.text();
      let errcode: number | undefined;
      try {
        const parsed = JSON.parse(text) as { errcode?: unknown };
        if (typeof parsed.errcode === 'number') errcode = parsed.errcode;
      } catch {
        // not WeCom's JSON: the status tells
      }
      const ok = response.status === 200 && errcode === 0;
      return [
        {
          channel: 'wecom',
          ok,
          status: response.status,
          ...(errcode !== undefined ? { errcode } : {}),
          ...(ok ? {} : { error: text.slice(0, 200) }),
        },
      ];
    } catch (error) {
      return [
        {
          channel: 'wecom',
          ok: false,
          error: controller.signal.aborted
            ? `no answer within ${this.o.settings.timeoutMs} ms`
            : (error as Error).message,
        },
      ];
    } finally {
      clearTimeout(timer);
    }
  }

  private async subscribers(alert: Alert, now: number): Promise<AlertDelivery[]> {
    const templateId = this.o.settings.templateId;
    if (!templateId || this.o.admins.size === 0) return [];
    const { store } = this.o;
    const _ = store.command;
    const deliveries: AlertDelivery[] = [];
    for (const openid of this.o.admins) {
      // spend one accepted subscription first: a message without one would be refused (43101)
      const spent = await store.updateWhere(
        COLLECTIONS.alertSubscriptions,
        { _id: openid, credits: _.gt(0) },
        { credits: _.inc(-1), updatedAt: now },
      );
      if (!spent) continue;
      try {
        await this.o.messenger.sendSubscribeMessage({
          touser: openid,
          templateId,
          page: 'pages/home/index',
          data: {
            thing1: { value: clip(alert.severity === 'critical' ? `严重: ${alert.message}` : alert.message, 20) },
            time2: { value: chinaMinute(now) },
            thing3: { value: clip(alert.cause, 20) },
          },
        });
        deliveries.push({ channel: 'subscribe', to: openid, ok: true });
      } catch (error) {
        const errcode = (error as { errCode?: unknown }).errCode;
        // 43101: the user has no subscription left (refused, or already used): stop trying until they accept again
        if (errcode === 43101)
          await store.updateWhere(COLLECTIONS.alertSubscriptions, { _id: openid }, { credits: 0, updatedAt: now });
        deliveries.push({
          channel: 'subscribe',
          to: openid,
          ok: false,
          ...(typeof errcode === 'number' ? { errcode } : {}),
          error: (error as Error).message,
        });
      }
    }
    return deliveries;
  }
}

/** `text` cut to `max` characters (a subscribe message's `thing` takes 20). */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The WeCom markdown: a heading with the severity, the message, when, and the detail; at most 4096 bytes. */
export function wecomMarkdown(alert: Alert, reminder: boolean, now: number): string {
  const label =
    alert.severity === 'critical' ? '<font color="warning">严重</font>' : '<font color="comment">注意</font>';
  const lines = [
    `### ${label} ${reminder ? '（每日提醒）' : ''}支付告警`,
    alert.message,
    `> 原因: ${alert.cause}`,
    `> 时间: ${chinaMinute(now)}`,
    ...Object.entries(alert.detail ?? {}).map(([k, v]) => `> ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
  ];
  let content = lines.join('\n');
  while (Buffer.byteLength(content, 'utf8') > WECOM_MAX_BYTES)
    content = `${[...content].slice(0, Math.floor([...content].length * 0.9)).join('')}…`;
  return content;
}

/** Raises an alert through the function's sink, if it has one; never throws. */
export async function raiseAlert(deps: Pick<Deps, 'alerts' | 'log'>, alert: Alert): Promise<void> {
  if (!deps.alerts) return;
  try {
    await deps.alerts.raise(alert);
  } catch (error) {
    deps.log.error('alert sink failed', { alert: alert.cause, error: (error as Error).message });
  }
}

/** The settings of the function's alert sink, or the defaults. */
export function alertSettingsOf(deps: Pick<Deps, 'alerts'>): AlertSettings {
  const sink = deps.alerts as Partial<AlertCenter> | undefined;
  return sink?.settings ?? DEFAULT_ALERT_SETTINGS;
}

/** Kinds where WeChat Pay is waiting on the merchant's action rather than money being off: a warning, not critical. */
const WAITING_KINDS: ReadonlySet<ExceptionKind> = new Set(['abnormal_refund', 'refund_refused']);

/** The alert for an exception just opened: one per exception (its id is the cause). */
export function exceptionAlert(
  id: string,
  e: {
    kind: ExceptionKind;
    orderId?: string;
    outTradeNo?: string;
    outRefundNo?: string;
    expectedFen?: number;
    actualFen?: number;
    detail: string;
  },
): Alert {
  const detail: Record<string, unknown> = { exception: id };
  for (const key of ['orderId', 'outTradeNo', 'outRefundNo', 'expectedFen', 'actualFen'] as const)
    if (e[key] !== undefined) detail[key] = e[key];
  return {
    cause: `exception:${id}`,
    severity: WAITING_KINDS.has(e.kind) ? 'warning' : 'critical',
    message: `异常待处理 (${e.kind}): ${e.detail}`,
    detail,
  };
}
