import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UNSUPPORTED_OPERATORS } from '../../../localcloud/db/commands';
import { LocalDatabaseEngine, MAX_LIMIT, type LocalDatabase } from '../../../localcloud/db/database';
import { LocalDbError, UnsupportedOperatorError } from '../../../localcloud/db/errors';

let dir: string;
let db: LocalDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'localdb-'));
  db = new LocalDatabaseEngine(dir).database();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function seed() {
  const orders = db.collection('orders');
  for (let i = 1; i <= 5; i++) {
    await orders.add({
      data: {
        _id: `o${i}`,
        owner: i % 2 ? 'alice' : 'bob',
        status: i <= 3 ? 'pending' : 'paid',
        totalFen: i * 100,
        buyer: { city: i === 1 ? 'sz' : 'bj' },
        tags: i === 2 ? ['gift', 'vip'] : [],
      },
    });
  }
}

describe('reads', () => {
  beforeEach(seed);

  test('where with equality, nested objects as paths, dotted paths and commands', async () => {
    const _ = db.command;
    const ids = async (q: unknown) =>
      (await db.collection('orders').where(q).orderBy('_id', 'asc').get()).data.map((d) => d._id);
    expect(await ids({ owner: 'alice' })).toEqual(['o1', 'o3', 'o5']);
    expect(await ids({ buyer: { city: 'sz' } })).toEqual(['o1']);
    expect(await ids({ 'buyer.city': 'bj', status: 'pending' })).toEqual(['o2', 'o3']);
    expect(await ids({ totalFen: _.gt(200).and(_.lte(400)) })).toEqual(['o3', 'o4']);
    expect(await ids({ totalFen: _.in([100, 500]) })).toEqual(['o1', 'o5']);
    expect(await ids({ status: _.neq('paid'), owner: _.nin(['bob']) })).toEqual(['o1', 'o3']);
    expect(await ids(_.or([{ totalFen: _.lt(200) }, { totalFen: _.gte(500) }]))).toEqual(['o1', 'o5']);
    expect(await ids({ tags: _.size(2) })).toEqual(['o2']);
    expect(await ids({ tags: 'vip' })).toEqual(['o2']);
    expect(await ids({ missing: _.exists(false), totalFen: _.eq(300) })).toEqual(['o3']);
  });

  test('orderBy, skip, limit, field and count', async () => {
    const page = await db
      .collection('orders')
      .where({})
      .orderBy('totalFen', 'desc')
      .skip(1)
      .limit(2)
      .field({ totalFen: true })
      .get();
    expect(page.data).toEqual([
      { _id: 'o4', totalFen: 400 },
      { _id: 'o3', totalFen: 300 },
    ]);
    expect((await db.collection('orders').where({ status: 'pending' }).count()).total).toBe(3);
  });

  test('doc().get throws for a missing document unless throwOnNotFound is false', async () => {
    await expect(db.collection('orders').doc('nope').get()).rejects.toThrow(
      'document.get:fail document with _id nope does not exist',
    );
    const lenient = db.engine.database({ throwOnNotFound: false });
    await expect(lenient.collection('orders').doc('nope').get()).resolves.toMatchObject({ data: null });
    await expect(lenient.collection('orders').doc('o1').get()).resolves.toMatchObject({
      data: { _id: 'o1', totalFen: 100 },
    });
  });

  test('returned documents are copies', async () => {
    const { data } = await db.collection('orders').doc('o1').get();
    (data as unknown as { totalFen: number }).totalFen = 1;
    expect((await db.collection('orders').doc('o1').get()).data).toMatchObject({ totalFen: 100 });
  });
});

describe('limits', () => {
  test('get returns 100 by default and at most 1000', async () => {
    const items = db.collection('items');
    for (let i = 0; i < 1005; i++) await items.add({ data: { i } });
    expect((await items.get()).data).toHaveLength(100);
    expect((await items.limit(5000).get()).data).toHaveLength(MAX_LIMIT);
    expect(() => items.limit(0)).toThrow(LocalDbError);
  });
});

