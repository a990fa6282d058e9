/**
 * The local cloud's embedded database: the part of wx-server-sdk's database API this project uses, on collections
 * kept in memory with an append-only log file each (collection.ts; query matching and update operators are
 * @seald-io/nedb's).
 *
 * Semantics kept from the cloud database:
 * - `where().update()` and `doc().update()` are atomic and return `stats.updated`, the number of documents changed
 *   (a compare-and-set wins with 1, loses with 0);
 * - `doc().get()` throws for a missing document unless the database was opened with `throwOnNotFound: false`;
 * - `add` with an existing `_id` fails; `get()` returns 100 documents unless `limit` says otherwise, and at most 1000;
 * - unsupported operators throw UnsupportedOperatorError naming them.
 * Durability: each acknowledged write is appended to the collection's file before the call returns (an update
 * appends the fields it changed). On open, a torn last line (a `kill -9` in the middle of an append) is cut off, so at
 * most the write in flight is lost.
 * Differences, on purpose: collections are created on first use (the cloud needs them created in the console);
 * transactions run one at a time but ordinary writes interleave with them, and a transaction's writes are visible
 * outside it before it commits; its undo log is in memory only. (The project's own code uses compare-and-set writes,
 * never transactions.)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Collection, DuplicateIdError, newId, type Doc } from './collection';
import { createCommand, ServerDate, type Command } from './commands';
import { DB_INVALID_COMMAND, DB_REQUEST_FAILED, LocalDbError } from './errors';
import { Mutex } from './mutex';
import { isPlainObject, resolveValue, translateQuery, translateUpdate } from './translate';

type Json = Record<string, unknown>;

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface DatabaseConfig {
  throwOnNotFound?: boolean;
}

/** One embedded database (a folder of collection files, or memory only). */
export class LocalDatabaseEngine {
  /** one transaction at a time */
  readonly transactionLock = new Mutex();
  private readonly locks = new Map<string, Mutex>();
  private readonly stores = new Map<string, Collection>();
  /** writes attempted, for tests and benchmarks that prove an operation wrote nothing */
  writeCount = 0;
  private writesBeforeCrash: number | undefined;

  /**
   * Fault injection: the next `writes` writes succeed, then every write fails as if the function's process had died,
   * until clearWriteFailure(). Lets tests kill a function between two of its writes.
   */
  injectWriteFailure(writes: number): void {
    this.writesBeforeCrash = writes;
  }

  clearWriteFailure(): void {
    this.writesBeforeCrash = undefined;
    this.failingCollections.clear();
  }

  private readonly failingCollections = new Map<string, number>();

  /**
   * Fault injection: the next `times` writes to `collection` fail (a transient database error), other collections
   * unaffected. Lets tests fail one step of an operation and watch what the rest of it does.
   */
  failWritesTo(collection: string, times = 1): void {
    this.failingCollections.set(collection, times);
  }

  private readonly writeDelays = new Map<string, number>();

  /** Fault injection: writes to `collection` take `ms` longer (a slow network to the cloud database), 0 to stop. */
  delayWrites(collection: string, ms: number): void {
    if (ms > 0) this.writeDelays.set(collection, ms);
    else this.writeDelays.delete(collection);
  }

  /** The injected delay of writes to `collection` (delayWrites), or undefined: no promise to wait for. */
  writeLatency(collection: string): Promise<void> | undefined {
    const ms = this.writeDelays.get(collection);
    return ms ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined;
  }

  /** Called by every write before it touches storage. */
  beforeWrite(api: string, collection?: string): void {
    this.writeCount += 1;
    const failing = collection === undefined ? undefined : this.failingCollections.get(collection);
    if (failing !== undefined && failing > 0) {
      if (failing === 1) this.failingCollections.delete(collection!);
      else this.failingCollections.set(collection!, failing - 1);
      throw new LocalDbError(DB_REQUEST_FAILED, api, `injected failure: a write to ${collection} failed`);
    }
    if (this.writesBeforeCrash === undefined) return;
    if (this.writesBeforeCrash <= 0)
      throw new LocalDbError(DB_REQUEST_FAILED, api, 'injected failure: the function died here');
    this.writesBeforeCrash -= 1;
  }

