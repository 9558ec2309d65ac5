import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore, type CounterStore } from '../../src/server/platform/cluster/counters.js';

describe('memory counters: pruning ended windows', () => {
  const hitAll = async (store: CounterStore, keys: string[], windowMs: number, now: number) => {
    for (const key of keys) await store.hit(key, windowMs, now);
  };
  const keys = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}:${i}`);

  it('drops ended windows once it holds 10,000, and never a running one', async () => {
    const store = createMemoryCounterStore();
    await hitAll(store, keys('once', 9_900), 1_000, 0);
    await hitAll(store, keys('busy', 100), 60_000, 0);
    expect(store.size()).toBe(10_000);

    await store.hit('newcomer', 60_000, 2_000);
    expect(store.size()).toBe(101);
    expect(await store.hit('busy:0', 60_000, 2_000)).toEqual({ count: 2, resetAt: 60_000 });
  });

  it('with 10,000 windows still running, waits until it has doubled before scanning again', async () => {
    const store = createMemoryCounterStore();
    await hitAll(store, keys('busy', 10_000), 60_000, 0);
    await store.hit('first-newcomer', 60_000, 1); // scans, finds nothing ended
    await hitAll(store, keys('short', 100), 1, 1);
    await hitAll(store, keys('later', 100), 60_000, 10);
    // The short windows have ended but stay until the map reaches twice its last size.
    expect(store.size()).toBe(10_201);
    await hitAll(store, keys('more', 9_799), 60_000, 10);
    expect(store.size()).toBe(20_000);
    await store.hit('last', 60_000, 10);
    expect(store.size()).toBe(19_901);
  });
});
