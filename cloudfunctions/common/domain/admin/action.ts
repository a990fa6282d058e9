/**
 * One admin action: authorised (an admin of ADMIN_OPENIDS, or in partner mode a sub-merchant admin for the actions
 * that allow it; checked before anything is read or written), run, and appended to the admin log with its outcome.
 * Its own module so that every function with admin actions (admin, books, merchants) bundles this and not the
 * others' actions.
 */
import { createHash } from 'node:crypto';
import { COLLECTIONS } from '../../store/store';
import { isAdmin, requireCaller } from '../access';
import type { Caller, Deps } from '../deps';
import { DomainError } from '../errors';
import { adminScopeOf, type AdminScope } from '../merchants';
import { asObject, type Input } from '../validate';

export interface AdminLogEntry {
  at: number;
  admin: string;
  action: string;
  target: string;
  outcome: 'ok' | string;
  note?: string;
}

/** Refused calls of one caller and action are counted in one document per this window, so a flood adds few. */
export const REFUSED_WINDOW_MS = 10 * 60_000;

/** A refused admin call, audited: who (the openid, '' when the call had none), which action, why, how often. */
export interface RefusedAdminEntry extends AdminLogEntry {
  _id: string;
  /** refusals of this caller and action in the window, this one included */
  count: number;
  lastAt: number;
}

/** Audits a refused call: the window's document is counted up, or created by the first refusal. Never throws. */
async function auditRefusal(deps: Deps, caller: string, action: string, reason: string): Promise<void> {
  const { store } = deps;
  const now = deps.clock();
  const window = Math.floor(now / REFUSED_WINDOW_MS);
  const who = createHash('sha256').update(caller).digest('hex').slice(0, 16);
  const id = `refused:${who}:${action}:${window}`;
  const bump = () =>
    store.updateWhere(COLLECTIONS.adminLog, { _id: id }, { count: store.command.inc(1), lastAt: now, outcome: reason });
  try {
    if (await bump()) return;
    const entry: RefusedAdminEntry = {
      _id: id,
      at: now,
      lastAt: now,
      admin: caller,
      action,
      target: '',
      outcome: reason,
      count: 1,
    };
    if ((await store.insert(COLLECTIONS.adminLog, entry)) === 'exists') await bump();
  } catch (error) {
    deps.log.warn('admin: auditing a refused call failed', { action, error: (error as Error).message });
  }
}

type AdminHandler<T> = (
  deps: Deps,
  admin: string,
  obj: Input,
  scope: AdminScope,
) => Promise<{ result: T; target: string; note?: string }>;

/**
 * Authorises, runs and audits one admin action. An admin of ADMIN_OPENIDS may run every action; a sub-merchant admin
 * (partner mode, domain/merchants.ts) only those marked `subMerchantAdmins`, which see its own sub-merchant's orders.
 */
export function adminAction<T>(
  action: string,
  handler: AdminHandler<T>,
  { subMerchantAdmins = false }: { subMerchantAdmins?: boolean } = {},
) {
  return async (deps: Deps, caller: Caller, event: unknown): Promise<T> => {
    if (!caller.openid) {
      await auditRefusal(deps, '', action, 'UNAUTHENTICATED');
      requireCaller(caller);
    }
    const admin = requireCaller(caller);
    const scope = isAdmin(deps, admin) ? ({ all: true } as const) : await adminScopeOf(deps, admin);
    if (!scope || (!scope.all && !subMerchantAdmins)) {
      await auditRefusal(deps, admin, action, 'FORBIDDEN');
      throw new DomainError('FORBIDDEN', '没有管理权限');
    }
    const obj = asObject(event);
    const log: AdminLogEntry = { at: deps.clock(), admin, action, target: '', outcome: 'ok' };
    try {
      const { result, target, note } = await handler(deps, admin, obj, scope);
      log.target = target;
      if (note) log.note = note;
      await deps.store.append(COLLECTIONS.adminLog, log);
      return result;
    } catch (error) {
      // a malformed request is no action: it is refused before anything is read, and not logged
      if (error instanceof DomainError && error.code === 'INVALID_ARGUMENT') throw error;
      log.outcome = error instanceof DomainError ? error.code : 'INTERNAL';
      log.target =
        typeof obj.orderId === 'string'
          ? obj.orderId
          : typeof obj.outRefundNo === 'string'
            ? obj.outRefundNo
            : typeof obj.id === 'string'
              ? obj.id
              : '';
      await deps.store.append(COLLECTIONS.adminLog, log).catch(() => undefined);
      throw error;
    }
  };
}
