/**
 * The password hashing queue: a bounded number at once, a bound per account and in all,
 * and the next job from the account served least — one account's burst cannot push
 * another account's check behind all of its own.
 */
import { describe, expect, it } from 'vitest';
import { createHashingQueue, HashingRefusedError } from '../../src/server/crypto/hashing-queue.js';

function held() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('hashing queue', () => {
  it('runs at most `slots` jobs at once and hands each freed slot on', async () => {
    const queue = createHashingQueue({ slots: 2, perOwner: 10, maxWaiting: 10 });
    const gates = [held(), held(), held()];
    const done = gates.map((gate, i) => queue.run(`u${i}`, () => gate.promise));
    expect(queue.stats()).toEqual({ running: 2, waiting: 1 });
    gates[0]!.release();
    await done[0];
    expect(queue.stats()).toEqual({ running: 2, waiting: 0 });
    gates[1]!.release();
    gates[2]!.release();
    await Promise.all(done);
    expect(queue.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a job past the per-account bound and past the waiting bound, and runs the rest', async () => {
    const queue = createHashingQueue({ slots: 1, perOwner: 2, maxWaiting: 3 });
    const gate = held();
    const jobs = [queue.run('flood', () => gate.promise), queue.run('flood', () => gate.promise)];
    await expect(queue.run('flood', async () => undefined)).rejects.toMatchObject({ reason: 'owner_busy' });
    jobs.push(queue.run('b', () => gate.promise), queue.run(undefined, () => gate.promise));
    // One running, three waiting: the fourth waiting job is refused for everyone.
    await expect(queue.run('c', async () => undefined)).rejects.toBeInstanceOf(HashingRefusedError);
    await expect(queue.run('c', async () => undefined)).rejects.toMatchObject({ reason: 'queue_full' });
    gate.release();
    await Promise.all(jobs);
    // With nothing in flight the account may run again.
    await expect(queue.run('flood', async () => 'ran')).resolves.toBe('ran');
  });

  it('admits another account before the flooding account’s queued jobs', async () => {
    const order: string[] = [];
    const queue = createHashingQueue({ slots: 1, perOwner: 4, maxWaiting: 64, observe: (event, owner) => order.push(`${event} ${owner}`) });
    const blocker = held();
    const jobs = [queue.run('blocker', () => blocker.promise)];
    for (let i = 0; i < 4; i += 1) jobs.push(queue.run('flood', async () => undefined));
    jobs.push(queue.run('other', async () => undefined));
    blocker.release();
    await Promise.all(jobs);
    const admitted = order.filter((entry) => entry.startsWith('admitted')).map((entry) => entry.slice('admitted '.length));
    // The flood's first job goes (its lane is oldest), then the other account, then the rest of the flood.
    expect(admitted).toEqual(['blocker', 'flood', 'other', 'flood', 'flood', 'flood']);
  });
});
