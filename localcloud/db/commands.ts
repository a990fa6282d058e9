/**
 * `db.command` for the local database: the query and update operators of wx-server-sdk's Command, as values the
 * translator (translate.ts) turns into the Mongo-style operators the storage engine understands. Any other
 * operator name throws UnsupportedOperatorError naming it.
 */
import { UnsupportedOperatorError } from './errors';

export type QueryOp =
  'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'exists' | 'size' | 'elemMatch' | 'and' | 'or';

export class QueryCommand {
  constructor(
    readonly op: QueryOp,
    readonly operands: unknown[],
  ) {}
  and(...args: unknown[]): QueryCommand {
    return new QueryCommand('and', [this, ...flat(args)]);
  }
  or(...args: unknown[]): QueryCommand {
    return new QueryCommand('or', [this, ...flat(args)]);
  }
}

/** `_.and([...])` / `_.or([...])` over whole query objects, usable at the top of `where`. */
export class LogicCommand {
  constructor(
    readonly op: 'and' | 'or',
    readonly operands: unknown[],
  ) {}
}

export type UpdateOp = 'set' | 'remove' | 'inc' | 'min' | 'max' | 'push' | 'pull' | 'addToSet' | 'pop' | 'shift';

export class UpdateCommand {
  constructor(
    readonly op: UpdateOp,
    readonly operand?: unknown,
  ) {}
}

export class ServerDate {
  constructor(readonly offset = 0) {}
}

const flat = (args: unknown[]) => (args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args);

const supported = {
  eq: (v: unknown) => new QueryCommand('eq', [v]),
  neq: (v: unknown) => new QueryCommand('neq', [v]),
  gt: (v: unknown) => new QueryCommand('gt', [v]),
  gte: (v: unknown) => new QueryCommand('gte', [v]),
  lt: (v: unknown) => new QueryCommand('lt', [v]),
  lte: (v: unknown) => new QueryCommand('lte', [v]),
  in: (v: unknown[]) => new QueryCommand('in', [v]),
  nin: (v: unknown[]) => new QueryCommand('nin', [v]),
  exists: (v: boolean) => new QueryCommand('exists', [v]),
  size: (v: number) => new QueryCommand('size', [v]),
  elemMatch: (v: unknown) => new QueryCommand('elemMatch', [v]),
  and: (...args: unknown[]) => andOr('and', flat(args)),
  or: (...args: unknown[]) => andOr('or', flat(args)),
  set: (v: unknown) => new UpdateCommand('set', v),
  remove: () => new UpdateCommand('remove'),
  inc: (v: number) => new UpdateCommand('inc', v),
  min: (v: unknown) => new UpdateCommand('min', v),
  max: (v: unknown) => new UpdateCommand('max', v),
  push: (v: unknown) => new UpdateCommand('push', v),
  pull: (v: unknown) => new UpdateCommand('pull', v),
  addToSet: (v: unknown) => new UpdateCommand('addToSet', v),
  pop: () => new UpdateCommand('pop'),
  shift: () => new UpdateCommand('shift'),
};

/** Field-level `_.and(_.gt(1), _.lt(5))` stays a QueryCommand; over whole objects it is a LogicCommand. */
function andOr(op: 'and' | 'or', operands: unknown[]): QueryCommand | LogicCommand {
  return operands.every((o) => o instanceof QueryCommand)
    ? new QueryCommand(op, operands)
    : new LogicCommand(op, operands);
}

/** The operators of wx-server-sdk's Command that this database deliberately leaves out. */
export const UNSUPPORTED_OPERATORS = [
  'all',
  'mod',
  'not',
  'nor',
  'expr',
  'mul',
  'rename',
  'unshift',
  'pullAll',
  'geoNear',
  'geoWithin',
  'geoIntersects',
  'aggregate',
  'project',
] as const;

export type Command = typeof supported;

/**
 * `db.command`: the supported operators as the object's own properties (found by ordinary, cached property lookups on
 * every `_.in(…)` of the hot paths), and behind them a prototype that throws UnsupportedOperatorError for any other
 * operator name. Names every object has (toString, valueOf, …) and symbols answer as on a plain object.
 */
export function createCommand(): Command {
  const fallback = new Proxy(Object.prototype, {
    get(target, name, receiver) {
      if (typeof name === 'string' && !(name in target)) throw new UnsupportedOperatorError(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  return Object.setPrototypeOf({ ...supported }, fallback) as Command;
}
