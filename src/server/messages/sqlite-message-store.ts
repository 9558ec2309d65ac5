/**
 * The message store on SQLite: a worker thread with its own connection writes each batch.
 * better-sqlite3 is synchronous, so on the main thread a batch's inserts and the fsync of
 * its COMMIT (synchronous=FULL) block the event loop — under load, a third of its time.
 * On its own thread the commit overlaps the event loop, which meanwhile reads, checks and
 * encrypts the next sends; they join the next batch. SQLite allows one writer at a time:
 * the main connection's transactions begin immediate and wait for the lock (db/database.ts).
 */
import { extname } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { MessageStore, NewMessage } from './message-store.js';
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
  resolve(seqs: number[]): void;
  reject(error: unknown): void;
}

/** An error from the writer thread, with SQLite's code kept (isUniqueViolation reads it). */
class WriterError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export function createSqliteMessageStore(file: string, options: { onQuery?: (sql: string) => void } = {}): MessageStore {
  const inFlight = new Map<number, InFlight>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closed = false;

  function failAll(error: Error): void {
    for (const request of inFlight.values()) request.reject(error);
    inFlight.clear();
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
      else request?.reject(new WriterError(reply.error.message, reply.error.code));
    });
    // A thread that died takes its requests with it (their transactions rolled back);
    // the next write starts a new one.
    started.on('error', (error) => failAll(new WriterError(`message writer failed: ${error.message}`)));
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll(new WriterError('message writer stopped'));
    });
    worker = started;
    return started;
  }

  return {
    insertBatch(messages: readonly NewMessage[]): Promise<number[]> {
      if (closed) return Promise.reject(new WriterError('message writer closed'));
      return new Promise<number[]>((resolve, reject) => {
        const id = nextId++;
        const request: WriterRequest = { id, messages, trace: options.onQuery !== undefined };
        writer().postMessage(request); // throws before anything is in flight
        inFlight.set(id, { resolve, reject });
      });
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
