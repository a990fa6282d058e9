/**
 * Fixed-window rate limits kept in the database, so every function instance counts against the same budget. A
 * window is one document (`_id` scope, hashed key, window number) whose `count` is raised by a compare-and-set that
 * holds only below the limit: one write for a request within its budget, none taken beyond it. The key (an IP
 * address, an order token's hash) is stored only as a hash. Ended windows are deleted by the reconcile timer.
 */
import { createHash } from 'node:crypto';
import { COLLECTIONS } from '../store/store';
import type { Deps } from './deps';
import { DomainError } from './errors';

export interface RateLimit {
  /** what is limited, e.g. `ip-create`; part of the document id */
  scope: string;
  /** requests per window */
  max: number;
  windowMs: number;
}

/** Too many requests: the caller should wait `retryAfterMs` (the HTTP adapter answers 429 with Retry-After). */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterMs: number) {
    super('UNAVAILABLE', '请求过于频繁，请稍后再试');
    this.name = 'RateLimitedError';
  }
}

interface WindowDoc {
  _id: string;
  scope: string;
  count: number;
  /** ms; after it the document is no longer read */
  endsAt: number;
}

/** Takes one request from `key`'s budget in the current window, or throws RateLimitedError. */
export async function takeRate(deps: Pick<Deps, 'store' | 'clock'>, limit: RateLimit, key: string): Promise<void> {
  const { store } = deps;
  const now = deps.clock();
  const window = Math.floor(now / limit.windowMs);
  const endsAt = (window + 1) * limit.windowMs;
  const id = `${limit.scope}_${createHash('sha256').update(key).digest('hex').slice(0, 24)}_${window}`;
  const below = { _id: id, count: store.command.lt(limit.max) };
  if (await store.updateWhere(COLLECTIONS.rateLimits, below, { count: store.command.inc(1) })) return;
  const first: WindowDoc = { _id: id, scope: limit.scope, count: 1, endsAt };
  if ((await store.insert(COLLECTIONS.rateLimits, first)) === 'created') return;
  // it exists: full, or a concurrent first request created it a moment ago
  if (await store.updateWhere(COLLECTIONS.rateLimits, below, { count: store.command.inc(1) })) return;
  throw new RateLimitedError(endsAt - now);
}

/** Deletes windows that ended before `now` (the reconcile timer): guessed tokens leave no lasting documents. */
export async function sweepRateWindows(deps: Pick<Deps, 'store' | 'clock'>): Promise<number> {
  return deps.store.removeWhere(COLLECTIONS.rateLimits, { endsAt: deps.store.command.lt(deps.clock()) });
}
