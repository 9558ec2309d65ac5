/**
 * Fixed-window counters behind the rate limits. In memory for one instance; in Redis or
 * the database when several instances must share a budget (sign-in, registration).
 */
import { sql, type Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/schema.js';

export interface CounterWindow {
  count: number;
  /** Epoch ms when the window ends and the count starts again from zero. */
  resetAt: number;
}

export interface CounterStore {
  /** Counts one hit on the key in its current window (a new window starts when the last has ended). */
  hit(key: string, windowMs: number, now: number): Promise<CounterWindow>;
  /** The key's current window, without counting; undefined when none is running. */
  peek(key: string, now: number): Promise<CounterWindow | undefined>;
  reset(key: string): Promise<void>;
}

// Ended windows (an IP seen once) are first pruned when the map is this large; after that,
// when it has doubled since the last prune (so it holds at most about twice the windows
// running at that prune, ended ones included).
const PRUNE_AT = 10_000;

/** In memory; `size()` tells how many windows it holds (ended ones included until pruned). */
export function createMemoryCounterStore(): CounterStore & { size(): number } {
  const windows = new Map<string, CounterWindow>();
  // After a prune the next one waits until the map has doubled: with 10,000 windows still
  // running (a frame budget per busy socket) a scan on every new window would make each
  // one cost the whole map.
  let pruneAt = PRUNE_AT;
  return {
    size: () => windows.size,
    async hit(key, windowMs, now) {
      let window = windows.get(key);
      if (!window || window.resetAt <= now) {
        if (windows.size >= pruneAt) {
          for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
          pruneAt = Math.max(PRUNE_AT, 2 * windows.size);
        }
        window = { count: 0, resetAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { ...window };
    },
    async peek(key, now) {
      const window = windows.get(key);
      return window && window.resetAt > now ? { ...window } : undefined;
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

/** Counters in the `rate_limit_counters` table: one atomic upsert per hit, on SQLite and PostgreSQL. */
export function createSqlCounterStore(db: Kysely<Database>): CounterStore {
  return {
    async hit(key, windowMs, now) {
      const row = await db
        .insertInto('rate_limit_counters')
        .values({ key, count: 1, reset_at: now + windowMs })
        .onConflict((conflict) =>
          conflict.column('key').doUpdateSet({
            count: sql<number>`case when rate_limit_counters.reset_at <= ${now} then 1 else rate_limit_counters.count + 1 end`,
            reset_at: sql<number>`case when rate_limit_counters.reset_at <= ${now} then ${now + windowMs} else rate_limit_counters.reset_at end`,
          }),
        )
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), resetAt: Number(row.reset_at) };
    },
    async peek(key, now) {
      const row = await db.selectFrom('rate_limit_counters').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst();
      return row && Number(row.reset_at) > now ? { count: Number(row.count), resetAt: Number(row.reset_at) } : undefined;
    },
    async reset(key) {
      await db.deleteFrom('rate_limit_counters').where('key', '=', key).execute();
    },
  };
}

// INCR and the expiry in one step, so a crash between them cannot leave a counter that never expires.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/** Counters as Redis keys that expire with their window. Redis' clock decides the windows. */
export function createRedisCounterStore(redis: Redis, prefix: string): CounterStore {
  const name = (key: string) => `${prefix}:rate:${key}`;
  return {
    async hit(key, windowMs, now) {
      const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, name(key), String(windowMs))) as [number, number];
      return { count, resetAt: now + Math.max(ttl, 0) };
    },
    async peek(key, now) {
      const [count, ttl] = await Promise.all([redis.get(name(key)), redis.pttl(name(key))]);
      return count !== null && ttl > 0 ? { count: Number(count), resetAt: now + ttl } : undefined;
    },
    async reset(key) {
      await redis.del(name(key));
    },
  };
}
