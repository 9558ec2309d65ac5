/**
 * Rate limits: fixed-window counters per key ("login-ip:1.2.3.4", "send:<userId>") and a
 * sign-in throttle whose delay grows with each failure for an account. Counters live
 * in this process; a shared store for several instances is future work (issue 6).
 */
import type { Clock } from '../clock.js';
import { errors } from './errors.js';

export interface RateLimit {
  limit: number;
  windowMs: number;
}

interface Window {
  count: number;
  resetAt: number;
}

// Keys are pruned when the map grows, so one-off IPs cannot grow memory without bound.
const PRUNE_AT = 10_000;

export function createRateLimiter(clock: Clock) {
  const windows = new Map<string, Window>();

  function prune(now: number): void {
    if (windows.size < PRUNE_AT) return;
    for (const [key, window] of windows) if (window.resetAt <= now) windows.delete(key);
  }

  return {
    /** Counts one hit on the key; throws a 429 (with Retry-After) past the limit. */
    consume(key: string, { limit, windowMs }: RateLimit): void {
      const now = clock.now();
      let window = windows.get(key);
      if (!window || window.resetAt <= now) {
        prune(now);
        window = { count: 0, resetAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count > limit) throw errors.rateLimited(Math.max(1, Math.ceil((window.resetAt - now) / 1000)));
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

interface Failures {
  count: number;
  lastAt: number;
}

/** Failures forgiven after this long without another. */
const FAILURE_MEMORY_MS = 15 * 60 * 1000;
const FREE_FAILURES = 5;
const MAX_DELAY_MS = 15 * 60 * 1000;

/**
 * Sign-in throttle per account: after a few failures, each further attempt must wait
 * twice as long as the last (1 s, 2 s, 4 s … up to 15 minutes). A success clears it.
 */
export function createLoginThrottle(clock: Clock) {
  const failures = new Map<string, Failures>();

  return {
    /** Throws a 429 while the account is cooling down. */
    check(accountKey: string): void {
      const entry = failures.get(accountKey);
      if (!entry || entry.count < FREE_FAILURES) return;
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** (entry.count - FREE_FAILURES));
      const waitMs = entry.lastAt + delay - clock.now();
      if (waitMs > 0) throw errors.rateLimited(Math.ceil(waitMs / 1000));
    },
    failed(accountKey: string): void {
      const now = clock.now();
      const entry = failures.get(accountKey);
      if (!entry || now - entry.lastAt > FAILURE_MEMORY_MS) failures.set(accountKey, { count: 1, lastAt: now });
      else failures.set(accountKey, { count: entry.count + 1, lastAt: now });
      if (failures.size > PRUNE_AT) {
        for (const [key, value] of failures) if (now - value.lastAt > FAILURE_MEMORY_MS) failures.delete(key);
      }
    },
    succeeded(accountKey: string): void {
      failures.delete(accountKey);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
