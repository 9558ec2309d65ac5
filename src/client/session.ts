/**
 * Who is signed in. Loaded once from GET /auth/session at start; changed by logging in
 * or out, and by any request answered 401 (the session ended elsewhere or expired).
 */
import type { LoginBody, SessionInfo, User } from '../shared/protocol.js';
import * as api from './core/api.js';
import { ApiError } from './core/api.js';
import { useStore } from './hooks.js';
import { loginPath } from './paths.js';
import { currentPath, navigate } from './router.js';
import { chosenTheme, saveTheme } from './theme.js';

export type SessionState =
  | { status: 'loading' }
  | { status: 'unreachable'; message: string }
  | { status: 'anonymous' }
  | { status: 'signed-in'; user: User; limits: SessionInfo['limits'] };

let state: SessionState = { status: 'loading' };
const listeners = new Set<() => void>();

function setState(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const getState = () => state;
const sessionStore = { subscribe, getSnapshot: getState };

export function useSession(): SessionState {
  return useStore(sessionStore);
}

/** Asks the server whether this browser has a session. */
export async function loadSession(): Promise<void> {
  try {
    signedIn(await api.getSession());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) setState({ status: 'anonymous' });
    else setState({ status: 'unreachable', message: error instanceof ApiError ? error.message : String(error) });
  }
}

export async function logIn(body: LoginBody): Promise<void> {
  signedIn(await api.login(body));
}

/** Ends the session on the server, then forgets it here and shows the login page. */
export async function logOut(): Promise<void> {
  // The answer's Clear-Site-Data empties this site's storage; the theme is no secret, so it stays.
  const theme = chosenTheme();
  try {
    await api.logout();
  } catch (error) {
    // 401: the session had already ended, which is what the user asked for.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  if (theme) saveTheme(theme);
  navigate('/login');
  signedOut();
}

function signedIn(info: SessionInfo): void {
  signOutNotice = null;
  api.setCsrfToken(info.csrfToken);
  setState({ status: 'signed-in', user: info.user, limits: info.limits });
}

function signedOut(): void {
  api.setCsrfToken(null);
  setState({ status: 'anonymous' });
}

/** Why the user was signed out without asking, for the login page; cleared once shown and signed in again. */
export let signOutNotice: string | null = null;

api.setUnauthorizedHandler(() => {
  if (state.status !== 'signed-in') return;
  signOutNotice = 'You were signed out: this session was ended from another device, or your password was changed.';
  navigate(loginPath(currentPath()), { replace: true });
  signedOut();
});
