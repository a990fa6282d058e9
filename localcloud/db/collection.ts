/**
 * One collection of the local database: its documents in memory, keyed by `_id`, and an append-only log file.
 *
 * Queries and updates keep @seald-io/nedb's semantics exactly: matching, update operators, sorting and the checks of
 * field names are nedb's own `model` functions, candidates come in nedb's order (by `_id`), and projection is nedb's.
 * What is our own is the storage, built for a database that is mostly compare-and-set updates of a few fields:
 *   - operations are synchronous in memory, so a compare-and-set is one step, with no queue and no second read;
 *   - an update appends only the fields that changed (`{"_id":…,"$$patch":{…},"$$unset":[…]}`), not the whole
 *     document as nedb does, and a document that does not change appends nothing;
 *   - a line is written to a file descriptor kept open, with a synchronous write, before the operation returns: an
 *     acknowledged write is in the operating system's hands, and survives the process being killed;
 *   - on open, a torn last line (a kill in the middle of an append) is cut, the log is replayed, and the file is
 *     rewritten with one line per document (crash-safely: a temporary file, fsync, rename, fsync of the folder);
 *     the same compaction runs in the background once the log is several times longer than the collection.
 * Files written by nedb (whole documents, `$$deleted` lines) are read as they are.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

type Json = Record<string, unknown>;
export type Doc = Json & { _id: string };

interface NedbModel {
  serialize(doc: unknown): string;
  deserialize(line: string): Json;
  deepCopy<T>(value: T): T;
  checkObject(doc: unknown): void;
  modify(doc: Doc, update: Json): Doc;
  match(doc: Doc, query: Json): boolean;
  getDotValue(doc: unknown, field: string): unknown;
  compareThings(a: unknown, b: unknown): number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- nedb's document model (matching, operators, checks), which has no typings
const model = require('@seald-io/nedb/lib/model') as NedbModel;

export interface FindOptions {
  sort?: [string, 1 | -1][];
  skip?: number;
  limit?: number;
  projection?: Record<string, 0 | 1>;
}

/** An insert whose `_id` is taken (nedb's `uniqueViolated`). */
export class DuplicateIdError extends Error {
  readonly errorType = 'uniqueViolated';
  constructor(readonly id: string) {
    super(`duplicate key: _id ${id} already exists`);
  }
}

/** Background compaction once the log has this many lines more than twice the collection's documents. */
const COMPACT_SLACK_LINES = 10_000;

/** 128-bit random ids, hex, drawn from a pool refilled 4 KB at a time (one random call per 256 ids). */
let idPool = Buffer.alloc(0);
let idOffset = 0;
export function newId(): string {
  if (idOffset + 16 > idPool.length) {
    idPool = randomBytes(4096);
    idOffset = 0;
  }
  idOffset += 16;
  return idPool.toString('hex', idOffset - 16, idOffset);
}

/**
 * The seed of the order ties come back in: LOCALDB_TIE_SEED when set (jest's global setup sets one per run, and
 * reports it when a test failed, so the order replays), otherwise random.
 */
export const TIE_SEED = (() => {
  const given = Number(process.env.LOCALDB_TIE_SEED);
  return Number.isSafeInteger(given) && given >= 0 ? given >>> 0 : Math.floor(Math.random() * 2 ** 32);
})();
let memoryCollections = 0;

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** mulberry32: small, fast, and the same sequence for the same seed */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

export class Collection {
  private readonly docs = new Map<string, Doc>();
  /** the ids in nedb's order (its `_id` index), made again after an insert or a removal */
  private orderedIds: string[] | undefined;
  private fd: number | undefined;
  /** lines in the file; a compaction makes it the number of documents */
  private lines = 0;
  private compactionScheduled = false;
  private closed = false;

  /** the order of ties in sorted reads: each collection its own stream of the run's seed */
  private readonly tieRandom: () => number;

  private constructor(readonly filename: string | undefined) {
    this.tieRandom = seededRandom(TIE_SEED ^ hashString(filename ?? `memory-${(memoryCollections += 1)}`));
  }

