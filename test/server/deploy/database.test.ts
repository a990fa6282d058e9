/**
 * cloudfunctions/database.json against what the functions really do: every collection they use is there, no client
 * may read or write any of them, and every query the functions make (recorded at the wx-server-sdk database API while
 * they run the whole money path, the admin pages, reconcile and the key watch) has an index that serves it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CERTIFICATE_COLLECTION } from '../../../cloudfunctions/common/runtime/certificates';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { encodeCursor } from '../../../cloudfunctions/common/domain/paging';
import type { ListOrdersResponse, ListStatementsResponse } from '../../../typings/api';
import { LogicCommand, QueryCommand } from '../../../localcloud/db/commands';
import * as sdk from '../../../localcloud/wx-server-sdk';
import { ROOT } from '../../../cloudfunctions/functions';
import { loadDatabaseSetup, type DatabaseSetup } from '../../../scripts/release/config-checks';
import { settleRefunds } from '../../support/refunds';
import { startTestCloud, type TestCloud } from '../../support/localcloud';

jest.setTimeout(60_000);

const setup: DatabaseSetup = loadDatabaseSetup(ROOT);

test('every collection the functions use, each closed to clients', () => {
  const names = setup.collections.map((c) => c.name);
  expect([...names].sort()).toEqual([...Object.values(COLLECTIONS), CERTIFICATE_COLLECTION].sort());
  expect(setup.rules).toEqual({ read: false, write: false });
  expect(JSON.parse(readFileSync(join(ROOT, 'cloudfunctions', 'database.json'), 'utf8'))).toEqual(setup);
});

interface Query {
  collection: string;
  where: Record<string, unknown>;
  orderBy: [string, string][];
}

/** Wraps the database the functions get, recording each where() with the orderBy() that follows it. */
function recording(db: ReturnType<typeof sdk.database>, queries: Query[]): ReturnType<typeof sdk.database> {
  const wrapQuery = (query: object, record: Query): object =>
    new Proxy(query, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (property === 'orderBy') {
          return (field: string, direction: string) => {
            record.orderBy.push([field, direction]);
            return wrapQuery((value as (f: string, d: string) => object).call(target, field, direction), record);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (property !== 'collection') return value;
      return (name: string) => {
        const collection = target.collection(name);
        return new Proxy(collection, {
          get(c, p) {
            const v = Reflect.get(c, p) as unknown;
            if (p === 'where') {
              return (where: Record<string, unknown>) => {
                const record: Query = { collection: name, where, orderBy: [] };
                queries.push(record);
                return wrapQuery((v as (w: unknown) => object).call(c, where), record);
              };
            }
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
          },
        });
      };
    },
  }) as ReturnType<typeof sdk.database>;
}

const RANGE = new Set(['gt', 'gte', 'lt', 'lte']);

/**
 * Served when an index starts with the equality fields (in any order), followed by the range field and the sort field
 * (the same one when both are there); a query by _id is served by the built-in index; a query with neither a filter
 * nor a sort needs none.
 */
function servedBy(query: Query): string | undefined {
  // a cursor page asks for (key < k) or (key = k and _id < id): each branch needs serving
  if (query.where instanceof LogicCommand) {
    const names = query.where.operands.map((where) => servedBy({ ...query, where: where as Record<string, unknown> }));
    return names.every((n) => n !== undefined) ? names.join(' | ') : undefined;
  }
  if ('_id' in query.where) return '_id';
  const equality: string[] = [];
  const range: string[] = [];
  for (const [field, value] of Object.entries(query.where)) {
    if (value instanceof QueryCommand && RANGE.has(value.op)) range.push(field);
    else equality.push(field);
  }
  // the `_id` every sort ends with (Store.find) breaks ties among equal keys: an index may end with it, or leave
  // those few documents to be ordered after the index
  const sort = query.orderBy.map(([field]) => field);
  const after = [...new Set([...range, ...sort])];
  if (equality.length === 0 && after.length === 0) return 'none needed';
  const tieBreakOnly = after.length > 1 && after.at(-1) === '_id' ? [after.slice(0, -1)] : [];
  const indexes = setup.collections.find((c) => c.name === query.collection)?.indexes ?? [];
  return indexes.find((index) => {
    const fields = index.fields.map(([field]) => field);
    const head = fields.slice(0, equality.length);
    return (
      head.length === equality.length &&
      equality.every((f) => head.includes(f)) &&
      [after, ...tieBreakOnly].some((tail) => tail.every((f, i) => fields[equality.length + i] === f))
    );
  })?.name;
}

