/**
 * The queue password hashes run through: at most `slots` at once (a core stays free for the
 * event loop, decision 017), at most `perOwner` in flight for one account, at most
 * `maxWaiting` waiting in all. The next job is taken from the account served least since it
 * last had none in flight, so one account's burst waits behind others' checks, not in front.
 */
import { availableParallelism } from 'node:os';

/** Why a hash was refused without running: the account has enough in flight, or the queue is full. */
export class HashingRefusedError extends Error {
  override readonly name = 'HashingRefusedError';
  constructor(readonly reason: 'owner_busy' | 'queue_full') {
    super(reason === 'owner_busy' ? 'too many password checks in flight for this account' : 'too many password checks waiting');
  }
}

export interface HashingQueueOptions {
  slots: number;
  perOwner: number;
  maxWaiting: number;
  /** Told when a job starts and when it ends (tests read admission order from it). */
  observe?: (event: 'admitted' | 'finished', owner: string | undefined) => void;
}

export interface HashingQueue {
  /** Runs the work in its turn; `owner` is the account (undefined: not counted per account). */
  run<T>(owner: string | undefined, work: () => Promise<T>): Promise<T>;
  stats(): { running: number; waiting: number };
}

// The lane of jobs without an owner (registration, the decoy hash).
const NO_OWNER = Symbol('no owner');

export function createHashingQueue(options: HashingQueueOptions): HashingQueue {
  const { slots, perOwner, maxWaiting, observe } = options;
  let running = 0;
  let waiting = 0;
  // Per owner with anything in flight: jobs in flight, and jobs admitted since it had none.
  const inFlight = new Map<string | symbol, number>();
  const served = new Map<string | symbol, number>();
  const lanes = new Map<string | symbol, Array<() => void>>();

  // The next job comes from the lane whose owner was served least (the oldest lane on a tie):
  // a flooding account's queued checks wait behind everyone else's first one.
  const admitNext = () => {
    let chosen: string | symbol | undefined;
    for (const laneKey of lanes.keys()) if (chosen === undefined || (served.get(laneKey) ?? 0) < (served.get(chosen) ?? 0)) chosen = laneKey;
    if (chosen === undefined) return false;
    const starts = lanes.get(chosen) as Array<() => void>;
    const start = starts.shift() as () => void;
    if (!starts.length) lanes.delete(chosen);
    waiting -= 1;
    start();
    return true;
  };

  return {
    async run(owner, work) {
      const laneKey = owner ?? NO_OWNER;
      const held = inFlight.get(laneKey) ?? 0;
      if (owner !== undefined && held >= perOwner) throw new HashingRefusedError('owner_busy');
      if (running >= slots && waiting >= maxWaiting) throw new HashingRefusedError('queue_full');
      inFlight.set(laneKey, held + 1);
      if (running < slots) running += 1;
      else {
        waiting += 1;
        await new Promise<void>((start) => {
          const lane = lanes.get(laneKey);
          if (lane) lane.push(start);
          else lanes.set(laneKey, [start]);
        });
      }
      served.set(laneKey, (served.get(laneKey) ?? 0) + 1);
      observe?.('admitted', owner);
      try {
        return await work();
      } finally {
        observe?.('finished', owner);
        const left = (inFlight.get(laneKey) ?? 1) - 1;
        if (left > 0) inFlight.set(laneKey, left);
        else {
          inFlight.delete(laneKey);
          served.delete(laneKey);
        }
        // Hand the slot straight to the next in turn, or give it back.
        if (!admitNext()) running -= 1;
      }
    },
    stats: () => ({ running, waiting }),
  };
}

/** Hashes at once: cores − 1 (at least one). */
export const HASHING_SLOTS = Math.max(1, availableParallelism() - 1);
/** Password checks in flight for one account: one running, one waiting. */
export const HASHES_PER_ACCOUNT = 2;
/** Hashes waiting in all before new ones are refused (a few seconds of work at ~100 ms each). */
export const HASHES_WAITING_MAX = 64;

/** The process's queue: one for every hasher, as the thread pool and the cores are one. */
export const processHashingQueue: HashingQueue = createHashingQueue({ slots: HASHING_SLOTS, perOwner: HASHES_PER_ACCOUNT, maxWaiting: HASHES_WAITING_MAX });