  /** A collection kept in memory only (`filename` undefined), or the one stored in `filename`. */
  static open(filename: string | undefined): Collection {
    const collection = new Collection(filename);
    if (filename) collection.load(filename);
    return collection;
  }

  get size(): number {
    return this.docs.size;
  }

  // ---------------------------------------------------------------- reads (documents handed out are copies)

  find(query: Json, options: FindOptions = {}): Doc[] {
    const { sort, skip = 0, limit } = options;
    let found: Doc[] = [];
    let skipped = 0;
    for (const doc of this.candidates(query)) {
      if (!model.match(doc, query)) continue;
      if (sort) found.push(doc);
      else if (skipped < skip) skipped += 1;
      else {
        found.push(doc);
        if (limit && found.length >= limit) break;
      }
    }
    if (sort) {
      // the real database returns documents with equal sort keys in no defined order: shuffled first (seeded, so a
      // failure replays with LOCALDB_TIE_SEED), a sort that does not end with a unique key fails in tests too
      shuffle(found, this.tieRandom);
      // nedb's sort: stable, by each key in turn, compareThings on dotted values
      found.sort((a, b) => {
        for (const [key, direction] of sort) {
          const compared = direction * model.compareThings(model.getDotValue(a, key), model.getDotValue(b, key));
          if (compared !== 0) return compared;
        }
        return 0;
      });
      found = found.slice(skip, skip + (limit || found.length));
    }
    return project(found, options.projection).map((doc) => model.deepCopy(doc));
  }

  findOne(query: Json, projection?: Record<string, 0 | 1>): Doc | null {
    return this.find(query, { limit: 1, ...(projection ? { projection } : {}) })[0] ?? null;
  }

