/**
 * The message store on SQLite: a worker thread with its own connection writes each batch.
 * SQLite's drivers are synchronous, so on the main thread a batch's inserts and the fsync of
 * its COMMIT (synchronous=FULL) block the event loop — under load, a third of its time.
 * On its own thread the commit overlaps the event loop, which meanwhile reads, checks and
 * encrypts the next sends; they join the next batch. SQLite allows one writer at a time:
 * the main connection's transactions begin immediate and wait for the lock (db/database.ts).
 * The database file storage's chunk writes come through here too (`chunks`), so an upload
 * neither blocks the event loop on its fsyncs nor competes with the batches for the lock:
 * the thread serves both in the order they were posted, with at most one chunk request
 * ahead of a batch.
 */
import { extname } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { ChunkRequest, ChunkWriter } from '../files/chunk-writer.js';
import { ATTACHMENT_UNAVAILABLE, AttachmentUnavailableError, type MessageStore, type NewMessage } from './message-batch.js';
import type { WriterReply, WriterRequest } from './sqlite-message-store.worker.js';

// Built, the worker is a .js file beside this one. Run from the sources by tsx (dev,
// tests, bench) it is a .ts file, which a new thread can load only through tsx's API.
const SOURCE_EXTENSION = extname(new URL(import.meta.url).pathname);
const WORKER_URL = new URL(`./sqlite-message-store.worker${SOURCE_EXTENSION}`, import.meta.url);

function startWorker(options: WorkerOptions): Worker {
  if (SOURCE_EXTENSION !== '.ts') return new Worker(WORKER_URL, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const loader = `import { tsImport } from ${JSON.stringify(tsx)}; await tsImport(${JSON.stringify(WORKER_URL.href)}, ${JSON.stringify(import.meta.url)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(loader)}`), options);
}

interface InFlight {
  /** The thread it was posted to: if that one dies, this request dies with it. */
  thread: Worker;
  /** Seqs for a message batch; nothing for a chunk request. */
  resolve(seqs: number[] | undefined): void;
  reject(error: unknown): void;
}

/** An error from the writer thread, with SQLite's code kept (isUniqueViolation reads it). */
class WriterError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export function createSqliteMessageStore(file: string, options: { onQuery?: (sql: string) => void } = {}): MessageStore & { chunks: ChunkWriter } {
  const inFlight = new Map<number, InFlight>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closed = false;

  /** A thread died: its requests fail (their transactions rolled back), and the next write starts a new one. */
  function lost(thread: Worker, error: Error): void {
    if (worker === thread) worker = undefined;
    for (const [id, request] of inFlight) {
      if (request.thread !== thread) continue;
      inFlight.delete(id);
      request.reject(error);
    }
  }

  /** The writer thread, started at the first write (a server that never sends starts none). */
  function writer(): Worker {
    if (worker) return worker;
    const started = startWorker({ workerData: { file } });
    started.unref();
    started.on('message', (reply: WriterReply) => {
      const request = inFlight.get(reply.id);
      inFlight.delete(reply.id);
      for (const statement of reply.statements ?? []) options.onQuery?.(statement);
      if ('seqs' in reply) request?.resolve(reply.seqs);
      else if ('done' in reply) request?.resolve(undefined);
      else if (reply.error.code === ATTACHMENT_UNAVAILABLE && reply.error.fileId !== undefined) request?.reject(new AttachmentUnavailableError(reply.error.fileId));
      else request?.reject(new WriterError(reply.error.message, reply.error.code));
    });
    started.on('error', (error) => lost(started, new WriterError(`message writer failed: ${error.message}`)));
    started.on('exit', () => lost(started, new WriterError('message writer stopped')));
    worker = started;
    return started;
  }

  function post(request: { kind: 'messages'; messages: readonly NewMessage[]; trace: boolean } | ChunkRequest): Promise<number[] | undefined> {
    if (closed) return Promise.reject(new WriterError('message writer closed'));
    return new Promise<number[] | undefined>((resolve, reject) => {
      const id = nextId++;
      const thread = writer();
      thread.postMessage({ id, ...request } satisfies WriterRequest); // throws before anything is in flight
      inFlight.set(id, { thread, resolve, reject });
    });
  }
  // One chunk request on the thread at a time, the others wait here: a message batch posted
  // meanwhile then waits for that one transaction, not for one of every upload in progress.
  const chunkQueue: Array<() => void> = [];
  let chunkBusy = false;
  const nextChunk = () => {
    const start = chunkQueue.shift();
    if (start) start();
    else chunkBusy = false;
  };
  const done = (request: ChunkRequest): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const start = () => void post(request).then(() => resolve(), reject).finally(nextChunk);
      if (chunkBusy) return void chunkQueue.push(start);
      chunkBusy = true;
      start();
    });

  return {
    async insertBatch(messages: readonly NewMessage[]): Promise<number[]> {
      return (await post({ kind: 'messages', messages, trace: options.onQuery !== undefined }))!;
    },

    chunks: {
      insert: (blobId, firstIdx, tokens) => done({ kind: 'insertChunks', blobId, firstIdx, tokens }),
      rename: (from, to) => done({ kind: 'renameBlob', from, to }),
      delete: (blobIds) => done({ kind: 'deleteBlobs', blobIds }),
    },

    /** Waits for the batches in flight, then stops the thread (its connection closes with it). */
    async close(): Promise<void> {
      closed = true;
      const running = worker;
      if (!running) return;
      await Promise.allSettled(
        [...inFlight.values()].map((request) => new Promise<void>((settle) => {
          const { resolve, reject } = request;
          request.resolve = (seqs) => (resolve(seqs), settle());
          request.reject = (error) => (reject(error), settle());
        })),
      );
      await running.terminate();
    },
  };
}
