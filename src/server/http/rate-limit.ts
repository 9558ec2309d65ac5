/**
 * Rate limits: fixed-window budgets per key ("login-ip:1.2.3.4", "send:<userId>") and a
 * sign-in throttle whose delay grows with each failure for an account. The counters live
 * in a CounterStore: shared between instances for sign-in and registration, in memory
 * for the per-message budgets (a round trip per message would cost more than it guards).
 */
import type { Clock } from '../clock.js';
import type { CounterStore } from '../platform/cluster/counters.js';
import { errors } from './errors.js';

export interface RateLimit {
  limit: number;
  windowMs: number;
}

const retryAfterSeconds = (resetAt: number, now: number) => Math.max(1, Math.ceil((resetAt - now) / 1000));

export function createRateLimiter(store: CounterStore, clock: Clock) {
  return {
    /** Counts one hit on the key; throws a 429 (with Retry-After) past the limit. */
    async consume(key: string, { limit, windowMs }: RateLimit): Promise<void> {
      const now = clock.now();
      const window = await store.hit(key, windowMs, now);
      if (window.count > limit) throw errors.rateLimited(retryAfterSeconds(window.resetAt, now));
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Failures are counted in windows of this length. */
const FAILURE_MEMORY_MS = 15 * 60 * 1000;
const FREE_FAILURES = 5;
const MAX_DELAY_MS = 15 * 60 * 1000;

/**
 * Sign-in throttle per account: after a few failures, each further attempt must wait
 * twice as long as the last (1 s, 2 s, 4 s … up to 15 minutes). A success clears it.
 */
export function createLoginThrottle(store: CounterStore, clock: Clock) {
  const failures = (account: string) => `login-failures:${account}`;
  const lock = (account: string) => `login-lock:${account}`;

  return {
    /** Throws a 429 while the account is cooling down. */
    async check(account: string): Promise<void> {
      const now = clock.now();
      const locked = await store.peek(lock(account), now);
      if (locked) throw errors.rateLimited(retryAfterSeconds(locked.resetAt, now));
    },
    async failed(account: string): Promise<void> {
      const now = clock.now();
      const { count } = await store.hit(failures(account), FAILURE_MEMORY_MS, now);
      if (count < FREE_FAILURES) return;
      await store.reset(lock(account));
      await store.hit(lock(account), Math.min(MAX_DELAY_MS, 1000 * 2 ** (count - FREE_FAILURES)), now);
    },
    async succeeded(account: string): Promise<void> {
      await Promise.all([store.reset(failures(account)), store.reset(lock(account))]);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
