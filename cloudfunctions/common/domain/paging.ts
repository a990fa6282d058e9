/**
 * Cursor paging for the lists people scroll (a user's orders, the exception queue, the statements): a page starts
 * after the last document of the one before, by its sort key and `_id`, so an order created or leaving a tab between
 * two pages neither repeats one nor skips one, as an offset would. Every sort ends with `_id` (Store.find adds it):
 * the real database returns ties in no defined order.
 */
import type { CollectionName, Store } from '../store/store';
import { invalid } from './errors';
import type { Input } from './validate';

/** Where a page starts: the sort key and `_id` of the last document already shown. */
export interface Cursor {
  key: number | string;
  id: string;
}

export const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify([cursor.key, cursor.id])).toString('base64url');

/** The request's `cursor`, checked: it came back from the client, so it is input like any other. */
export function readCursor(obj: Input): Cursor | undefined {
  const raw = obj.cursor;
  if (raw === undefined) return undefined;
  const bad = () => invalid('cursor', 'cursor is malformed');
  if (typeof raw !== 'string' || raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [key, id] = parsed as unknown[];
  const keyOk = (typeof key === 'number' && Number.isSafeInteger(key)) || (typeof key === 'string' && key.length <= 64);
  // ids are the backend's own (orders, `kind:key` exceptions, dates): printable ASCII, only ever compared
  if (!keyOk || typeof id !== 'string' || id.length > 128 || !/^[\x21-\x7e]+$/.test(id)) throw bad();
  return { key: key as number | string, id };
}

/**
 * One page of `where`, newest first by `sortField` then `_id`, after `cursor`; `nextCursor` when there is more.
 * `sortField` may be `_id` itself (the statements, whose `_id` is their date).
 */
export async function findPage<T extends { _id: string } & Record<string, unknown>>(
  store: Store,
  collection: CollectionName,
  where: Record<string, unknown>,
  sortField: string,
  pageSize: number,
  cursor: Cursor | undefined,
): Promise<{ docs: T[]; nextCursor?: string }> {
  const _ = store.command;
  const query = !cursor
    ? where
    : sortField === '_id'
      ? { ...where, _id: _.lt(cursor.id) }
      : _.or([
          { ...where, [sortField]: _.lt(cursor.key) },
          { ...where, [sortField]: cursor.key, _id: _.lt(cursor.id) },
        ]);
  const orderBy: [string, 'desc'][] =
    sortField === '_id'
      ? [['_id', 'desc']]
      : [
          [sortField, 'desc'],
          ['_id', 'desc'],
        ];
  const found = await store.find<T>(collection, query, { orderBy, limit: pageSize + 1 });
  const docs = found.slice(0, pageSize);
  const last = docs.at(-1);
  return found.length > pageSize && last
    ? { docs, nextCursor: encodeCursor({ key: last[sortField] as number | string, id: last._id }) }
    : { docs };
}