  count(query: Json): number {
    let n = 0;
    for (const doc of this.candidates(query)) if (model.match(doc, query)) n += 1;
    return n;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Inserts `doc` (which has its `_id`); DuplicateIdError when the `_id` is taken. A copy is stored, unless the caller
   * hands the document over (`owned`: made for this insert, referenced by nothing else) and it is plain JSON, which
   * nedb's copy would only reproduce.
   */
  insert(doc: Doc, owned = false): void {
    const plain = checkFields(doc);
    const stored = owned && plain ? doc : model.deepCopy(doc);
    if (this.docs.has(stored._id)) throw new DuplicateIdError(stored._id);
    const line = plain ? JSON.stringify(stored) : model.serialize(stored);
    this.docs.set(stored._id, stored);
    this.orderedIds = undefined;
    this.append(`${line}\n`, 1);
  }

  /**
   * Applies nedb update operators to every document matching `query`, atomically: every new version is computed (and
   * checked) before any is stored. Returns how many documents changed; one that matched but did not change is not
   * counted and appends nothing.
   */
  update(query: Json, modifiers: Json): number {
    const touched = touchedFields(modifiers);
    const changes: { doc: Doc; patch: Json; unset: string[] }[] = [];
    for (const doc of this.candidates(query)) {
      if (!model.match(doc, query)) continue;
      const next = touched ? modifyFields(doc, modifiers, touched) : model.modify(doc, modifiers);
      const { patch, unset } = difference(doc, next, touched ?? Object.keys({ ...doc, ...next }));
      if (unset.length === 0 && Object.keys(patch).length === 0) continue;
      changes.push({ doc: next, patch, unset });
    }
    if (changes.length === 0) return 0;
    const lines = changes.map(({ doc, patch, unset }) => patchLine(doc._id, patch, unset));
    for (const { doc } of changes) this.docs.set(doc._id, doc);
    this.append(lines.join(''), lines.length);
    return changes.length;
  }

  /** Replaces the document with this `_id` by a copy of `doc`, or inserts it. */
  replace(id: string, doc: Json): 'updated' | 'created' {
    const stored = { ...model.deepCopy(doc), _id: id } as Doc;
    model.checkObject(stored);
    const existed = this.docs.has(id);
    const line = serialize(stored);
    this.docs.set(id, stored);
    if (!existed) this.orderedIds = undefined;
    this.append(`${line}\n`, 1);
    return existed ? 'updated' : 'created';
  }

  /** Removes every document matching `query`; returns how many. */
  remove(query: Json): number {
    const removed: string[] = [];
    for (const doc of this.candidates(query)) if (model.match(doc, query)) removed.push(doc._id);
    if (removed.length === 0) return 0;
    for (const id of removed) this.docs.delete(id);
    this.orderedIds = undefined;
    this.append(removed.map((id) => `{"$$deleted":true,"_id":${JSON.stringify(id)}}\n`).join(''), removed.length);
    return removed.length;
  }

  // ---------------------------------------------------------------- storage

  /** Rewrites the file with one line per document (crash-safe), and keeps appending to the new file. */
  compact(): void {
    this.compactionScheduled = false;
    if (!this.filename || this.closed) return;
    const lines = this.ids().map((id) => `${serialize(this.docs.get(id))}\n`);
    this.closeFile();
    crashSafeWrite(this.filename, lines.join(''));
    this.lines = lines.length;
  }

  close(): void {
    this.closed = true;
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private append(text: string, lines: number): void {
    if (!this.filename) return;
    this.fd ??= openSync(this.filename, 'a'); // (a write after close() opens the file again)
    const written = writeSync(this.fd, text);
    if (written !== Buffer.byteLength(text)) {
      // a short write (a full disk, a signal): write the rest from the bytes, which can resume at any offset
      const bytes = Buffer.from(text, 'utf8');
      for (let at = written; at < bytes.length;) at += writeSync(this.fd, bytes, at, bytes.length - at);
    }
    this.lines += lines;
    if (!this.compactionScheduled && !this.closed && this.lines > 2 * this.docs.size + COMPACT_SLACK_LINES) {
      this.compactionScheduled = true;
      setImmediate(() => this.compact());
    }
  }

  private load(filename: string): void {
    ensureDatafileIntegrity(filename);
    cutTornTail(filename);
    let corrupt = 0;
    let total = 0;
    for (const line of readFileSync(filename, 'utf8').split('\n')) {
      if (line === '') continue;
      total += 1;
      let entry: Json;
      try {
        entry = model.deserialize(line);
      } catch {
        corrupt += 1;
        continue;
      }
      const id = entry._id;
      if (!id) continue; // nedb's index lines ($$indexCreated, $$indexRemoved): the local database keeps no indexes
      if (typeof id !== 'string') {
        corrupt += 1;
        continue;
      }
      if (entry.$$deleted === true) this.docs.delete(id);
      else if ('$$patch' in entry || '$$unset' in entry) {
        const doc = this.docs.get(id);
        if (!doc) {
          corrupt += 1;
          continue;
        }
        for (const key of (entry.$$unset as string[] | undefined) ?? []) delete doc[key];
        Object.assign(doc, entry.$$patch as Json | undefined);
      } else this.docs.set(id, entry as Doc);
    }
    if (corrupt > 0) {
      throw new Error(
        `${corrupt} of ${total} lines of ${filename} are corrupt: refusing to open it, to prevent data loss`,
      );
    }
    this.compact(); // one line per document, as nedb leaves a file it opened
  }

  /** nedb's candidates: by its `_id` index for `_id` equal to a value or `_id: { $in }`, otherwise every document. */
  private candidates(query: Json): Iterable<Doc> {
    const id = query._id;
    if (
      typeof id === 'string' ||
      typeof id === 'number' ||
      typeof id === 'boolean' ||
      id === null ||
      id instanceof Date
    ) {
      const doc = typeof id === 'string' ? this.docs.get(id) : undefined;
      return doc ? [doc] : [];
    }
    if (
      id !== undefined &&
      typeof id === 'object' &&
      Object.prototype.hasOwnProperty.call(id, '$in') &&
      Array.isArray((id as Json).$in)
    ) {
      // the order nedb's index gives: an object keyed by _id
      const byId: Record<string, Doc> = {};
      for (const value of (id as { $in: unknown[] }).$in) {
        const doc = typeof value === 'string' ? this.docs.get(value) : undefined;
        if (doc) byId[doc._id] = doc;
      }
      return Object.values(byId);
    }
    return this.ids().map((key) => this.docs.get(key)!);
  }

  private ids(): string[] {
    this.orderedIds ??= [...this.docs.keys()].sort();
    return this.orderedIds;
  }
}

/**
 * nedb's serialize (JSON with dates as `{"$$date": ms}` and field names checked), without its replacer function on
 * every key when the value is plain JSON (plain objects, arrays, strings, numbers, booleans, null): the output is
 * then the same as JSON.stringify's. Callers have checked the field names (checkObject) before.
 */
function serialize(value: unknown): string {
  return isPlainJson(value) ? JSON.stringify(value) : model.serialize(value);
}

function isPlainJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null)
    return typeof value !== 'function' && typeof value !== 'symbol' && typeof value !== 'bigint';
  if (Array.isArray(value)) {
    for (const item of value) if (!isPlainJson(item)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (!isPlainJson((value as Json)[key])) return false;
  return true;
}

/**
 * The top-level fields update operators reach: every operator's paths start at one (nedb's modifier functions walk
 * a path down from its first segment and touch nothing beside it). Undefined when `modifiers` is not all operators
 * with object arguments: model.modify then does all the work, and reports what is wrong.
 */
function touchedFields(modifiers: Json): string[] | undefined {
  const fields = new Set<string>();
  for (const op of Object.keys(modifiers)) {
    const argument = modifiers[op];
    if (op[0] !== '$' || typeof argument !== 'object' || argument === null) return undefined;
    for (const path of Object.keys(argument)) fields.add(path.split('.')[0]!);
  }
  return [...fields];
}

/**
 * nedb's modify, run on the fields the operators reach (with `_id`) instead of a copy of the whole document: the same
 * operators, checks and errors on those fields; the rest of the document is shared with the version before, which is
 * never changed in place.
 */
function modifyFields(doc: Doc, modifiers: Json, touched: string[]): Doc {
  const part = { _id: doc._id } as Doc;
  for (const key of touched) if (Object.prototype.hasOwnProperty.call(doc, key)) part[key] = doc[key];
  const changed = model.modify(part, modifiers);
  const next = { ...doc };
  for (const key of touched) {
    if (Object.prototype.hasOwnProperty.call(changed, key)) next[key] = changed[key];
    else delete next[key];
  }
  return next;
}

/** Of `keys`, the top-level fields of `next` that differ from `prior` (compared as stored) and those gone. */
function difference(prior: Doc, next: Doc, keys: string[]): { patch: Json; unset: string[] } {
  const patch: Json = {};
  const unset: string[] = [];
  for (const key of keys) {
    const value = next[key];
    if (value === undefined) {
      if (prior[key] !== undefined) unset.push(key);
    } else if (!sameStored(prior[key], value)) patch[key] = value;
  }
  return { patch, unset };
}

/**
 * nedb's checkObject (field names: no leading `$` except its own markers, no `.`), in the same walk finding whether
 * the value is plain JSON (plain objects, arrays and primitives only: no dates, no class instances).
 */
function checkFields(value: unknown): boolean {
  if (typeof value !== 'object' || value === null)
    return typeof value !== 'function' && typeof value !== 'symbol' && typeof value !== 'bigint';
  if (Array.isArray(value)) {
    let plain = true;
    for (const item of value) if (!checkFields(item)) plain = false;
    return plain;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    model.checkObject(value);
    return false;
  }
  let plain = true;
  for (const key in value) {
    const field = (value as Json)[key];
    if (
      key[0] === '$' &&
      !(key === '$$date' && typeof field === 'number') &&
      !(key === '$$deleted' && field === true) &&
      key !== '$$indexCreated' &&
      key !== '$$indexRemoved'
    ) {
      throw new Error('Field names cannot begin with the $ character');
    }
    if (key.includes('.')) throw new Error('Field names cannot contain a .');
    if (!checkFields(field)) plain = false;
  }
  return plain;
}

/** Equal as stored: undefined fields count as absent, dates by their time, NaN equals NaN (both store as null). */
function sameStored(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameStored(a[i], b[i])) return false;
    return true;
  }
  const x = a as Json;
  const y = b as Json;
  for (const key of Object.keys(x)) if (x[key] !== undefined && !sameStored(x[key], y[key])) return false;
  for (const key of Object.keys(y)) if (y[key] !== undefined && x[key] === undefined) return false;
  return true;
}

