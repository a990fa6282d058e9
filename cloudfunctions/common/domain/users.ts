/** Login: the client's wx.login code through jscode2session; the user upserted; session_key kept server-side only. */
import type { LoginRequest, LoginResponse } from '../../../typings/api';
import { COLLECTIONS } from '../store/store';
import type { Caller, Deps } from './deps';
import { DomainError } from './errors';
import { asObject, onlyKeys, readString } from './validate';

export interface UserDoc {
  _id: string; // openid
  openid: string;
  unionid?: string;
  sessionKey: string;
  createdAt: number;
  lastLoginAt: number;
}

export function parseLogin(event: unknown): LoginRequest {
  const obj = asObject(event);
  onlyKeys(obj, ['code']);
  return { code: readString(obj, 'code', { max: 128, pattern: /^[\x21-\x7e]+$/ }) };
}

export async function login(deps: Deps, caller: Caller, event: unknown): Promise<LoginResponse> {
  const { code } = parseLogin(event);
  const session = await deps.wxApi.code2session(code);
  if (caller.openid && caller.openid !== session.openid) {
    throw new DomainError('UNAUTHENTICATED', 'the login code belongs to another user');
  }
  const now = deps.clock();
  const { store } = deps;
  const updated = await store.updateWhere(
    COLLECTIONS.users,
    { _id: session.openid },
    {
      sessionKey: session.sessionKey,
      lastLoginAt: now,
      ...(session.unionid ? { unionid: session.unionid } : {}),
    },
  );
  let createdAt = now;
  if (updated === 0) {
    const user: UserDoc = {
      _id: session.openid,
      openid: session.openid,
      sessionKey: session.sessionKey,
      createdAt: now,
      lastLoginAt: now,
      ...(session.unionid ? { unionid: session.unionid } : {}),
    };
    if ((await store.insert(COLLECTIONS.users, user)) === 'exists') {
      createdAt = (await store.getById<UserDoc>(COLLECTIONS.users, session.openid))?.createdAt ?? now;
    }
  } else {
    createdAt = (await store.getById<UserDoc>(COLLECTIONS.users, session.openid))?.createdAt ?? now;
  }
  return { openid: session.openid, isAdmin: deps.config.adminOpenids.has(session.openid), createdAt, lastLoginAt: now };
}