describe('writes', () => {
  beforeEach(seed);

  test('add with an existing _id fails and changes nothing', async () => {
    await expect(db.collection('orders').add({ data: { _id: 'o1', totalFen: 1 } })).rejects.toThrow(/duplicate key/);
    expect((await db.collection('orders').doc('o1').get()).data).toMatchObject({ totalFen: 100 });
    const { _id } = await db.collection('orders').add({ data: { totalFen: 7 } });
    expect(_id).toMatch(/^[0-9a-f]{32}$/);
  });

  test('where().update() is a compare-and-set that reports documents changed', async () => {
    const orders = db.collection('orders');
    const cas = () => orders.where({ _id: 'o1', status: 'pending' }).update({ data: { status: 'paid' } });
    expect((await cas()).stats.updated).toBe(1);
    expect((await cas()).stats.updated).toBe(0);
    // an update that matches but changes nothing reports 0
    expect((await orders.where({ _id: 'o1' }).update({ data: { status: 'paid' } })).stats.updated).toBe(0);
    expect((await orders.where({ status: 'pending' }).update({ data: { flagged: true } })).stats.updated).toBe(2);
  });

  test('50 concurrent conditional updates of one document: exactly one winner', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db
          .collection('orders')
          .where({ _id: 'o2', status: 'pending' })
          .update({ data: { status: 'paid', winner: i } }),
      ),
    );
    expect(results.filter((r) => r.stats.updated === 1)).toHaveLength(1);
    expect(results.filter((r) => r.stats.updated === 0)).toHaveLength(49);
  });

  test('concurrent decrements guarded by a balance never go below zero', async () => {
    const _ = db.command;
    await db.collection('balances').add({ data: { _id: 'b', left: 100 } });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        db
          .collection('balances')
          .where({ _id: 'b', left: _.gte(7) })
          .update({ data: { left: _.inc(-7) } }),
      ),
    );
    expect(results.filter((r) => r.stats.updated === 1)).toHaveLength(14);
    expect((await db.collection('balances').doc('b').get()).data).toMatchObject({ left: 2 });
  });

  test('nested update data merges by path; _.set replaces; update operators', async () => {
    const _ = db.command;
    const doc = db.collection('orders').doc('o2');
    await doc.update({ data: { buyer: { name: '张三' } } });
    expect((await doc.get()).data).toMatchObject({ buyer: { city: 'bj', name: '张三' } });
    await doc.update({ data: { buyer: _.set({ name: '李四' }) } });
    expect((await doc.get()).data!.buyer).toEqual({ name: '李四' });
    await doc.update({
      data: { totalFen: _.inc(5), tags: _.push(['new']), removed: _.remove(), events: _.push({ at: 1 }) },
    });
    await doc.update({ data: { tags: _.pull('gift'), low: _.min(3), high: _.max(9) } });
    await doc.update({ data: { tags: _.addToSet('vip'), stamp: db.serverDate() } });
    const data = (await doc.get()).data!;
    expect(data).toMatchObject({ totalFen: 205, tags: ['vip', 'new'], events: [{ at: 1 }], low: 3, high: 9 });
    expect(data.stamp).toBeInstanceOf(Date);
    await expect(doc.update({ data: { _id: 'x' } })).rejects.toThrow(/_id cannot be updated/);
    await expect(doc.update({ data: {} })).rejects.toThrow(LocalDbError);
  });

  test('doc().set replaces or creates; remove removes', async () => {
    const ref = db.collection('orders').doc('o9');
    expect((await ref.set({ data: { a: 1 } })).stats).toEqual({ updated: 0, created: 1 });
    expect((await ref.set({ data: { b: 2 } })).stats).toEqual({ updated: 1, created: 0 });
    expect((await ref.get()).data).toEqual({ _id: 'o9', b: 2 });
    expect((await ref.remove()).stats.removed).toBe(1);
    expect((await db.collection('orders').where({ status: 'paid' }).remove()).stats.removed).toBe(2);
  });

  test('runTransaction commits, and undoes every write when it throws or rolls back', async () => {
    const _ = db.command;
    await db.runTransaction(async (tx) => {
      await tx
        .collection('orders')
        .doc('o1')
        .update({ data: { totalFen: _.inc(1) } });
      await tx.collection('log').add({ data: { _id: 'l1' } });
    });
    expect((await db.collection('orders').doc('o1').get()).data).toMatchObject({ totalFen: 101 });
    await expect(
      db.runTransaction(async (tx) => {
        await tx
          .collection('orders')
          .doc('o1')
          .update({ data: { totalFen: _.inc(1) } });
        await tx.collection('orders').doc('o2').remove();
        await tx.collection('log').add({ data: { _id: 'l2' } });
        tx.rollback('no');
      }),
    ).rejects.toBe('no');
    expect((await db.collection('orders').doc('o1').get()).data).toMatchObject({ totalFen: 101 });
    expect((await db.collection('orders').doc('o2').get()).data).toMatchObject({ totalFen: 200 });
    expect((await db.collection('log').count()).total).toBe(1);
  });
});

