/**
 * China days, as WeChat Pay's bills cut them (00:00 +08:00), and reading a day's documents page by page. A day's
 * query is keyed on `_id` (`_id > last`, ascending, a full page at a time), so its cost is one round trip per page
 * of up to PAGE_SIZE documents, whatever the number, and a document is never read twice or skipped.
 */
import type { CollectionName, Store } from '../store/store';

export const DAY_MS = 24 * 3600 * 1000;
const CHINA_OFFSET_MS = 8 * 3600 * 1000;
/** the most documents one read returns on the platform (wx-server-sdk's server-side limit) */
export const PAGE_SIZE = 1000;

/** The China calendar date (`YYYY-MM-DD`) of an instant. */
export function chinaDate(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The hour (0-23) of an instant in China time. */
export function chinaHour(ms: number): number {
  return new Date(ms + CHINA_OFFSET_MS).getUTCHours();
}

/** `YYYY-MM-DD HH:mm` in China time, for messages. */
export function chinaMinute(ms: number): string {
  const iso = new Date(ms + CHINA_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** 00:00 China time of a date, or undefined for anything that is not a real `YYYY-MM-DD` date. */
export function chinaDayStart(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00+08:00`);
  return Number.isNaN(ms) || chinaDate(ms) !== date ? undefined : ms;
}

/** The date `days` days after (or before, when negative) a date. */
export function addDays(date: string, days: number): string {
  return chinaDate(chinaDayStart(date)! + days * DAY_MS);
}

/** The same date `months` calendar months earlier, the day clamped to the month's end (WeChat Pay's "three months"). */
export function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) - months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** `from <= field < to` in the cloud database's command language (`_.gte(a).and(_.lt(b))`). */
export function between(store: Store, from: number, to: number): unknown {
  return (store.command.gte(from) as { and(other: unknown): unknown }).and(store.command.lt(to));
}

/** Every document matching `where`, a page at a time (ascending `_id`): one round trip per page. */
export async function* pages<T extends { _id: string }>(
  store: Store,
  collection: CollectionName,
  where: Record<string, unknown>,
  pageSize = PAGE_SIZE,
): AsyncGenerator<T[]> {
  let after: string | undefined;
  for (;;) {
    const query = after === undefined ? where : { ...where, _id: store.command.gt(after) };
    const page = await store.find<T>(collection, query, { orderBy: [['_id', 'asc']], limit: pageSize });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!._id;
  }
}
