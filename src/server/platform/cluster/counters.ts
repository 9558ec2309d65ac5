/**
 * Counters behind the rate limits. Two kinds, each behind one CounterStore:
 * - fixed windows (`hit`): "20 sign-ins per IP per minute";
 * - attempt budgets (`reserveAttempt`): a slot is taken atomically before the guarded work
 *   runs (a password check), so concurrent attempts cannot all pass one check; past the free
 *   attempts, one attempt per delay window, the delay doubling with each.
 * In memory for one instance; in Redis or the database (counters-sql.ts, counters-redis.ts)
 * when several instances must share a budget.
 */

export interface CounterWindow {
  count: number;
  /** Epoch ms when the window ends and the count starts again from zero. */
  resetAt: number;
}

/** How many attempts a budget allows and how it slows down past them. */
export interface AttemptBudget {
  /** Attempts granted before delays start. */
  free: number;
  /** The count is forgotten this long after the last granted attempt (after its delay, past the free ones). */
  memoryMs: number;
  /** Wait after the `free`-th attempt; doubles with each further one, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type AttemptReservation = { granted: true; count: number } | { granted: false; retryAt: number };

export interface CounterStore {
  /** Counts one hit on the key in its current window (a new window starts when the last has ended). */
  hit(key: string, windowMs: number, now: number): Promise<CounterWindow>;
  /**
   * Reserves one attempt in one atomic step: granted while fewer than `free` are counted;
   * from the `free`-th on, each grant starts a delay (base, doubling) before the next one.
   * A refused attempt is not counted; a granted one stays counted (a failure) until
   * released or cleared.
   */
  reserveAttempt(key: string, budget: AttemptBudget, now: number): Promise<AttemptReservation>;
  /** Gives back a granted attempt that did no work (count − 1; a delay already started stays). */
  releaseAttempt(key: string): Promise<void>;
  /** Forgets the key's attempts (after a success). */
  clearAttempts(key: string): Promise<void>;
  /** Deletes windows and budgets that have ended; returns how many (Redis expires its own: 0). */
  sweep(now: number): Promise<number>;
}

/** The `step`-th wait (1-based, the first after the `free`-th attempt): base · 2^(step−1), capped. */
export function attemptDelayMs(budget: AttemptBudget, step: number): number {
  let delay = budget.baseDelayMs;
  for (let i = 1; i < step && delay < budget.maxDelayMs; i += 1) delay *= 2;
  return Math.min(delay, budget.maxDelayMs);
}

/**
 * The stored names of a store's keys as a keyed hash: `kind:<hmac of the rest>`, so shared
 * counters never hold a username or an address in clear.
 */
export function withHashedKeys(store: CounterStore, hash: (value: string) => string): CounterStore {
  const name = (key: string) => {
    const colon = key.indexOf(':');
    return colon < 0 ? hash(key) : `${key.slice(0, colon)}:${hash(key.slice(colon + 1))}`;
  };
  return {
    hit: (key, windowMs, now) => store.hit(name(key), windowMs, now),
    reserveAttempt: (key, budget, now) => store.reserveAttempt(name(key), budget, now),
    releaseAttempt: (key) => store.releaseAttempt(name(key)),
    clearAttempts: (key) => store.clearAttempts(name(key)),
    sweep: (now) => store.sweep(now),
  };
}

// Ended windows (an IP seen once) are first pruned when the map is this large; after that,
// when it has doubled since the last prune (so it holds at most about twice the windows
// running at that prune, ended ones included).
const PRUNE_AT = 10_000;

interface BudgetEntry {
  count: number;
  nextAt: number;
  resetAt: number;
}

/** In memory; `size()` tells how many windows it holds (ended ones included until pruned). */
export function createMemoryCounterStore(): CounterStore & { size(): number } {
  const windows = new Map<string, CounterWindow>();
  const budgets = new Map<string, BudgetEntry>();
  // After a prune the next one waits until the map has doubled: with 10,000 windows still
  // running (a frame budget per busy socket) a scan on every new window would make each
  // one cost the whole map.
  let pruneAt = PRUNE_AT;
  let budgetPruneAt = PRUNE_AT;
  const prune = <T extends { resetAt: number }>(map: Map<string, T>, now: number) => {
    let removed = 0;
    for (const [k, w] of map) if (w.resetAt <= now && map.delete(k)) removed += 1;
    return removed;
  };
  return {
    size: () => windows.size,
    async hit(key, windowMs, now) {
      let window = windows.get(key);
      if (!window || window.resetAt <= now) {
        if (windows.size >= pruneAt) {
          prune(windows, now);
          pruneAt = Math.max(PRUNE_AT, 2 * windows.size);
        }
        window = { count: 0, resetAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { ...window };
    },
    // No await between reading and writing the entry: atomic on the event loop.
    async reserveAttempt(key, budget, now) {
      const running = budgets.get(key);
      const entry = running && running.resetAt > now ? running : { count: 0, nextAt: 0, resetAt: 0 };
      if (entry.count >= budget.free && entry.nextAt > now) return { granted: false, retryAt: entry.nextAt };
      if (!running && budgets.size >= budgetPruneAt) {
        prune(budgets, now);
        budgetPruneAt = Math.max(PRUNE_AT, 2 * budgets.size);
      }
      const count = entry.count + 1;
      const nextAt = count >= budget.free ? now + attemptDelayMs(budget, count - budget.free + 1) : 0;
      budgets.set(key, { count, nextAt, resetAt: (count >= budget.free ? nextAt : now) + budget.memoryMs });
      return { granted: true, count };
    },
    async releaseAttempt(key) {
      const entry = budgets.get(key);
      if (entry && entry.count > 0) entry.count -= 1;
    },
    async clearAttempts(key) {
      budgets.delete(key);
    },
    async sweep(now) {
      return prune(windows, now) + prune(budgets, now);
    },
  };
}
