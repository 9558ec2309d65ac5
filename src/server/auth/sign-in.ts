/**
 * The account use cases that take more than one service: signing in (a budget per address,
 * the throttled password check, a fresh session replacing the one the browser came with),
 * signing out, and changing the password (the same budgets; the caller's other sessions
 * end). Routes call these and only translate HTTP.
 */
import type { LoginBody, User } from '../../shared/protocol.js';
import type { RateLimitsConfig } from '../config.js';
import { addressBlock } from '../http/client-address.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { AccountsService } from './accounts.service.js';
import type { Caller, SessionsService } from './sessions.service.js';

const MINUTE_MS = 60_000;

/** Where a sign-in comes from. */
export interface Origin {
  ip: string;
  userAgent?: string;
  /** The session the browser already had, if any: it ends (read only once the password is right). */
  previous: () => Promise<Caller | null>;
}

export function createSignIn(deps: { accounts: AccountsService; sessions: SessionsService; limiter: RateLimiter; limits: RateLimitsConfig }) {
  const { accounts, sessions, limiter, limits } = deps;
  return {
    async signIn(body: LoginBody, origin: Origin): Promise<{ user: User; token: string; csrfToken: string }> {
      await limiter.consume(`login-ip:${addressBlock(origin.ip)}`, { limit: limits.loginPerMinute, windowMs: MINUTE_MS });
      const user = await accounts.authenticate(body.username, body.password, origin.ip);
      // A fresh session on every login (no fixation); the old cookie's session ends.
      const previous = await origin.previous();
      if (previous) await sessions.end(previous);
      const { token, sessionId } = await sessions.start(user.id, { rememberMe: body.rememberMe ?? false, userAgent: origin.userAgent, ip: origin.ip });
      return { user, token, csrfToken: sessions.csrfTokenFor(sessionId) };
    },

    signOut: (caller: Caller): Promise<void> => sessions.end(caller),

    /** Checks the current password like a sign-in (the same budgets, from `ip`), then changes it. */
    async changePassword(caller: Caller, currentPassword: string, newPassword: string, ip: string): Promise<void> {
      await limiter.consume(`login-ip:${addressBlock(ip)}`, { limit: limits.loginPerMinute, windowMs: MINUTE_MS });
      await accounts.changePassword(caller.user.id, currentPassword, newPassword, ip);
      await sessions.endAllExcept(caller.user.id, caller.sessionId);
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
