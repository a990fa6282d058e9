/**
 * The statement of one bill day, stored as `statements/<YYYY-MM-DD>`: its status (the books job's run state), both
 * sides' totals and the differences, and the exceptions the last comparison opened. A re-run replaces it whole, under
 * a lease so two runs of one day never interleave.
 */
import type { BillDifference, StatementTotals, StatementView } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import type { Deps } from '../deps';

/** a run holds its day this long at most (the function's 60 s) */
export const LEASE_MS = 60_000;

/**
 * Where a day compared a slice at a time stands (books.ts): the slices done, what they found, and the bill they read.
 * Written after each slice under the run's lease; removed when the last slice writes the statement.
 */
export interface BillCursor {
  slices: number;
  /** the next slice, from 0 */
  slice: number;
  /** paid orders per slice, as the first slice cut them */
  sliceRows: number;
  /** the last order id of the slices done: the next slice starts after it */
  after?: string;
  /** the bill the first slice read (its digest and totals): a later slice reading another starts the day again */
  kind: 'bill' | 'no_statement';
  bill: NonNullable<StatementView['bill']>;
  /** the books' totals of the slices done */
  books: StatementTotals;
  /** the first differences kept, and the counts of all */
  differences: BillDifference[];
  differenceCount: number;
  healedCount: number;
  exceptionIds: string[];
  /** the longest slice yet: what a run expects the next one to cost */
  sliceMs: number;
  /** the slices' time, summed */
  ms: number;
}

export type StatementDoc = Omit<StatementView, 'billDate'> & {
  _id: string;
  /** a run in progress holds the day until then */
  leaseUntil: number;
  /** the exceptions the last comparison opened or saw again: a re-run resolves those it no longer finds */
  exceptionIds: string[];
  cursor?: BillCursor;
};

export function toStatementView(doc: StatementDoc): StatementView {
  const { _id, leaseUntil: _lease, exceptionIds: _ids, cursor: _cursor, ...rest } = doc;
  return { billDate: _id, ...rest };
}

export function getStatement(deps: Deps, billDate: string): Promise<StatementDoc | undefined> {
  return deps.store.getById<StatementDoc>(COLLECTIONS.statements, billDate);
}

/**
 * Takes the day for one run: creates its statement (status `creating`, nothing compared yet) or takes the lease of
 * the existing one. Undefined when another run holds it.
 */
export async function leaseStatement(deps: Deps, billDate: string): Promise<StatementDoc | undefined> {
  const { store } = deps;
  const now = deps.clock();
  const fresh: StatementDoc = {
    _id: billDate,
    status: 'creating',
    attempts: 0,
    differences: [],
    differenceCount: 0,
    healedCount: 0,
    openCount: 0,
    runs: 0,
    updatedAt: now,
    // due again once the lease lapses: a run that dies before it writes its outcome is taken up by the next timer run
    nextAttemptAt: now,
    leaseUntil: now + LEASE_MS,
    exceptionIds: [],
  };
  if ((await store.insert(COLLECTIONS.statements, fresh)) === 'created') return fresh;
  const taken = await store.updateWhere(
    COLLECTIONS.statements,
    { _id: billDate, leaseUntil: store.command.lte(now) },
    { leaseUntil: now + LEASE_MS },
  );
  if (!taken) return undefined;
  return getStatement(deps, billDate);
}

type StatementFields = { [K in keyof Omit<StatementDoc, '_id' | 'leaseUntil'>]?: StatementDoc[K] | undefined };

function update(deps: Deps, fields: StatementFields, leaseUntil: number): Record<string, unknown> {
  const _ = deps.store.command;
  const data: Record<string, unknown> = { leaseUntil, updatedAt: deps.clock() };
  for (const [key, value] of Object.entries(fields))
    data[key] = value === undefined ? _.remove() : value !== null && typeof value === 'object' ? _.set(value) : value;
  return data;
}

/**
 * Writes the run's outcome and gives the day back. Nested values are replaced whole, not merged; `undefined` removes.
 * With `leaseUntil`, only while the run still holds that lease: whether it did.
 */
export async function saveStatement(
  deps: Deps,
  billDate: string,
  fields: StatementFields,
  leaseUntil?: number,
): Promise<boolean> {
  const updated = await deps.store.updateWhere(
    COLLECTIONS.statements,
    { _id: billDate, ...(leaseUntil !== undefined ? { leaseUntil } : {}) },
    update(deps, fields, 0),
  );
  return updated > 0;
}

/**
 * Writes a slice's progress and keeps the day, its lease renewed: only while the run still holds the lease it was
 * given (`leaseUntil`). The new lease, or undefined when another run took the day after this one's lapsed.
 */
export async function saveProgress(
  deps: Deps,
  billDate: string,
  leaseUntil: number,
  fields: StatementFields,
): Promise<number | undefined> {
  const renewed = deps.clock() + LEASE_MS;
  const won = await deps.store.updateWhere(
    COLLECTIONS.statements,
    { _id: billDate, leaseUntil },
    update(deps, fields, renewed),
  );
  return won > 0 ? renewed : undefined;
}
