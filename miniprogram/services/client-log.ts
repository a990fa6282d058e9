/**
 * Reports what the client could not explain to its user to the backend's clientLog function: fire and forget,
 * never throws, and limited here too (the same text once per session, at most 10 lines a session) so a loop cannot
 * flood it. No personal data goes out: no order number, name or phone, only the platform's message and context.
 */
import type { ClientLogKind, ClientLogRequest } from '../../typings/api';
import { callApi } from './api';

const MAX_PER_SESSION = 10;
const sent = new Set<string>();

function pageRoute(): string {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : [];
  const route = pages.length ? pages[pages.length - 1]!.route : '';
  return /^pages\/[a-z0-9/_-]+$/.test(route) ? route : 'pages/unknown';
}

function device(): { sdkVersion?: string; platform?: string } {
  try {
    const info = wx.getAppBaseInfo() as { SDKVersion?: string };
    const platform = (wx.getDeviceInfo?.() as { platform?: string } | undefined)?.platform;
    return {
      ...(info.SDKVersion && /^[0-9.]+$/.test(info.SDKVersion) ? { sdkVersion: info.SDKVersion } : {}),
      ...(platform && /^[a-z]+$/.test(platform) ? { platform } : {}),
    };
  } catch {
    return {};
  }
}

export function reportClientLog(
  kind: ClientLogKind,
  message: string,
  extra: { page?: string; elapsedMs?: number } = {},
): void {
  const text = message.slice(0, 200);
  const key = `${kind}\n${text}`;
  if (sent.has(key) || sent.size >= MAX_PER_SESSION) return;
  sent.add(key);
  const request: ClientLogRequest = {
    kind,
    message: text || '(empty)',
    page: extra.page ?? pageRoute(),
    ...device(),
    ...(extra.elapsedMs !== undefined ? { elapsedMs: Math.max(0, Math.round(extra.elapsedMs)) } : {}),
  };
  callApi('clientLog.report', request).catch(() => undefined);
}

/** Tests start each case with nothing sent. */
export function resetClientLog(): void {
  sent.clear();
}
