/**
 * Rate limits: fixed-window budgets per key ("login-ip:1.2.3.4", "send:<userId>"); the
 * per-account sign-in throttle is auth/sign-in-throttle.ts. The counters live in a
 * CounterStore: shared between instances for sign-in and registration, in memory for the
 * per-message budgets (a round trip per message would cost more than it guards).
 */
import type { Clock } from '../clock.js';
import type { CounterStore } from '../platform/cluster/counters.js';
import { errors } from './errors.js';

export interface RateLimit {
  limit: number;
  windowMs: number;
}

export function createRateLimiter(store: CounterStore, clock: Clock) {
  return {
    /** Counts one hit on the key; throws a 429 (with Retry-After) past the limit. */
    async consume(key: string, { limit, windowMs }: RateLimit): Promise<void> {
      const now = clock.now();
      const window = await store.hit(key, windowMs, now);
      if (window.count > limit) throw errors.rateLimitedUntil(window.resetAt, now);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
