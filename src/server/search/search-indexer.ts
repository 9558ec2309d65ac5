/**
 * Keeps this instance's search index: built from the database at start (bodies decrypted
 * here, never written), kept current from the bus (the gateway hands it each event, after
 * the sockets, pointers read back), and built again — while the old one
 * goes on answering — after a bus outage (`resync`: events may have been lost) or when
 * `securechat search reindex` bumps the generation. Nothing survives the process, so a
 * kill -9 leaves nothing wrong behind: the next start builds it again.
 */
import type { Message } from '../../shared/protocol.js';
import { searchWords } from '../../shared/search-words.js';
import type { Db } from '../db/schema.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Metrics } from '../http/metrics.js';
import type { BusLog } from '../platform/cluster/bus.js';
import type { ResolvedEvent } from '../realtime/pointers.js';
import { createSearchIndex, type IndexedMessage, type SearchIndex } from './search-index.js';
import type { IndexSourceRow, SearchRepository } from './search.repository.js';

const PAGE = 2000;
const RETRY_MS = 10_000;
/** The longest a build holds the event loop at a time. */
const TURN_MS = 10;

export interface BuildProgress {
  done: number;
  total: number;
}

function indexedMessage(message: Message): IndexedMessage {
  return {
    roomId: message.roomId,
    seq: message.seq,
    senderId: message.sender.id,
    createdAt: Date.parse(message.createdAt),
    changeSeq: message.changeSeq ?? 0,
    hasFile: message.attachments.length > 0,
    deleted: message.deletedAt !== undefined,
    words: searchWords(message.body),
  };
}

/** Builds a whole index from the database; `onProgress` after every page. Undecryptable bodies are counted, not indexed. */
export async function buildSearchIndex(
  deps: { db: Db; repository: SearchRepository; keyring: Pick<Keyring, 'decrypt'> },
  onProgress: (progress: BuildProgress) => void = () => undefined,
  cancelled: () => boolean = () => false,
): Promise<{ index: SearchIndex; undecryptable: number }> {
  const { db, repository, keyring } = deps;
  const index = createSearchIndex();
  index.startLoading();
  const progress = { done: 0, total: await repository.countMessages(db) };
  let undecryptable = 0;
  const add = (row: IndexSourceRow) => {
    let body: string;
    try {
      body = keyring.decrypt(row.body_ciphertext, row.body_key_id ?? undefined);
    } catch {
      undecryptable += 1;
      return;
    }
    index.upsert({
      roomId: row.room_id,
      seq: Number(row.seq),
      senderId: row.sender_id,
      createdAt: Number(row.created_at),
      changeSeq: Number(row.change_seq ?? 0),
      hasFile: Boolean(row.has_files),
      deleted: false,
      words: searchWords(body),
    });
  };
  let turnStarted = performance.now();
  for (const roomId of await repository.roomIds(db)) {
    for (let after = 0; ; ) {
      if (cancelled()) return { index, undecryptable };
      const rows = await repository.roomPage(db, roomId, after, PAGE);
      rows.forEach(add);
      progress.done += rows.length;
      onProgress({ ...progress, total: Math.max(progress.total, progress.done) });
      // SQLite answers without a macrotask: requests and bus events get a turn every few
      // milliseconds, however small the rooms (many DMs are a page each).
      if (performance.now() - turnStarted > TURN_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turnStarted = performance.now();
      }
      if (rows.length < PAGE) break;
      after = Number(rows.at(-1)!.seq);
    }
  }
  index.finishLoading();
  return { index, undecryptable };
}

export function createSearchIndexer(deps: {
  db: Db;
  repository: SearchRepository;
  keyring: Pick<Keyring, 'decrypt'>;
  log: BusLog;
  metrics: Pick<Metrics, 'searchIndexBuilt'>;
  /** How often the reindex generation is read. */
  generationPollMs?: number;
  /** How long after a failed build the next is tried. */
  retryMs?: number;
}) {
  const { db, repository, log } = deps;
  let current: SearchIndex | undefined;
  let progress: BuildProgress | undefined;
  /** Changes heard while a build runs: applied to the new index once it is built. */
  let heard: Array<(index: SearchIndex) => void> | undefined;
  let buildAgain = false;
  let closed = false;
  let generation: number | undefined;
  /** The build running, awaited by close() so none reads a closed database. */
  let building: Promise<void> = Promise.resolve();

  const apply = (change: (index: SearchIndex) => void) => {
    if (current) change(current);
    heard?.push(change);
  };
  const onEvent = (event: ResolvedEvent) => {
    if (event.kind === 'message' || event.kind === 'message-updated') {
      const message = indexedMessage(event.message);
      apply((index) => index.upsert(message));
    } else if (event.kind === 'room-deleted') {
      apply((index) => index.removeRoom(event.roomId));
    } else if (event.kind === 'resync') {
      void rebuild();
    }
  };

  async function rebuild(): Promise<void> {
    if (closed) return;
    if (heard) {
      buildAgain = true;
      return building;
    }
    building = buildOnce();
    return building;
  }

  async function buildOnce(): Promise<void> {
    heard = [];
    const started = Date.now();
    try {
      progress = { done: 0, total: 0 };
      const built = await buildSearchIndex(deps, (now) => (progress = now), () => closed);
      if (closed) return;
      for (const change of heard) change(built.index);
      current = built.index;
      const stats = built.index.stats();
      // The stats are read when scraped: the index grows after its build.
      deps.metrics.searchIndexBuilt((Date.now() - started) / 1000, () => current?.stats());
      log.info({ messages: stats.messages, words: stats.words, megabytes: Math.round(stats.bytes / 2 ** 20), ms: Date.now() - started, undecryptable: built.undecryptable }, 'search index built');
    } catch (error) {
      if (closed) return;
      log.error({ err: error }, 'building the search index failed; the previous one (if any) goes on answering, and it is tried again');
      // Without it, search would answer 503 for ever (no index yet), or from an index that missed events.
      setTimeout(() => void rebuild(), deps.retryMs ?? RETRY_MS).unref();
    } finally {
      heard = undefined;
      progress = undefined;
    }
    if (buildAgain && !closed) {
      buildAgain = false;
      await buildOnce();
    }
  }

  const poll = setInterval(() => {
    repository.generation(db).then(
      (now) => {
        if (generation !== undefined && now !== generation) void rebuild();
        generation = now;
      },
      (error: unknown) => log.warn({ err: error }, 'reading the search generation failed'),
    );
  }, deps.generationPollMs ?? 5_000);
  poll.unref();

  return {
    /** A bus event, pointers read back (the gateway hands each one on: `alsoHear`). */
    hear: onEvent,
    /** Builds the first index; resolves once that build has ended (answering, or failed and to be tried again). */
    async start(): Promise<void> {
      generation = await repository.generation(db).catch((error: unknown) => {
        log.warn({ err: error }, 'reading the search generation failed');
        return undefined;
      });
      await rebuild();
    },
    /** The index, or undefined while the first one is built (with how far it got). */
    ready(): { index: SearchIndex } | { progress: BuildProgress } {
      return current ? { index: current } : { progress: progress ?? { done: 0, total: 0 } };
    },
    async close(): Promise<void> {
      closed = true;
      clearInterval(poll);
      await building;
    },
  };
}

export type SearchIndexer = ReturnType<typeof createSearchIndexer>;