describe('the functions at work', () => {
  let t: TestCloud;
  const queries: Query[] = [];
  beforeAll(async () => {
    t = await startTestCloud({ signingMode: 'both', env: { ADMIN_OPENIDS: 'placeholder_admin' } });
    process.env.ADMIN_OPENIDS = t.openid('admin');
    const original = sdk.database;
    jest.spyOn(sdk, 'database').mockImplementation((config) => recording(original(config), queries));

    const { code } = t.cloud.wxApi.login('alice');
    await t.ok('login', { code }, 'alice');
    await t.ok('catalog', { action: 'list' }, 'alice');
    const paid = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
    await t.payAndWait('alice', paid.id);
    const other = await t.confirm('alice', [{ productId: 'latte', quantity: 2 }]);
    await t.payAndWait('alice', other.id);
    await t.ok(
      'orders',
      { action: 'requestRefund', orderId: paid.id, reason: '不想要了', requestId: 'db-test-refund-1' },
      'alice',
    );
    await t.ok(
      'admin',
      { action: 'refund', orderId: other.id, amountFen: 100, reason: '部分退款', requestId: 'db-test-refund-2' },
      'admin',
    );
    await settleRefunds(t, 'alice', paid.id);
    await settleRefunds(t, 'alice', other.id);
    for (const status of [undefined, 'pending_payment', 'paid', 'refunds'] as const) {
      const first = await t.ok<ListOrdersResponse>(
        'orders',
        { action: 'list', pageSize: 1, ...(status ? { status } : {}) },
        'alice',
      );
      if (first.nextCursor)
        await t.ok(
          'orders',
          { action: 'list', pageSize: 1, cursor: first.nextCursor, ...(status ? { status } : {}) },
          'alice',
        );
    }
    const firstStatements = await t.ok<ListStatementsResponse>(
      'books',
      { action: 'listStatements', pageSize: 1 },
      'admin',
    );
    if (firstStatements.nextCursor)
      await t.ok('books', { action: 'listStatements', cursor: firstStatements.nextCursor }, 'admin');
    await t.ok('orders', { action: 'get', orderId: paid.id }, 'alice');
    for (const filter of [
      {},
      { status: 'open' },
      { kind: 'duplicate_charge' },
      { status: 'resolved', kind: 'abnormal_refund' },
    ])
      await t.ok(
        'admin',
        { action: 'listExceptions', ...filter, cursor: encodeCursor({ key: Date.now(), id: 'x' }) },
        'admin',
      );
    await t.cloud.host.runTimer('reconcile');
    await t.cloud.host.runTimer('wechatpayKeys');
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  test('each query the functions made has an index in database.json', () => {
    const shapes = new Map<string, Query>();
    for (const q of queries) {
      const fields = (where: unknown): string =>
        where instanceof LogicCommand
          ? `${where.op}(${where.operands.map(fields).join(' ; ')})`
          : Object.keys(where as object)
              .sort()
              .join(',');
      const shape = `${q.collection} where ${fields(q.where)} by ${q.orderBy.map((o) => o.join(' ')).join(',')}`;
      shapes.set(shape, q);
    }
    const collections = new Set(queries.map((q) => q.collection));
    for (const c of ['products', 'orders', 'payments', 'refunds', 'exceptions', CERTIFICATE_COLLECTION])
      expect(collections).toContain(c);
    expect(shapes.size).toBeGreaterThan(10);
    const unserved = [...shapes].filter(([, q]) => servedBy(q) === undefined).map(([shape]) => shape);
    expect(unserved).toEqual([]);
  });

  test('the refunds of an order, in order, by orderId + createdAt', () => {
    const q = queries.find((x) => x.collection === 'refunds' && 'orderId' in x.where && x.orderBy.length > 0)!;
    expect(servedBy(q)).toBe('orderId_createdAt');
  });
});
