/**
 * The statement of one bill day, stored as `statements/<YYYY-MM-DD>`: its status (the books job's run state), both
 * sides' totals and the differences, and the exceptions the last comparison opened. A re-run replaces it whole, under
 * a lease so two runs of one day never interleave.
 */
import type { StatementView } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import type { Deps } from '../deps';

/** a run holds its day this long at most (the function's 60 s) */
export const LEASE_MS = 60_000;

export type StatementDoc = Omit<StatementView, 'billDate'> & {
  _id: string;
  /** a run in progress holds the day until then */
  leaseUntil: number;
  /** the exceptions the last comparison opened or saw again: a re-run resolves those it no longer finds */
  exceptionIds: string[];
};

export function toStatementView(doc: StatementDoc): StatementView {
  const { _id, leaseUntil: _lease, exceptionIds: _ids, ...rest } = doc;
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

/** Writes the run's outcome and gives the day back. Nested values are replaced whole, not merged; `undefined` removes. */
export async function saveStatement(
  deps: Deps,
  billDate: string,
  fields: { [K in keyof Omit<StatementDoc, '_id'>]?: StatementDoc[K] | undefined },
): Promise<void> {
  const { store } = deps;
  const _ = store.command;
  const data: Record<string, unknown> = { leaseUntil: 0, updatedAt: deps.clock() };
  for (const [key, value] of Object.entries(fields))
    data[key] = value === undefined ? _.remove() : value !== null && typeof value === 'object' ? _.set(value) : value;
  await store.updateWhere(COLLECTIONS.statements, { _id: billDate }, data);
}
