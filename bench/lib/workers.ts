/**
 * Client processes. Every HTTP and WebSocket client of the bench runs in a forked worker
 * (bench/workers/*.ts) so that the runner's own event loop measures nothing; the runner
 * talks to them by request/reply messages over the IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { progress } from './util.js';

/** `--import` value that lets plain `node` run TypeScript, as `tsx` itself does. */
export const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export type WorkerScript = 'sockets' | 'http' | 'files';

export interface WorkerHandle {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(cmd: string, payload?: unknown): Promise<T>;
  /** Asks the worker to exit, then kills it (by its own pid) if it does not. */
  stop(): Promise<void>;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const live = new Set<ChildProcess>();

/** Kills every worker still running (used when the runner is interrupted). */
export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL');
}

export async function startWorker(script: WorkerScript, name: string): Promise<WorkerHandle> {
  const file = fileURLToPath(new URL(`../workers/${script}.ts`, import.meta.url));
  const child = fork(file, [name], {
    execArgv: ['--import', TSX_IMPORT],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exitReason: string | undefined;

  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exitReason = `worker ${name} exited (code ${code}, signal ${signal})`;
      for (const { reject } of pending.values()) reject(new Error(exitReason));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`worker ${name}: ${message.error}`));
  });

  const handle: WorkerHandle = {
    name,
    pid: child.pid ?? -1,
    call<T>(cmd: string, payload?: unknown): Promise<T> {
      if (exitReason) return Promise.reject(new Error(exitReason));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, cmd, payload });
      });
    },
    async stop() {
      if (exitReason) return;
      child.send({ id: 0, cmd: 'exit' });
      const timer = setTimeout(() => {
        progress(`worker ${name} (pid ${child.pid}) did not exit; killing it`);
        child.kill('SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await handle.call('ready');
  return handle;
}

/** Starts `count` workers of one kind. */
export async function startWorkers(script: WorkerScript, prefix: string, count: number): Promise<WorkerHandle[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startWorker(script, `${prefix}-${i}`)));
}

export async function stopWorkers(workers: readonly WorkerHandle[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop()));
}
