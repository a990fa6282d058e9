/**
 * Translation of wx-server-sdk query and update objects into the Mongo-style objects @seald-io/nedb evaluates.
 * The cloud database's rules kept here: a nested plain object in `where` or in update data addresses fields by
 * path (it does not match or replace the whole sub-document); `_.set(obj)` replaces; `db.serverDate()` is the
 * time of the write.
 */
import { LogicCommand, QueryCommand, ServerDate, UpdateCommand } from './commands';
import { DB_INVALID_COMMAND, LocalDbError, UnsupportedOperatorError } from './errors';

type Json = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Json {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkKey(key: string): void {
  if (key.startsWith('$')) throw new UnsupportedOperatorError(key);
}

export function resolveValue(value: unknown, now: number): unknown {
  if (typeof value !== 'object' || value === null) return value; // most values: nothing to resolve or check
  if (value instanceof ServerDate) return new Date(now + value.offset);
  if (value instanceof QueryCommand || value instanceof UpdateCommand || value instanceof LogicCommand) {
    throw new LocalDbError(DB_INVALID_COMMAND, 'database', 'a command cannot be stored as a value');
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, now));
  if (isPlainObject(value)) {
    const out: Json = {};
    for (const key of Object.keys(value)) {
      checkKey(key);
      const resolved = resolveValue(value[key], now);
      // an own "__proto__" field stays a field (as Object.fromEntries made it), never the copy's prototype
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: resolved, enumerable: true, writable: true, configurable: true });
      else out[key] = resolved;
    }
    return out;
  }
  return value;
}

/** `where(...)` argument → nedb query. */
export function translateQuery(query: unknown, now = Date.now()): Json {
  if (query instanceof LogicCommand) {
    return { [`$${query.op}`]: query.operands.map((q) => translateQuery(q, now)) };
  }
  if (!isPlainObject(query)) throw new LocalDbError(DB_INVALID_COMMAND, 'collection.where', 'query must be an object');
  const out: Json[] = [];
  collectQuery(query, '', out, now);
  // one object when no path repeats: nedb then uses its indexes (an _id in a top-level $and would scan every document)
  const merged: Json = {};
  for (const condition of out) {
    const [key] = Object.keys(condition);
    if (key === undefined || key in merged) return { $and: out };
    merged[key] = condition[key];
  }
  return merged;
}

function collectQuery(obj: Json, prefix: string, out: Json[], now: number): void {
  for (const key of Object.keys(obj)) {
    checkKey(key);
    const value = obj[key];
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value !== 'object' || value === null) out.push({ [path]: value });
    else if (value instanceof QueryCommand) out.push(fieldCondition(path, value, now));
    else if (value instanceof LogicCommand)
      throw new LocalDbError(
        DB_INVALID_COMMAND,
        'collection.where',
        `_.${value.op} over whole queries must be at the top`,
      );
    else if (value instanceof UpdateCommand)
      throw new LocalDbError(DB_INVALID_COMMAND, 'collection.where', `update operator ${value.op} used in a query`);
    else if (isPlainObject(value) && Object.keys(value).length > 0) collectQuery(value, path, out, now);
    else if (value instanceof RegExp) out.push({ [path]: { $regex: value } });
    else out.push({ [path]: resolveValue(value, now) });
  }
}

const COMPARISON: Record<string, string> = {
  neq: '$ne',
  gt: '$gt',
  gte: '$gte',
  lt: '$lt',
  lte: '$lte',
  in: '$in',
  nin: '$nin',
  exists: '$exists',
  size: '$size',
};

function fieldCondition(path: string, command: QueryCommand, now: number): Json {
  const [operand] = command.operands;
  switch (command.op) {
    case 'eq':
      return { [path]: resolveValue(operand, now) };
    case 'and':
    case 'or':
      return { [`$${command.op}`]: command.operands.map((c) => fieldCondition(path, asCommand(c), now)) };
    case 'elemMatch':
      return { [path]: { $elemMatch: isPlainObject(operand) ? translateQuery(operand, now) : operand } };
    case 'in':
    case 'nin':
      if (!Array.isArray(operand))
        throw new LocalDbError(DB_INVALID_COMMAND, 'collection.where', `_.${command.op} takes an array`);
      return { [path]: { [COMPARISON[command.op]!]: resolveValue(operand, now) } };
    default:
      return { [path]: { [COMPARISON[command.op]!]: resolveValue(operand, now) } };
  }
}

function asCommand(value: unknown): QueryCommand {
  if (value instanceof QueryCommand) return value;
  return new QueryCommand('eq', [value]);
}

/** `update({ data })` → nedb modifiers. Plain nested objects become dotted `$set` paths. */
export function translateUpdate(data: unknown, now = Date.now()): Json {
  if (!isPlainObject(data) || Object.keys(data).length === 0) {
    throw new LocalDbError(DB_INVALID_COMMAND, 'document.update', 'update data must be a non-empty object');
  }
  const modifiers: Record<string, Json> = {};
  const put = (op: string, path: string, value: unknown) => {
    (modifiers[op] ??= {})[path] = value;
  };
  const walk = (obj: Json, prefix: string) => {
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      checkKey(key);
      const path = prefix ? `${prefix}.${key}` : key;
      if (path === '_id') throw new LocalDbError(DB_INVALID_COMMAND, 'document.update', '_id cannot be updated');
      if (value instanceof UpdateCommand) updateCommand(path, value, put, now);
      else if (value instanceof QueryCommand || value instanceof LogicCommand)
        throw new LocalDbError(DB_INVALID_COMMAND, 'document.update', 'query operator used in update data');
      else if (isPlainObject(value) && Object.keys(value).length > 0) walk(value, path);
      else put('$set', path, resolveValue(value, now));
    }
  };
  walk(data, '');
  return modifiers;
}

function updateCommand(
  path: string,
  command: UpdateCommand,
  put: (op: string, path: string, value: unknown) => void,
  now: number,
): void {
  const operand = command.operand;
  switch (command.op) {
    case 'set':
      return put('$set', path, resolveValue(operand, now));
    case 'remove':
      return put('$unset', path, true);
    case 'inc':
      if (typeof operand !== 'number' || !Number.isFinite(operand))
        throw new LocalDbError(DB_INVALID_COMMAND, 'document.update', '_.inc takes a number');
      return put('$inc', path, operand);
    case 'min':
      return put('$min', path, resolveValue(operand, now));
    case 'max':
      return put('$max', path, resolveValue(operand, now));
    case 'push':
      if (isPlainObject(operand) && 'each' in operand) {
        if (Object.keys(operand).some((k) => k !== 'each' && k !== 'slice'))
          throw new UnsupportedOperatorError('push.position/sort');
        return put('$push', path, {
          $each: resolveValue(operand.each, now),
          ...(operand.slice !== undefined ? { $slice: operand.slice } : {}),
        });
      }
      return put(
        '$push',
        path,
        Array.isArray(operand) ? { $each: resolveValue(operand, now) } : resolveValue(operand, now),
      );
    case 'addToSet':
      return put(
        '$addToSet',
        path,
        Array.isArray(operand) ? { $each: resolveValue(operand, now) } : resolveValue(operand, now),
      );
    case 'pull':
      return put(
        '$pull',
        path,
        operand instanceof QueryCommand ? translateQuery({ v: operand }, now).v : resolveValue(operand, now),
      );
    case 'pop':
      return put('$pop', path, 1);
    case 'shift':
      return put('$pop', path, -1);
  }
}
