/**
 * The client's error log: what the mini-program could not explain to its user (a payment errMsg it does not know, a
 * payment sheet answered "cancel", a subscribe request that failed), so the merchant sees what real devices meet.
 *
 * No personal data is kept: the entry has no openid, and digit runs and id-like runs in the message (a phone number
 * however written, an order number, a transaction id, an openid) are masked before it is stored (maskMessage). Each user may add at most CLIENT_LOG_PER_HOUR
 * entries an hour, counted in a quota document keyed by a hash of the openid and the hour; beyond that an entry is
 * dropped and the call answers `accepted: false` (not an error: the client never retries a log line).
 */
import { createHash } from 'node:crypto';
import type { ClientLogRequest, ClientLogResponse } from '../../../../typings/api';
import { CLIENT_LOG_KINDS } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { asObject, onlyKeys, readEnum, readInt, readString } from '../validate';

export const CLIENT_LOG_PER_HOUR = 30;
const HOUR = 3_600_000;

export interface ClientLogEntry {
  at: number;
  kind: (typeof CLIENT_LOG_KINDS)[number];
  message: string;
  page: string;
  sdkVersion?: string;
  platform?: string;
  elapsedMs?: number;
}

interface QuotaDoc {
  _id: string;
  count: number;
  hour: number;
  createdAt: number;
}

/**
 * Characters that move or hide text in a log viewer: C0 and C1 controls (U+0085 NEL and U+009B CSI included), DEL,
 * the bidirectional marks, embeddings, overrides and isolates (U+202E), and the line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** 6+ digits, single spaces or dashes allowed between them, a leading + too: `+86 138-0013-8000`, `138 0013 8000` */
const DIGIT_RUN = /\+?\d(?:[ -]?\d){5,}/g;
/** an id-like run: letters, digits, `_` and `-` (openids have both) */
const ID_RUN = /[0-9A-Za-z_-]{12,}/g;

/**
 * Masks what could name a person or an order: digit runs (phone numbers however written, order and transaction
 * numbers), and id-like runs of 12+ that hold a digit, or of 20+ in mixed case (an openid); control and
 * bidirectional characters become spaces.
 */
export function maskMessage(message: string): string {
  return (
    message
      .replace(CONTROL, ' ')
      .replace(ID_RUN, (run) =>
        /\d/.test(run) || (run.length >= 20 && /[a-z]/.test(run) && /[A-Z]/.test(run)) ? '#' : run,
      )
      .replace(DIGIT_RUN, '#')
      // a country code left before a number masked as an id-like run (`+86 138-0013-8000`)
      .replace(/(?:\+|00)?86[ -]?#/g, '#')
  );
}

/** The quota document's key: the user, hashed (the openid itself is not kept), and the hour. */
export const quotaKey = (openid: string, hour: number) =>
  `${createHash('sha256').update(openid).digest('hex').slice(0, 24)}:${hour}`;

/** Counts one entry against the caller's hourly quota; false when the quota is used up. */
async function takeQuota(deps: Deps, openid: string): Promise<boolean> {
  const { store } = deps;
  const _ = store.command;
  const now = deps.clock();
  const hour = Math.floor(now / HOUR);
  const key = quotaKey(openid, hour);
  const bump = () =>
    store.updateWhere(COLLECTIONS.clientLogQuota, { _id: key, count: _.lt(CLIENT_LOG_PER_HOUR) }, { count: _.inc(1) });
  if (await bump()) return true;
  const quota: QuotaDoc = { _id: key, count: 1, hour, createdAt: now };
  if ((await store.insert(COLLECTIONS.clientLogQuota, quota)) === 'created') return true;
  // another call created it meanwhile, or the hour's quota is spent: one more try decides
  return (await bump()) > 0;
}

/** clientLog.report: what the client sent, each field checked (the message is masked later, when it is stored). */
function parseClientLog(event: unknown): ClientLogRequest {
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'kind', 'message', 'page', 'sdkVersion', 'platform', 'elapsedMs']);
  readEnum(obj, 'action', ['report'] as const);
  return {
    kind: readEnum(obj, 'kind', CLIENT_LOG_KINDS)!,
    message: readString(obj, 'message', { max: 200 }),
    page: readString(obj, 'page', { max: 100, pattern: /^pages\/[a-z0-9/_-]+$/ }),
    sdkVersion: readString(obj, 'sdkVersion', { max: 20, pattern: /^[0-9.]+$/, optional: true }),
    platform: readString(obj, 'platform', { max: 20, pattern: /^[a-z]+$/, optional: true }),
    elapsedMs: readInt(obj, 'elapsedMs', { min: 0, max: 86_400_000, optional: true }),
  };
}

export async function reportClientLog(deps: Deps, caller: Caller, event: unknown): Promise<ClientLogResponse> {
  const openid = requireCaller(caller);
  const { kind, message, page, sdkVersion, platform, elapsedMs } = parseClientLog(event);
  if (!(await takeQuota(deps, openid))) return { accepted: false };
  const entry: ClientLogEntry = {
    at: deps.clock(),
    kind,
    message: maskMessage(message),
    page,
    ...(sdkVersion ? { sdkVersion } : {}),
    ...(platform ? { platform } : {}),
    ...(elapsedMs !== undefined ? { elapsedMs } : {}),
  };
  await deps.store.append(COLLECTIONS.clientLog, entry);
  deps.log.warn('client reported', { kind, message: entry.message, page });
  return { accepted: true };
}