  constructor(
    readonly dir: string | undefined,
    readonly clock: () => number = Date.now,
  ) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /** Writes to one collection run one at a time (a compare-and-set reads, then writes); collections run in parallel. */
  lockFor(collection: string): Mutex {
    let lock = this.locks.get(collection);
    if (!lock) {
      lock = new Mutex();
      this.locks.set(collection, lock);
    }
    return lock;
  }

  /** A database handle as `cloud.database(config)` returns it. */
  database(config: DatabaseConfig = {}): LocalDatabase {
    return new LocalDatabase(this, config);
  }

  /** The collection `name`, opened (its file read) at its first use. */
  store(name: string): Collection {
    let store = this.stores.get(name);
    if (!store) {
      if (!COLLECTION_NAME.test(name))
        throw new LocalDbError(
          DB_INVALID_COMMAND,
          'database.collection',
          `invalid collection name ${JSON.stringify(name)}`,
        );
      store = Collection.open(this.dir ? join(this.dir, `${name}.db`) : undefined);
      this.stores.set(name, store);
    }
    return store;
  }

  async collectionNames(): Promise<string[]> {
    return [...this.stores.keys()].sort();
  }

  /** Closes the collection files (after pending writes); the engine must not be used afterwards. */
  async close(): Promise<void> {
    for (const name of this.stores.keys()) await this.lockFor(name).run(async () => undefined);
    for (const store of this.stores.values()) store.close();
  }

  /** Rewrites every collection file with one line per document (crash-safe). */
  async compact(): Promise<void> {
    for (const [name, store] of this.stores) await this.lockFor(name).run(async () => store.compact());
  }
}

/** `db.command` is stateless: one for every handle. */
const COMMAND: Command = createCommand();

export class LocalDatabase {
  readonly command: Command = COMMAND;
  constructor(
    readonly engine: LocalDatabaseEngine,
    readonly config: DatabaseConfig,
  ) {}

  collection(name: string): CollectionReference {
    return new CollectionReference(this, name, {});
  }

  serverDate(options: { offset?: number } = {}): ServerDate {
    return new ServerDate(options.offset ?? 0);
  }

  /** Runs `fn` alone against this database; its writes are undone if it throws or calls `rollback`. */
  async runTransaction<T>(fn: (transaction: Transaction) => Promise<T>, _retries = 3): Promise<T> {
    return this.engine.transactionLock.run(async () => {
      const transaction = new Transaction(this);
      try {
        return await fn(transaction);
      } catch (error) {
        await transaction.undoAll();
        if (error instanceof RollbackSignal) throw error.reason;
        throw error;
      }
    });
  }
}

class RollbackSignal {
  constructor(readonly reason: unknown) {}
}

interface QueryState {
  where?: Json;
  orders?: [string, 1 | -1][];
  skip?: number;
  limit?: number;
  projection?: Json;
}

export class Query {
  constructor(
    protected readonly db: LocalDatabase,
    readonly name: string,
    protected readonly state: QueryState,
  ) {}

  protected get engine(): LocalDatabaseEngine {
    return this.db.engine;
  }

  protected with(patch: QueryState): Query {
    return new Query(this.db, this.name, { ...this.state, ...patch });
  }

  where(query: unknown): Query {
    return this.with({ where: translateQuery(query, this.engine.clock()) });
  }

  orderBy(field: string, direction: 'asc' | 'desc'): Query {
    if (direction !== 'asc' && direction !== 'desc')
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.orderBy', 'direction must be asc or desc');
    return this.with({ orders: [...(this.state.orders ?? []), [field, direction === 'asc' ? 1 : -1]] });
  }

  skip(n: number): Query {
    if (!Number.isInteger(n) || n < 0)
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.skip', 'skip must be a non-negative integer');
    return this.with({ skip: n });
  }