function patchLine(id: string, patch: Json, unset: string[]): string {
  const parts = [`{"_id":${JSON.stringify(id)}`];
  if (Object.keys(patch).length > 0) parts.push(`"$$patch":${serialize(patch)}`);
  if (unset.length > 0) parts.push(`"$$unset":${JSON.stringify(unset)}`);
  return `${parts.join(',')}}\n`;
}

/** nedb's projection: `{}` keeps all; keep-type or omit-type fields (not both), `_id` kept unless `_id: 0`. */
function project(docs: Doc[], projection: Record<string, 0 | 1> | undefined): Doc[] {
  if (projection === undefined || Object.keys(projection).length === 0) return docs;
  const keepId = projection._id !== 0;
  const { _id, ...rest } = projection;
  const keys = Object.keys(rest);
  let action: 0 | 1 | undefined;
  for (const key of keys) {
    if (action !== undefined && rest[key] !== action) throw new Error("Can't both keep and omit fields except for _id");
    action = rest[key];
  }
  return docs.map((doc) => {
    let picked: Json;
    if (action === 1) {
      const set: Json = {};
      for (const key of keys) {
        const value = model.getDotValue(doc, key);
        if (value !== undefined) set[key] = value;
      }
      picked = model.modify({} as Doc, { $set: set });
    } else {
      const unsetKeys: Json = {};
      for (const key of keys) unsetKeys[key] = true;
      picked = model.modify(doc, { $unset: unsetKeys });
    }
    if (keepId) picked._id = doc._id;
    else delete picked._id;
    return picked as Doc;
  });
}