describe('unsupported operators are rejected by name', () => {
  test.each([...UNSUPPORTED_OPERATORS])('db.command.%s', (name) => {
    const command = db.command as unknown as Record<string, unknown>;
    expect(() => command[name]).toThrow(UnsupportedOperatorError);
    expect(() => command[name]).toThrow(new RegExp(`"${name}"`));
  });

  test('raw $-operators in queries and updates', async () => {
    expect(() => db.collection('orders').where({ $where: 'true' })).toThrow(UnsupportedOperatorError);
    expect(() => db.collection('orders').where({ a: { $regex: 'x' } })).toThrow(/"\$regex"/);
    await expect(
      db
        .collection('orders')
        .doc('o1')
        .update({ data: { $set: { a: 1 } } }),
    ).rejects.toThrow(UnsupportedOperatorError);
  });
});

describe('persistence', () => {
  test('data survives a restart', async () => {
    await seed();
    await db
      .collection('orders')
      .doc('o1')
      .update({ data: { status: 'paid' } });
    await db.collection('orders').doc('o5').remove();
    const reopened = new LocalDatabaseEngine(dir).database();
    expect((await reopened.collection('orders').count()).total).toBe(4);
    expect((await reopened.collection('orders').doc('o1').get()).data).toMatchObject({
      status: 'paid',
      buyer: { city: 'sz' },
    });
  });

  test('a torn last line is cut and everything before it kept', async () => {
    await seed();
    appendFileSync(join(dir, 'orders.db'), '{"_id":"o6","status":"pen');
    const reopened = new LocalDatabaseEngine(dir).database();
    expect((await reopened.collection('orders').count()).total).toBe(5);
    await reopened.collection('orders').add({ data: { _id: 'o6' } });
    expect((await new LocalDatabaseEngine(dir).database().collection('orders').count()).total).toBe(6);
  });

  test('kill -9 in the middle of writes: every acknowledged write survives, no torn file', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '../../support/db-writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged: string[] = [];
    let buffer = '';
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('writer too slow')), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        acknowledged.push(...lines);
        if (acknowledged.length >= 300) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          done();
        }
      });
    });
    // every write the child acknowledged counts, also those still in the pipe when it was killed (a busy machine
    // reads the pipe late, and the child writes on meanwhile)
    await new Promise((r) => child.stdout.once('close', r));
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r),
    );
    const reopened = new LocalDatabaseEngine(dir).database();
    const { total } = await reopened.collection('journal').count();
    expect(total).toBeGreaterThanOrEqual(acknowledged.length);
    expect(total).toBeLessThanOrEqual(acknowledged.length + 1);
    for (const id of acknowledged.slice(-20))
      await expect(reopened.collection('journal').doc(id).get()).resolves.toBeTruthy();
    const counter = (await reopened.collection('counters').doc('c').get()).data as unknown as { last: number };
    expect(counter.last).toBeGreaterThanOrEqual(acknowledged.length - 1);
    // After the reopen every line of the compacted files parses.
    for (const line of readFileSync(join(dir, 'journal.db'), 'utf8').split('\n').filter(Boolean))
      expect(() => JSON.parse(line)).not.toThrow();
  }, 30_000);
});
