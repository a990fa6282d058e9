/**
 * The local database's storage (localcloud/db/collection.ts): an update appends only the fields it changed, the log
 * replays to the same documents after a restart, and the file stays safe to open after a crash at any point: a torn
 * last line, a kill -9 in the middle of compare-and-set updates, a crash during a compaction. Files nedb wrote are
 * read as they are; a corrupt line refuses the open.
 */
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Collection } from '../../../localcloud/db/collection';
import { LocalDatabaseEngine, type LocalDatabase } from '../../../localcloud/db/database';

let dir: string;
let db: LocalDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'localdb-log-'));
  db = new LocalDatabaseEngine(dir).database();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (name: string) =>
  readFileSync(join(dir, `${name}.db`), 'utf8')
    .split('\n')
    .filter(Boolean);
const reopen = () => new LocalDatabaseEngine(dir).database();

test('an update appends only the fields it changed; one that changes nothing appends nothing', async () => {
  const _ = db.command;
  await db.collection('orders').add({
    data: { _id: 'o1', status: 'created', items: [{ sku: 'latte', n: 2 }], note: 'x'.repeat(500), timeline: [] },
  });
  expect(lines('orders')).toHaveLength(1);
  await db
    .collection('orders')
    .where({ _id: 'o1', status: 'created' })
    .update({ data: { status: 'paid', timeline: _.push([{ event: 'paid' }]) } });
  const patch = JSON.parse(lines('orders')[1]!) as Record<string, unknown>;
  expect(patch).toEqual({ _id: 'o1', $$patch: { status: 'paid', timeline: [{ event: 'paid' }] } });
  expect(lines('orders')[1]!.length).toBeLessThan(100);
  expect(
    (
      await db
        .collection('orders')
        .where({ _id: 'o1' })
        .update({ data: { status: 'paid' } })
    ).stats.updated,
  ).toBe(0);
  expect(lines('orders')).toHaveLength(2);
});

test('the log replays to the same documents after a restart: set, nested paths, removed fields, dates, pushes, removals', async () => {
  const _ = db.command;
  const orders = db.collection('orders');
  for (let i = 0; i < 5; i++)
    await orders.add({ data: { _id: `o${i}`, n: i, buyer: { city: 'bj', name: 'a' }, tags: ['t'], gone: true } });
  await orders
    .doc('o1')
    .update({ data: { buyer: { city: 'sz' }, n: _.inc(10), gone: _.remove(), at: new Date(1_700_000_000_123) } });
  await orders.where({ n: _.gte(3) }).update({ data: { tags: _.push(['u', 'v']), flag: null } });
  await orders.doc('o2').set({ data: { replaced: true } });
  await orders.doc('o0').remove();
  await orders.doc('o4').update({ data: { tags: _.pull('t'), buyer: _.set({ name: 'b' }) } });
  const before = (await orders.orderBy('_id', 'asc').get()).data;
  expect(before.find((d) => d._id === 'o1')).toEqual({
    _id: 'o1',
    n: 11,
    buyer: { city: 'sz', name: 'a' },
    tags: ['t', 'u', 'v'],
    at: new Date(1_700_000_000_123),
    flag: null,
  });
  const after = (await reopen().collection('orders').orderBy('_id', 'asc').get()).data;
  expect(after).toEqual(before);
  expect((after.find((d) => d._id === 'o1') as unknown as { at: Date }).at).toBeInstanceOf(Date);
  // the reopen compacted the file: one line per document
  expect(lines('orders')).toHaveLength(4);
});

test('a torn patch line (a kill in the middle of an update) is cut: the document is as before that update', async () => {
  await db.collection('orders').add({ data: { _id: 'o1', status: 'created', n: 1 } });
  await db
    .collection('orders')
    .doc('o1')
    .update({ data: { n: 2 } });
  appendFileSync(join(dir, 'orders.db'), '{"_id":"o1","$$patch":{"status":"pa');
  const reopened = reopen();
  expect((await reopened.collection('orders').doc('o1').get()).data).toEqual({ _id: 'o1', status: 'created', n: 2 });
  await reopened
    .collection('orders')
    .doc('o1')
    .update({ data: { status: 'paid' } });
  expect((await reopen().collection('orders').doc('o1').get()).data).toEqual({ _id: 'o1', status: 'paid', n: 2 });
});

test('kill -9 in the middle of compare-and-set updates: every acknowledged update survives, at most the one in flight more', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '../../support/db-updater.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acknowledged = 0;
  let buffer = '';
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('updater too slow')), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      if (parts.length) acknowledged = Number(parts.at(-1));
      if (acknowledged >= 500) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        done();
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const counter = (await reopen().collection('counters').doc('c').get()).data as unknown as {
    n: number;
    seen: number[];
    at: Date;
    payload: string;
  };
  expect(counter.n).toBeGreaterThanOrEqual(acknowledged);
  expect(counter.n).toBeLessThanOrEqual(acknowledged + 1);
  expect(counter.seen).toEqual([counter.n - 5, counter.n - 4, counter.n - 3, counter.n - 2, counter.n - 1]);
  expect(counter.at).toEqual(new Date(1_700_000_000_000 + counter.n - 1));
  expect(counter.payload).toHaveLength(2000);
  for (const line of lines('counters')) expect(() => JSON.parse(line)).not.toThrow();
}, 30_000);

