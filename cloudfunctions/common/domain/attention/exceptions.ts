/**
 * Exceptions: one document per thing a person must look at, open until resolved (by an admin with a note, or by the
 * system when the cause clears itself, such as a duplicate charge whose refund succeeded). The `_id` is the kind and
 * the business key, so the same cause seen again (a notification retried, a reconcile run) bumps `lastSeenAt` and
 * `occurrences` instead of opening a second one.
 */
import type { ExceptionKind, ExceptionView } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { exceptionAlert, raiseAlert } from './alerts';
import type { Deps } from '../deps';

/** Stored as the view shows it, keyed by `_id`. */
export type ExceptionDoc = Omit<ExceptionView, 'id'> & { _id: string };

/** What opens one: its kind and business key (out_trade_no, out_refund_no, …) make it one document. */
export type ExceptionInput = Pick<
  ExceptionView,
  'kind' | 'orderId' | 'outTradeNo' | 'outRefundNo' | 'transactionId' | 'expectedFen' | 'actualFen' | 'detail'
> & { key: string };

export const exceptionId = (kind: ExceptionKind, key: string) => `${kind}:${key}`;

/** Opens the exception, or records that its cause was seen again; `created` says which. */
export async function openException(deps: Deps, input: ExceptionInput): Promise<{ id: string; created: boolean }> {
  const now = deps.clock();
  const { key, ...fields } = input;
  const id = exceptionId(input.kind, key);
  const doc: ExceptionDoc = { _id: id, ...fields, status: 'open', firstSeenAt: now, lastSeenAt: now, occurrences: 1 };
  if ((await deps.store.insert(COLLECTIONS.exceptions, doc)) === 'exists') {
    await deps.store.updateWhere(
      COLLECTIONS.exceptions,
      { _id: id },
      { lastSeenAt: now, occurrences: deps.store.command.inc(1) },
    );
    return { id, created: false };
  }
  deps.log.warn('exception opened', { id, kind: input.kind, orderId: input.orderId, detail: input.detail });
  await raiseAlert(deps, exceptionAlert(id, input));
  return { id, created: true };
}

/** Resolves an open exception; false when it was not open (already resolved, or never opened). */
export async function resolveException(
  deps: Deps,
  id: string,
  by: string,
  resolution: { action: string; note: string },
): Promise<boolean> {
  const now = deps.clock();
  const done = await deps.store.updateWhere(
    COLLECTIONS.exceptions,
    { _id: id, status: 'open' },
    { status: 'resolved', resolvedAt: now, resolvedBy: by, resolution, lastSeenAt: now },
  );
  return done > 0;
}

export function toExceptionView(doc: ExceptionDoc): ExceptionView {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}
