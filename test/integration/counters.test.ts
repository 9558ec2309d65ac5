/**
 * Rate-limit counters: each store counts hits per window, starts a new window when the
 * last has ended, and — for the shared stores — two instances see one budget. Attempt
 * budgets are reserved atomically: of concurrent reservations from two instances only the
 * budget is granted; ended windows and budgets are swept.
 */
import { Redis } from 'ioredis';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import * as m001 from '../../src/server/db/migrations/001-initial.js';
import * as m002 from '../../src/server/db/migrations/002-presence.js';
import * as m003 from '../../src/server/db/migrations/003-room-bans.js';
import * as m004 from '../../src/server/db/migrations/004-rate-limit-counters.js';
import { createMemoryCounterStore, type AttemptBudget, type CounterStore } from '../../src/server/platform/cluster/counters.js';
import { createRedisCounterStore } from '../../src/server/platform/cluster/counters-redis.js';
import { createSqlCounterStore } from '../../src/server/platform/cluster/counters-sql.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';

const redis = await redisForTests();

interface StoreKind {
  name: string;
  /** Two stores as two instances would have them (the same backing state, where shared). */
  open(): Promise<{
    first: CounterStore;
    second: CounterStore;
    shared: boolean;
    /** How many windows and budgets are stored (undefined: the store expires its own). */
    stored?(): Promise<number>;
    /** Milliseconds until the backing store drops the budget's entry by itself (Redis). */
    expiresIn?(key: string): Promise<number>;
    close(): Promise<void>;
  }>;
  /** Whether windows follow the `now` we pass (Redis keeps its own clock). */
  followsOurClock: boolean;
}