test('a file written by nedb (whole documents, $$deleted, index lines) is read as it is', async () => {
  writeFileSync(
    join(dir, 'legacy.db'),
    [
      '{"_id":"a","n":1,"at":{"$$date":1700000000000}}',
      '{"$$indexCreated":{"fieldName":"n","unique":false,"sparse":false}}',
      '{"_id":"b","n":2}',
      '{"_id":"a","n":3,"at":{"$$date":1700000000000}}',
      '{"$$deleted":true,"_id":"b"}',
      '',
    ].join('\n'),
  );
  expect((await db.collection('legacy').get()).data).toEqual([{ _id: 'a', n: 3, at: new Date(1_700_000_000_000) }]);
});

test('a corrupt line, or a patch of a document that does not exist, refuses the open (nothing is dropped silently)', async () => {
  writeFileSync(join(dir, 'bad.db'), '{"_id":"a","n":1}\nnot json\n{"_id":"b","n":2}\n');
  await expect(db.collection('bad').get()).rejects.toThrow(/corrupt/);
  writeFileSync(join(dir, 'orphan.db'), '{"_id":"a","n":1}\n{"_id":"z","$$patch":{"n":2}}\n');
  await expect(db.collection('orphan').get()).rejects.toThrow(/corrupt/);
  expect(readFileSync(join(dir, 'orphan.db'), 'utf8')).toContain('"z"'); // left as it was
});

test('a crash during a compaction: the rewritten file, fsynced before the rename, is taken', async () => {
  await db.collection('orders').add({ data: { _id: 'o1', n: 1 } });
  await db
    .collection('orders')
    .doc('o1')
    .update({ data: { n: 2 } });
  await db.engine.close();
  // the moment between the fsync of `orders.db~` and its rename over `orders.db`, with `orders.db` gone
  writeFileSync(join(dir, 'orders.db~'), '{"_id":"o1","n":2}\n');
  rmSync(join(dir, 'orders.db'));
  expect((await reopen().collection('orders').doc('o1').get()).data).toEqual({ _id: 'o1', n: 2 });
  expect(existsSync(join(dir, 'orders.db~'))).toBe(false);
});

test('the log is compacted in the background once it is much longer than the collection, and appends go on', async () => {
  const _ = db.command;
  await db.collection('counters').add({ data: { _id: 'c', n: 0 } });
  for (let i = 0; i < 10_010; i++)
    await db
      .collection('counters')
      .doc('c')
      .update({ data: { n: _.inc(1) } });
  await new Promise((r) => setImmediate(r));
  expect(lines('counters').length).toBeLessThan(100);
  await db
    .collection('counters')
    .doc('c')
    .update({ data: { n: _.inc(1) } });
  expect((await reopen().collection('counters').doc('c').get()).data).toEqual({ _id: 'c', n: 10_011 });
});

test('unsorted reads come in _id order and `_id: _.in([...])` in the order asked, as nedb gives them', async () => {
  for (const id of ['m', 'b', 'z', 'a']) await db.collection('c').add({ data: { _id: id, k: 1 } });
  expect((await db.collection('c').where({ k: 1 }).get()).data.map((d) => d._id)).toEqual(['a', 'b', 'm', 'z']);
  expect(
    (
      await db
        .collection('c')
        .where({ _id: db.command.in(['z', 'a', 'nope', 'm']) })
        .get()
    ).data.map((d) => d._id),
  ).toEqual(['z', 'a', 'm']);
  expect(Collection.open(undefined).find({})).toEqual([]);
});

describe("an update's new version is exactly nedb's (modify on the fields the operators reach)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const model = require('@seald-io/nedb/lib/model') as {
    modify(doc: unknown, update: unknown): Record<string, unknown>;
    deepCopy<T>(v: T): T;
  };
  const leaf = fc.oneof(
    fc.integer({ min: -5, max: 5 }),
    fc.constantFrom('a', 'b', 'c'),
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('x', 'y', 'z'), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const doc = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'n', 'list'), value, { maxKeys: 5 });
  const path = fc.constantFrom('a', 'b', 'n', 'list', 'new', 'a.x', 'a.y', 'b.x', 'list.0', 'a.x.z', 'c.0.y');
  const op = fc.constantFrom('$set', '$unset', '$inc', '$push', '$addToSet', '$pull', '$pop', '$min', '$max');
  const update = fc
    .dictionary(op, fc.dictionary(path, leaf, { minKeys: 1, maxKeys: 2 }), { minKeys: 1, maxKeys: 3 })
    .map((mods) => {
      if (mods.$pop) for (const k of Object.keys(mods.$pop)) mods.$pop[k] = 1;
      if (mods.$unset) for (const k of Object.keys(mods.$unset)) mods.$unset[k] = true;
      return mods;
    });

  test('the same document, or the same error', () => {
    fc.assert(
      fc.property(doc, update, (fields, mods) => {
        const collection = Collection.open(undefined);
        collection.insert({ ...fields, _id: 'd' });
        let expected: unknown;
        let expectedError: string | undefined;
        try {
          expected = model.deepCopy(model.modify({ ...structuredClone(fields), _id: 'd' }, mods)); // as nedb's find returns it
        } catch (error) {
          expectedError = (error as Error).message;
        }
        let actualError: string | undefined;
        try {
          collection.update({ _id: 'd' }, mods);
        } catch (error) {
          actualError = (error as Error).message;
        }
        expect(actualError).toBe(expectedError);
        const after = collection.findOne({ _id: 'd' });
        expect(after).toEqual(expectedError === undefined ? expected : { ...fields, _id: 'd' });
      }),
      { numRuns: 3000 },
    );
  });
});
