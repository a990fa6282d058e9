/** Login at launch: wx.login, then the login function; retried with backoff; the profile kept for the session. */
import type { Profile } from '../../typings/api';
import { callApi, onUnauthenticated } from './api';
import { transport } from './transport';

export type LoginState = 'idle' | 'pending' | 'ok' | 'failed';

const RETRY_DELAYS_MS = [500, 1500];

let state: LoginState = 'idle';
let profile: Profile | undefined;
let inflight: Promise<Profile> | undefined;
const listeners = new Set<(state: LoginState) => void>();

function setState(next: LoginState): void {
  state = next;
  for (const listener of listeners) listener(next);
}

export const loginState = (): LoginState => state;
export const currentProfile = (): Profile | undefined => profile;

export function onLoginState(listener: (state: LoginState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function attempt(): Promise<Profile> {
  const code = await transport().loginCode();
  return callApi('login', { code });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Logs in once per session; concurrent callers share one attempt. A failure is retried twice, then reported. */
export function ensureLogin(force = false): Promise<Profile> {
  if (profile && !force) return Promise.resolve(profile);
  if (inflight) return inflight;
  setState('pending');
  inflight = (async () => {
    for (let i = 0; ; i++) {
      try {
        profile = await attempt();
        setState('ok');
        return profile;
      } catch (error) {
        if (i >= RETRY_DELAYS_MS.length) {
          setState('failed');
          throw error;
        }
        await sleep(RETRY_DELAYS_MS[i]!);
      }
    }
  })().finally(() => {
    inflight = undefined;
  });
  return inflight;
}

onUnauthenticated(() => ensureLogin(true));

/** Tests start each case logged out. */
export function resetLogin(): void {
  state = 'idle';
  profile = undefined;
  inflight = undefined;
  listeners.clear();
}
