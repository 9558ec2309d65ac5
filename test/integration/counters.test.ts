/**
 * Rate-limit counters: each store counts hits per window, starts a new window when the
 * last has ended, and — for the shared stores — two instances see one budget.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import {
  createMemoryCounterStore,
  createRedisCounterStore,
  createSqlCounterStore,
  type CounterStore,
} from '../../src/server/platform/cluster/counters.js';
import { createLoginThrottle } from '../../src/server/http/rate-limit.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';

const redis = await redisForTests();

interface StoreKind {
  name: string;
  /** Two stores as two instances would have them (the same backing state, where shared). */
  open(): Promise<{ first: CounterStore; second: CounterStore; shared: boolean; close(): Promise<void> }>;
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
    expect(await stores.first.peek('a', now + 2)).toMatchObject({ count: 2 });
    expect(await stores.first.peek('never-hit', now)).toBeUndefined();
    if (kind.followsOurClock) {
      expect(await stores.first.hit('a', windowMs, now + windowMs + 1)).toMatchObject({ count: 1 });
    } else {
      await new Promise((resolve) => setTimeout(resolve, windowMs + 100));
      expect(await stores.first.hit('a', windowMs, Date.now())).toMatchObject({ count: 1 });
    }
    await stores.first.reset('a');
    expect(await stores.first.peek('a', Date.now())).toBeUndefined();
  });

  it('gives two instances one budget when shared', async () => {
    const now = Date.now();
    await stores.first.hit('b', 60_000, now);
    await stores.second.hit('b', 60_000, now);
    const third = await stores.first.hit('b', 60_000, now);
    expect(third.count).toBe(stores.shared ? 3 : 2);
  });

  it('keeps an account throttled on every instance once it failed too often', async () => {
    const clock = { now: () => Date.now() };
    const onFirst = createLoginThrottle(stores.first, clock);
    const onSecond = createLoginThrottle(stores.second, clock);
    // Shared: failures on either instance add up. Local: each instance keeps its own count.
    for (let i = 0; i < 5; i += 1) await (stores.shared && i % 2 ? onSecond : onFirst).failed('carol');
    await expect(onFirst.check('carol')).rejects.toMatchObject({ status: 429 });
    if (stores.shared) await expect(onSecond.check('carol')).rejects.toMatchObject({ status: 429 });
    await onFirst.succeeded('carol');
    await expect(onFirst.check('carol')).resolves.toBeUndefined();
  });
});
