/** The client's URLs: which screen a path shows, and the paths the app links to. */

export type Route =
  | { name: 'landing' }
  | { name: 'login'; next: string | null }
  | { name: 'register'; next: string | null }
  | { name: 'chat'; roomId: string | null }
  | { name: 'settings' }
  | { name: 'invite'; code: string }
  | { name: 'not-found' };

/** The screen for a location (`search` as in `location.search`). */
export function matchRoute(pathname: string, search = ''): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path === '/') return { name: 'landing' };
  if (path === '/login') return { name: 'login', next: nextParam(search) };
  if (path === '/register') return { name: 'register', next: nextParam(search) };
  if (path === '/settings') return { name: 'settings' };
  if (path === '/chat') return { name: 'chat', roomId: null };
  const [, section, param, ...rest] = path.split('/');
  const value = param && rest.length === 0 ? decodeSegment(param) : null;
  if (value && section === 'chat') return { name: 'chat', roomId: value };
  if (value && section === 'invite') return { name: 'invite', code: value };
  return { name: 'not-found' };
}

function nextParam(search: string): string | null {
  return safeNextPath(new URLSearchParams(search).get('next'));
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

const NEXT_BASE = 'https://securechat.invalid';

/** True if `path`, read by a browser against this site, stays on this site. */
function staysOnSite(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && new URL(path, NEXT_BASE).origin === NEXT_BASE;
}

/**
 * `next` if it is a path on this site, else null. Only a single leading slash is
 * accepted: `//host` and `/\host` are read by browsers as other sites, and control
 * characters are dropped by URL parsers (so `/\t/host` would become `//host`). The
 * check runs again on the normalised path, which is what the app navigates to: dot
 * segments collapse, so `/.//host` becomes `//host`, another site.
 */
export function safeNextPath(next: string | null | undefined): string | null {
  if (!next || /[\u0000-\u001f\u007f\\]/.test(next) || !staysOnSite(next)) return null;
  const url = new URL(next, NEXT_BASE);
  const normalised = url.pathname + url.search + url.hash;
  return staysOnSite(normalised) ? normalised : null;
}

export const chatPath = '/chat';

export function roomPath(roomId: string): string {
  return `/chat/${encodeURIComponent(roomId)}`;
}

/** The login page, coming back to `next` afterwards. */
export function loginPath(next?: string | null): string {
  return next ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

export function registerPath(next?: string | null): string {
  return next ? `/register?next=${encodeURIComponent(next)}` : '/register';
}
