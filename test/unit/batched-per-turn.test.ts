// How reads are coalesced into queries (db/batched-per-turn.ts), against a loader whose
// queries settle when the test says so.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { batchedPerTurn } from '../../src/server/db/batched-per-turn.js';

/** A loader that records each query's keys and answers `key * 10` when released. */
function controlledLoader() {
  const queries: number[][] = [];
  const pending: Array<{ keys: number[]; settle(error?: Error): void }> = [];
  const loadMany = (keys: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      queries.push([...keys]);
      pending.push({ keys, settle: (error) => (error ? reject(error) : resolve(keys.map((key) => key * 10))) });
    });
  const release = (error?: Error) => pending.shift()!.settle(error);
  return { queries, pending, loadMany, release };
}

/** Lets `n` turns of the event loop pass (a settled query schedules the next one a turn later). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

describe('batchedPerTurn', () => {
  it('asks once for the reads of one turn, each caller getting its own answer', async () => {
    const loader = controlledLoader();
    const read = batchedPerTurn(loader.loadMany);
    const answers = Promise.all([read(1), read(2), read(3)]);
    await nextTurn();
    expect(loader.queries).toEqual([[1, 2, 3]]);
    loader.release();
    expect(await answers).toEqual([10, 20, 30]);
  });

  it('reads asked in a later turn go in a query of their own, without waiting for the first', async () => {
    const loader = controlledLoader();
    const read = batchedPerTurn(loader.loadMany);
    const first = read(1);
    await nextTurn();
    const later = [read(2), read(3)];
    await nextTurn();
    // A query that does not answer (a frozen database) must not hold the next ones back.
    expect(loader.queries).toEqual([[1], [2, 3]]);
    loader.release();
    loader.release();
    expect(await first).toBe(10);
    expect(await Promise.all(later)).toEqual([20, 30]);
  });

  it('a failed query fails its own callers only; the next batch still goes', async () => {
    const loader = controlledLoader();
    const read = batchedPerTurn(loader.loadMany);
    const failing = read(1);
    await nextTurn();
    const next = read(2);
    loader.release(new Error('database gone'));
    await expect(failing).rejects.toThrow('database gone');
    await nextTurn();
    expect(loader.queries).toEqual([[1], [2]]);
    loader.release();
    expect(await next).toBe(20);
  });

  it('splits more than maxBatch reads into one query per turn', async () => {
    const loader = controlledLoader();
    const read = batchedPerTurn(loader.loadMany, 2);
    const answers = Promise.all([1, 2, 3, 4, 5].map(read));
    await nextTurn();
    expect(loader.queries).toEqual([[1, 2]]);
    await turns(2);
    expect(loader.queries).toEqual([[1, 2], [3, 4], [5]]);
    loader.release();
    loader.release();
    loader.release();
    expect(await answers).toEqual([10, 20, 30, 40, 50]);
  });
});
