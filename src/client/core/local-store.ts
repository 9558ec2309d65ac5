/**
 * This browser's own per-user memory (drafts, unsent messages) in localStorage, keyed by
 * the signed-in user's id so one account never reads another's. Logout's Clear-Site-Data
 * empties it. Storage that is full or disabled only means nothing is remembered.
 */

const PREFIX = 'securechat.';

export function userKey(kind: string, userId: string, ...rest: string[]): string {
  return [`${PREFIX}${kind}`, userId, ...rest].join('.');
}

export function readJson<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  } catch {
    return null;
  }
}

export function writeJson(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Full or disabled: this page still works, it just won't remember.
  }
}