/** After a crash during a compaction's rename the new file is `<name>~`: take it (nedb's ensureDatafileIntegrity). */
function ensureDatafileIntegrity(filename: string): void {
  if (existsSync(filename)) return;
  if (existsSync(`${filename}~`)) renameSync(`${filename}~`, filename);
  else writeFileSync(filename, '');
}

/** A crash during an append leaves a last line without its newline: cut it, keep every complete write. */
export function cutTornTail(filename: string): void {
  if (!existsSync(filename)) return;
  const size = statSync(filename).size;
  if (size === 0) return;
  const fd = openSync(filename, 'r+');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    let cut = -1;
    while (end > 0 && cut < 0) {
      const start = Math.max(0, end - chunk.length);
      readSync(fd, chunk, 0, end - start, start);
      const idx = chunk.subarray(0, end - start).lastIndexOf(0x0a);
      if (idx >= 0) cut = start + idx + 1;
      end = start;
    }
    if (cut < 0) cut = 0;
    if (cut !== size) ftruncateSync(fd, cut);
  } finally {
    closeSync(fd);
  }
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** nedb's crashSafeWriteFileLines: flush the folder and the old file, write `<name>~`, flush it, rename, flush the folder. */
function crashSafeWrite(filename: string, text: string): void {
  const temporary = `${filename}~`;
  fsyncPath(dirname(filename), 'r');
  if (existsSync(filename)) fsyncPath(filename, 'r+');
  writeFileSync(temporary, text);
  fsyncPath(temporary, 'r+');
  renameSync(temporary, filename);
  fsyncPath(dirname(filename), 'r');
}
