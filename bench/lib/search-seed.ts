/**
 * The message search bench's data: messages written through the server's own group commit
 * (message-writer.ts over the dialect's store, as a send writes them: seqs assigned in the
 * committing transaction, every index of the table kept), not by a bulk insert; and the
 * index built from them in this process by `buildSearchIndex`, as a server does at start,
 * measured for time and memory.
 */
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createMessageStore } from '../../src/server/messages/message-store.js';
import { createMessageWriter, type WriteResult } from '../../src/server/messages/message-writer.js';
import { buildSearchIndex } from '../../src/server/search/search-indexer.js';
import type { SearchIndex } from '../../src/server/search/search-index.js';
import { createSearchRepository } from '../../src/server/search/search.repository.js';
import { createCorpus, seededRandom, type SampledMessage } from './search-corpus.js';
import type { SeedContext } from './seed.js';

/** Messages encrypted per turn of the event loop: one writer batch (MAX_BATCH in message-writer.ts). */
const CHUNK = 256;
/** Chunks queued at most: enough that the writer always has a full batch waiting. */
const AHEAD = 8;
/** Seeded messages are 30 s apart, ending now: a million span about a year. */
const SPACING_MS = 30_000;

export interface SeedPlan {
  roomIds: readonly string[];
  senderIds: readonly string[];
  total: number;
  /** Messages kept to take queries from. */
  samples: number;
  onProgress?: (done: number) => void;
}

/** Writes `total` corpus messages, each to a room drawn uniformly, senders taking turns; returns the sample kept. */
export async function seedThroughWriter(ctx: SeedContext, plan: SeedPlan): Promise<SampledMessage[]> {
  const store = createMessageStore(ctx.database);
  const writer = createMessageWriter(store);
  const corpus = createCorpus();
  const roomOf = seededRandom(29);
  const sampleEvery = Math.max(1, Math.floor(plan.total / plan.samples));
  const samples: SampledMessage[] = [];
  const firstAt = Date.now() - plan.total * SPACING_MS;
  const pending: Promise<void>[] = [];
  try {
    for (let offset = 0; offset < plan.total; offset += CHUNK) {
      const writes: Promise<WriteResult>[] = [];
      for (let i = offset; i < Math.min(plan.total, offset + CHUNK); i += 1) {
        const roomId = plan.roomIds[Math.floor(roomOf() * plan.roomIds.length)]!;
        const body = corpus.body();
        if (i % sampleEvery === 0) samples.push({ roomId, body });
        const { ciphertext, keyId } = ctx.keyring.encrypt(body);
        writes.push(
          writer.write({
            id: randomUUID(),
            room_id: roomId,
            sender_id: plan.senderIds[i % plan.senderIds.length]!,
            client_id: `seed-${i}`,
            body_format: 'fernet',
            body_ciphertext: ciphertext,
            body_key_id: keyId,
            created_at: firstAt + i * SPACING_MS,
            edited_at: null,
            reply_to_seq: null,
            mention_ids: null,
          }),
        );
      }
      const chunk = Promise.all(writes).then((results) => {
        if (results.some((result) => !result.stored)) throw new Error('a seeded message was reported as a duplicate');
      });
      chunk.catch(() => undefined); // awaited below; a failure before that must not count as unhandled
      pending.push(chunk);
      // The writer commits while the next chunks are encrypted; each chunk yields so its replies and next batch get their turn.
      if (pending.length >= AHEAD) await pending.shift();
      else await new Promise((resolve) => setImmediate(resolve));
      plan.onProgress?.(offset + writes.length);
    }
    await Promise.all(pending);
  } finally {
    await store.close();
  }
  return samples;
}

let collect: (() => void) | undefined;
/** A full garbage collection (the runner is not started with --expose-gc: the flag is set now). */
export function collectGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

export interface BuildMeasure {
  index: SearchIndex;
  seconds: number;
  undecryptable: number;
  /** After a full GC, compared with before the build: the JS heap, and the memory outside it (typed arrays; `external` includes them). */
  heapBytes: number;
  externalBytes: number;
  rssBytes: number;
  /** The largest RSS above the start seen between pages of the build. */
  peakRssBytes: number;
  stats: ReturnType<SearchIndex['stats']>;
}

/** Builds the index from the database as a server does at start, and measures what it took. */
export async function measureIndexBuild(ctx: SeedContext): Promise<BuildMeasure> {
  collectGarbage();
  const before = process.memoryUsage();
  let peak = before.rss;
  const started = performance.now();
  const built = await buildSearchIndex({ db: ctx.db, repository: createSearchRepository(), keyring: ctx.keyring }, () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  });
  const seconds = (performance.now() - started) / 1000;
  collectGarbage();
  const after = process.memoryUsage();
  return {
    index: built.index,
    seconds,
    undecryptable: built.undecryptable,
    heapBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    rssBytes: after.rss - before.rss,
    peakRssBytes: Math.max(peak, after.rss) - before.rss,
    stats: built.index.stats(),
  };
}
