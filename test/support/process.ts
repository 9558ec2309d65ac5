/**
 * The real server and CLI as processes (fault tests and test/integration/cli.test.ts), and
 * a resource list that ends every process and removes every folder and database when the
 * test (or file) is done. A PostgreSQL server of a test's own is in own-postgres.ts; the
 * API over HTTP (against such a server's URL or an in-process app) is in http.ts and
 * factories.ts.
 *
 * Nothing here sleeps to "let things settle": waits poll a condition with a deadline and
 * fail with what they saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DatabaseTarget } from '../../src/server/config.js';
import { createTestDatabase, type Dialect } from './databases.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_SCRIPT = path.join(ROOT, 'src/server/main.ts');
export const CLI_SCRIPT = path.join(ROOT, 'src/cli/main.ts');
// `node --import tsx` resolves tsx from the working folder (a temp folder here): use its URL.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

import { UNTHROTTLED } from './unthrottled.js';

export { UNTHROTTLED };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitUntil<T>(what: string, ms: number, check: () => Promise<T | undefined | false> | T | undefined | false, every = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(every);
  }
}

// ---- processes ----------------------------------------------------------------------------

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<Exit>;
  /** Whether the process has ended. */
  readonly done: boolean;
}

/** Waits for the process to end, or kills it and fails after `ms`. */
export async function exitWithin(proc: Proc, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${ms} ms\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`));
    }, ms);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The real server, listening. */
export interface ServerProcess {
  proc: Proc;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/**
 * Everything one test (or one file) starts: processes, folders, databases. `dispose()` kills
 * what still runs and removes the rest, in reverse order; call it from afterAll/onTestFinished.
 */
export class Resources {
  private readonly children = new Set<ChildProcess>();
  private readonly cleanups: Array<() => Promise<void>> = [];

  defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(async () => cleanup());
  }

  async dispose(): Promise<void> {
    const alive = [...this.children].filter((child) => child.exitCode === null && child.signalCode === null);
    const gone = alive.map((child) => new Promise((resolve) => child.once('close', resolve)));
    for (const child of alive) child.kill('SIGKILL');
    await Promise.all(gone);
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }

  /** A new temporary folder, removed at the end. */
  async tempDir(prefix = 'securechat-fault-'): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    this.defer(() => fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }));
    return dir;
  }

  /**
   * A data folder (also the processes' working folder) with the SQLite file inside it, or
   * a fresh PostgreSQL database; `env` points a server or the CLI at it.
   */
  async dataFor(dialect: Dialect, prefix?: string): Promise<{ dataDir: string; env: Record<string, string>; target: DatabaseTarget }> {
    const dataDir = await this.tempDir(prefix);
    if (dialect === 'sqlite') return { dataDir, env: { DATA_DIR: dataDir }, target: { dialect: 'sqlite', file: path.join(dataDir, 'securechat.db') } };
    const database = await createTestDatabase('postgres');
    this.defer(() => database.drop());
    return { dataDir, env: { DATA_DIR: dataDir, DATABASE_URL: (database.target as { url: string }).url }, target: database.target };
  }

  /** `node --import tsx <script> ...args` with only PATH, HOME and `env` in its environment. */
  spawnNode(script: string, args: string[], env: Record<string, string>, cwd: string): Proc {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, script, ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let done = false;
    const proc: Proc = {
      child,
      stdout: '',
      stderr: '',
      get done() {
        return done;
      },
      exited: new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => {
          done = true;
          resolve({ code, signal, stdout: proc.stdout, stderr: proc.stderr });
        });
      }),
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (proc.stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (proc.stderr += chunk));
    return proc;
  }

  /** Runs the CLI to its end (bounded). */
  cli(args: string[], env: Record<string, string>, cwd: string, ms = 60_000): Promise<Exit> {
    return exitWithin(this.spawnNode(CLI_SCRIPT, args, env, cwd), ms);
  }

  /**
   * Starts `src/server/main.ts` on a port the system picks (PORT=0, read from the "Server
   * listening at" log line, so LOG_LEVEL is info) and waits, bounded, until /healthz answers.
   */
  async startServer(env: Record<string, string>, cwd: string, ms = 30_000): Promise<ServerProcess> {
    const proc = this.spawnNode(SERVER_SCRIPT, [], { HOST: '127.0.0.1', PORT: '0', ...UNTHROTTLED, ...env, LOG_LEVEL: 'info' }, cwd);
    const deadline = Date.now() + ms;
    for (;;) {
      if (proc.done || proc.child.exitCode !== null || proc.child.signalCode !== null) {
        throw new Error(`server exited while starting (${proc.child.exitCode ?? proc.child.signalCode}): ${proc.stderr}${proc.stdout}`);
      }
      const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.stdout)?.[1];
      if (url) {
        try {
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
          if (response.ok) return { proc, url };
        } catch {
          // not answering yet
        }
      }
      if (Date.now() > deadline) throw new Error(`server not healthy within ${ms} ms: ${proc.stderr}${proc.stdout}`);
      await sleep(50);
    }
  }

  /** Runs the server where it must refuse to start (bounded). */
  refusedServer(env: Record<string, string>, cwd: string): Promise<Exit> {
    return exitWithin(this.spawnNode(SERVER_SCRIPT, [], { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env }, cwd), 30_000);
  }
}