  limit(n: number): Query {
    if (!Number.isInteger(n) || n < 1)
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.limit', 'limit must be a positive integer');
    return this.with({ limit: Math.min(n, MAX_LIMIT) });
  }

  field(projection: Record<string, boolean | 0 | 1>): Query {
    return this.with({ projection: Object.fromEntries(Object.entries(projection).map(([k, v]) => [k, v ? 1 : 0])) });
  }

  async get(): Promise<{ data: Doc[]; errMsg: string }> {
    const data = this.engine.store(this.name).find(this.state.where ?? {}, {
      ...(this.state.orders?.length ? { sort: this.state.orders } : {}),
      ...(this.state.skip ? { skip: this.state.skip } : {}),
      limit: this.state.limit ?? DEFAULT_LIMIT,
      ...(this.state.projection ? { projection: this.state.projection as Record<string, 0 | 1> } : {}),
    });
    return { data, errMsg: 'collection.get:ok' };
  }

  async count(): Promise<{ total: number; errMsg: string }> {
    return { total: this.engine.store(this.name).count(this.state.where ?? {}), errMsg: 'collection.count:ok' };
  }

  update(options: { data: unknown }): Promise<{ stats: { updated: number }; errMsg: string }> {
    return this.engine.lockFor(this.name).run(() => this.updateUnlocked(options));
  }

  /** Atomic: the documents matching `where` are updated in one step, and `updated` counts those that changed. */
  async updateUnlocked(options: { data: unknown }): Promise<{ stats: { updated: number }; errMsg: string }> {
    this.engine.beforeWrite('collection.update', this.name);
    const latency = this.engine.writeLatency(this.name);
    if (latency) await latency;
    const modifiers = translateUpdate(options?.data, this.engine.clock());
    const updated = this.engine.store(this.name).update(this.state.where ?? {}, modifiers);
    return { stats: { updated }, errMsg: 'collection.update:ok' };
  }

  remove(): Promise<{ stats: { removed: number }; errMsg: string }> {
    return this.engine.lockFor(this.name).run(async () => {
      this.engine.beforeWrite('collection.remove', this.name);
      const removed = this.engine.store(this.name).remove(this.state.where ?? {});
      return { stats: { removed }, errMsg: 'collection.remove:ok' };
    });
  }
}

export class CollectionReference extends Query {
  doc(id: string): DocumentReference {
    if (typeof id !== 'string' || id.length === 0)
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.doc', 'docId must be a non-empty string');
    return new DocumentReference(this.db, this.name, id);
  }

  add(options: { data: unknown }): Promise<{ _id: string; errMsg: string }> {
    return this.engine.lockFor(this.name).run(() => this.addUnlocked(options));
  }

  async addUnlocked(options: { data: unknown }): Promise<{ _id: string; errMsg: string }> {
    this.engine.beforeWrite('collection.add', this.name);
    const latency = this.engine.writeLatency(this.name);
    if (latency) await latency;
    const data = options?.data;
    if (!isPlainObject(data)) throw new LocalDbError(DB_INVALID_COMMAND, 'collection.add', 'data must be an object');
    if ('_id' in data && (typeof data._id !== 'string' || data._id.length === 0)) {
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.add', '_id must be a non-empty string');
    }
    const doc = resolveValue(data, this.engine.clock()) as Json;
    const _id = typeof doc._id === 'string' ? doc._id : newId();
    try {
      this.engine.store(this.name).insert({ ...doc, _id }, true); // resolveValue made doc for this insert
    } catch (error) {
      if (error instanceof DuplicateIdError)
        throw new LocalDbError(DB_REQUEST_FAILED, 'collection.add', `duplicate key: _id ${_id} already exists`);
      throw error;
    }
    return { _id, errMsg: 'collection.add:ok' };
  }
}

export class DocumentReference {
  constructor(
    private readonly db: LocalDatabase,
    readonly collectionName: string,
    readonly id: string,
    private readonly projection?: Json,
  ) {}

  private get engine(): LocalDatabaseEngine {
    return this.db.engine;
  }