const sqlStore = (dialect: 'sqlite' | 'postgres'): StoreKind => ({
  name: dialect,
  followsOurClock: true,
  async open() {
    const testDatabase: TestDatabase = await createTestDatabase(dialect);
    const handles: DatabaseHandle[] = [openDatabase(testDatabase.target), openDatabase(testDatabase.target)];
    await migrateToLatest(handles[0]!.db);
    return {
      first: createSqlCounterStore(handles[0]!.db),
      second: createSqlCounterStore(handles[1]!.db),
      shared: true,
      async stored() {
        const db = handles[0]!.db;
        const windows = await db.selectFrom('rate_limit_counters').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        const budgets = await db.selectFrom('attempt_budgets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        return Number(windows.n) + Number(budgets.n);
      },
      async close() {
        for (const handle of handles) await handle.close();
        await testDatabase.drop();
      },
    };
  },
});

const kinds: StoreKind[] = [
  {
    name: 'memory',
    followsOurClock: true,
    async open() {
      return { first: createMemoryCounterStore(), second: createMemoryCounterStore(), shared: false, async close() {} };
    },
  },
  sqlStore('sqlite'),
  sqlStore('postgres'),
  {
    name: `redis${redis.note}`,
    followsOurClock: false,
    async open() {
      redis.require();
      const prefix = uniqueRedisPrefix();
      const clients = [new Redis(redis.url), new Redis(redis.url)];
      return {
        first: createRedisCounterStore(clients[0]!, prefix),
        second: createRedisCounterStore(clients[1]!, prefix),
        shared: true,
        expiresIn: (key: string) => clients[0]!.pttl(`${prefix}:attempts:${key}`),
        async close() {
          for (const client of clients) client.disconnect();
          await dropRedisPrefix(redis.url, prefix);
        },
      };
    },
  },
];

describe.each(kinds)('counters in $name', (kind) => {
  let stores: Awaited<ReturnType<StoreKind['open']>>;
  beforeAll(async () => {
    stores = await kind.open();
  });
  afterAll(async () => {
    await stores?.close();
  });

  it('counts hits within a window and starts again after it', async () => {
    const now = Date.now();
    const windowMs = kind.followsOurClock ? 60_000 : 300;
    expect(await stores.first.hit('a', windowMs, now)).toMatchObject({ count: 1 });
    const second = await stores.first.hit('a', windowMs, now + 1);
    expect(second.count).toBe(2);
    expect(second.resetAt).toBeGreaterThan(now);
    expect(second.resetAt).toBeLessThanOrEqual(now + windowMs + 1);
    if (kind.followsOurClock) {
      expect(await stores.first.hit('a', windowMs, now + windowMs + 1)).toMatchObject({ count: 1 });
    } else {
      await new Promise((resolve) => setTimeout(resolve, windowMs + 100));
      expect(await stores.first.hit('a', windowMs, Date.now())).toMatchObject({ count: 1 });
    }
  });

  it('gives two instances one budget when shared', async () => {
    const now = Date.now();
    await stores.first.hit('b', 60_000, now);
    await stores.second.hit('b', 60_000, now);
    const third = await stores.first.hit('b', 60_000, now);
    expect(third.count).toBe(stores.shared ? 3 : 2);
  });

  const budget: AttemptBudget = { free: 5, memoryMs: 15 * 60_000, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000 };
  // Both instances' stores when shared; one store alone when each instance counts for itself.
  const storesOf = () => (stores.shared ? [stores.first, stores.second] : [stores.first]);
  const reserveAtOnce = (key: string, n: number, now: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => storesOf()[i % storesOf().length]!.reserveAttempt(key, budget, now)));
  const granted = (results: Array<{ granted: boolean }>) => results.filter((result) => result.granted).length;

  it('grants only the budget to concurrent reservations, on both instances, then one per delay', async () => {
    const now = Date.now();
    // 12 at once on a fresh key: the five free ones pass, whichever instance they reach.
    expect(granted(await reserveAtOnce('race', 12, now))).toBe(5);
    const refused = await stores.first.reserveAttempt('race', budget, now + 999);
    expect(refused).toEqual({ granted: false, retryAt: now + 1_000 });
    // Once the delay has passed, 40 at once: exactly one passes, and the next delay doubles.
    const afterDelay = await reserveAtOnce('race', 40, now + 1_000);
    expect(granted(afterDelay)).toBe(1);
    expect(afterDelay.find((result) => result.granted)).toEqual({ granted: true, count: 6 });
    expect(await stores.first.reserveAttempt('race', budget, now + 2_999)).toEqual({ granted: false, retryAt: now + 3_000 });
    expect(await stores.first.reserveAttempt('race', budget, now + 3_000)).toMatchObject({ granted: true, count: 7 });
  });

  it('gives a slot back on release, forgets on clear, and forgets on its own after the memory', async () => {
    const now = Date.now();
    for (let i = 0; i < 4; i += 1) await stores.first.reserveAttempt('slot', budget, now);
    await stores.first.releaseAttempt('slot');
    expect(await stores.first.reserveAttempt('slot', budget, now)).toMatchObject({ granted: true, count: 4 });
    expect(await stores.first.reserveAttempt('slot', budget, now)).toMatchObject({ granted: true, count: 5 });
    expect(await stores.first.reserveAttempt('slot', budget, now)).toMatchObject({ granted: false });
    await stores.first.clearAttempts('slot');
    expect(await stores.first.reserveAttempt('slot', budget, now)).toMatchObject({ granted: true, count: 1 });
    // The count is forgotten once the memory after the last granted attempt has passed.
    expect(await stores.first.reserveAttempt('slot', budget, now + budget.memoryMs + 1)).toMatchObject({ granted: true, count: 1 });
  });

  it('only counts, never refuses, for a budget without delays', async () => {
    const counting: AttemptBudget = { free: 2, memoryMs: 15 * 60_000, baseDelayMs: 0, maxDelayMs: 0 };
    const now = Date.now();
    const counts = [];
    for (let i = 0; i < 5; i += 1) counts.push(await storesOf()[i % storesOf().length]!.reserveAttempt('counting', counting, now));
    expect(counts).toEqual([1, 2, 3, 4, 5].map((count) => ({ granted: true, count })));
  });

  it('removes ended windows and budgets when swept', async () => {
    const now = Date.now();
    await stores.first.hit('sweep-window', 1_000, now);
    await stores.first.reserveAttempt('sweep-budget', budget, now);
    if (stores.expiresIn) {
      // Redis drops both by itself: a budget never outlives its memory.
      const ttl = await stores.expiresIn('sweep-budget');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(budget.memoryMs);
      return;
    }
    const before = await (stores.stored?.() ?? Promise.resolve((stores.first as ReturnType<typeof createMemoryCounterStore>).size()));
    // Nothing has ended yet: nothing goes.
    await stores.first.sweep(now);
    const after = await (stores.stored?.() ?? Promise.resolve((stores.first as ReturnType<typeof createMemoryCounterStore>).size()));
    expect(after).toBe(before);
    expect(await stores.first.sweep(now + budget.memoryMs + 60 * 60_000)).toBeGreaterThanOrEqual(2);
    if (stores.stored) expect(await stores.stored()).toBe(0);
    expect(await stores.first.reserveAttempt('sweep-budget', budget, now + budget.memoryMs + 60 * 60_000)).toMatchObject({ granted: true, count: 1 });
  });
});

describe.each(DIALECTS)('migration 005 on %s', (dialect) => {
  it('deletes the counters named in clear (usernames, IPs) that the hashed names replace', async () => {
    const testDatabase = await createTestDatabase(dialect);
    const handle = openDatabase(testDatabase.target);
    try {
      const upTo004 = new Migrator({ db: handle.db, provider: { getMigrations: async () => ({ '001-initial': m001, '002-presence': m002, '003-room-bans': m003, '004-rate-limit-counters': m004 }) } });
      expect((await upTo004.migrateToLatest()).error).toBeUndefined();
      await handle.db.insertInto('rate_limit_counters').values({ key: 'login-failures:alice', count: 3, reset_at: Date.now() + 60_000 }).execute();
      await migrateToLatest(handle.db);
      expect(await handle.db.selectFrom('rate_limit_counters').selectAll().execute()).toEqual([]);
    } finally {
      await handle.close();
      await testDatabase.drop();
    }
  });
});