  field(projection: Record<string, boolean | 0 | 1>): DocumentReference {
    return new DocumentReference(
      this.db,
      this.collectionName,
      this.id,
      Object.fromEntries(Object.entries(projection).map(([k, v]) => [k, v ? 1 : 0])),
    );
  }

  async get(): Promise<{ data: Doc | null; errMsg: string }> {
    const found = this.engine
      .store(this.collectionName)
      .findOne({ _id: this.id }, this.projection as Record<string, 0 | 1> | undefined);
    if (!found && this.db.config.throwOnNotFound !== false) {
      throw new LocalDbError(DB_REQUEST_FAILED, 'document.get', `document with _id ${this.id} does not exist`);
    }
    return { data: found, errMsg: 'document.get:ok' };
  }

  set(options: { data: unknown }) {
    return this.engine.lockFor(this.collectionName).run(() => this.setUnlocked(options));
  }

  async setUnlocked(options: {
    data: unknown;
  }): Promise<{ _id: string; stats: { updated: number; created: number }; errMsg: string }> {
    this.engine.beforeWrite('document.set', this.collectionName);
    const data = options?.data;
    if (!isPlainObject(data)) throw new LocalDbError(DB_INVALID_COMMAND, 'document.set', 'data must be an object');
    if ('_id' in data) throw new LocalDbError(DB_INVALID_COMMAND, 'document.set', 'data must not contain _id');
    const doc = resolveValue(data, this.engine.clock()) as Json;
    const outcome = this.engine.store(this.collectionName).replace(this.id, doc);
    return {
      _id: this.id,
      stats: { updated: outcome === 'updated' ? 1 : 0, created: outcome === 'created' ? 1 : 0 },
      errMsg: 'document.set:ok',
    };
  }

  update(options: { data: unknown }) {
    return this.engine.lockFor(this.collectionName).run(() => this.updateUnlocked(options));
  }

  updateUnlocked(options: { data: unknown }) {
    return new Query(this.db, this.collectionName, { where: { _id: this.id } }).updateUnlocked(options);
  }

  remove() {
    return this.engine.lockFor(this.collectionName).run(() => this.removeUnlocked());
  }

  async removeUnlocked(): Promise<{ stats: { removed: number }; errMsg: string }> {
    this.engine.beforeWrite('document.remove', this.collectionName);
    const removed = this.engine.store(this.collectionName).remove({ _id: this.id });
    return { stats: { removed }, errMsg: 'document.remove:ok' };
  }
}

/** Inside runTransaction: single-document operations, each recorded so that a failure restores the prior state. */
export class Transaction {
  private readonly undo: (() => Promise<void>)[] = [];
  constructor(private readonly db: LocalDatabase) {}

  collection(name: string) {
    const db = this.db;
    const lock = db.engine.lockFor(name);
    const remember = (id: string) => this.remember(name, id);
    return {
      add: (options: { data: Json }) =>
        lock.run(async () => {
          const result = await db.collection(name).addUnlocked(options);
          this.undo.push(() => lock.run(async () => void db.engine.store(name).remove({ _id: result._id })));
          return result;
        }),
      doc: (id: string) => {
        const ref = db.collection(name).doc(id);
        return {
          get: () => ref.get(),
          set: (options: { data: unknown }) => lock.run(async () => (await remember(id), ref.setUnlocked(options))),
          update: (options: { data: unknown }) =>
            lock.run(async () => (await remember(id), ref.updateUnlocked(options))),
          remove: () => lock.run(async () => (await remember(id), ref.removeUnlocked())),
        };
      },
    };
  }

  rollback(reason?: unknown): never {
    throw new RollbackSignal(reason);
  }

  private async remember(collection: string, id: string): Promise<void> {
    const store = this.db.engine.store(collection);
    const prior = store.findOne({ _id: id });
    this.undo.push(() =>
      this.db.engine.lockFor(collection).run(async () => {
        if (prior) store.replace(id, prior);
        else store.remove({ _id: id });
      }),
    );
  }

  async undoAll(): Promise<void> {
    for (const step of this.undo.reverse()) await step();
  }
}
