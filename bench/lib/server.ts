/**
 * A real SecureChat server for one scenario: a temporary DATA_DIR, a fresh database,
 * a master key and session secret the bench knows (so it can seed data and sign session
 * cookies), then `node --import tsx src/server/main.ts` (or the built dist/server/main.js)
 * listening on a free 127.0.0.1 port, in production mode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionCookieName } from '../../src/server/auth/auth.guard.js';
import { loadConfig } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { BenchDatabase, BenchDatabases } from './databases.js';
import type { SeedContext } from './seed.js';
import { freePort, processCpuSeconds, progress, sleep } from './util.js';
import { TSX_IMPORT } from './workers.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Rate limits for bench servers: high enough never to answer 429 to the bench. */
export const BENCH_RATE_LIMITS = {
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '100000000',
  RATE_LIMIT_FRAMES_PER_MINUTE: '100000000',
  RATE_LIMIT_USER_SEARCH_PER_MINUTE: '100000000',
  RATE_LIMIT_SEARCH_PER_MINUTE: '100000000',
  RATE_LIMIT_DMS_PER_MINUTE: '100000000',
  RATE_LIMIT_UPLOADS_PER_MINUTE: '100000000',
};

export interface ServerOptions {
  /** Run dist/server/main.js (npm run build:server) instead of the TypeScript sources. */
  built: boolean;
  logLevel: string;
  /** Write a V8 CPU profile of the server into this folder (node --cpu-prof). */
  profileDir?: string;
}

export interface RunningServer {
  pid: number;
  port: number;
  baseUrl: string;
  /** The Origin a browser on the site sends; the WebSocket endpoint requires it. */
  origin: string;
  wsUrl: string;
  /** Resident memory of the server process, from /proc/<pid>/status (VmRSS). */
  rssBytes(): number;
  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number;
  logTail(lines?: number): string;
}

class PortTakenError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is taken`);
  }
}

/** Whether process `pid` holds a socket listening on 127.0.0.1:`port` (IPv4, from /proc/net/tcp). */
function listensOn(pid: number, port: number): boolean {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is fields[1] ("0100007F:1F90"), st is fields[3] ("0A" = LISTEN), inode is fields[9].
    if (fields[1]?.endsWith(`:${portHex}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return true;
    }
  } catch {
    return false;
  }
  return false;
}

export class BenchInstance {
  private server: ChildProcess | undefined;
  private logFile: string;

  private constructor(
    readonly label: string,
    readonly dataDir: string,
    readonly database: BenchDatabase,
    readonly masterKey: string,
    readonly sessionSecret: string,
    private readonly options: ServerOptions,
  ) {
    this.logFile = path.join(dataDir, 'server.log');
  }

  static async create(label: string, databases: BenchDatabases, options: ServerOptions): Promise<BenchInstance> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `securechat-bench-${label}-`));
    const database = await databases.create(dataDir);
    return new BenchInstance(label, dataDir, database, generateFernetKey(), randomBytes(32).toString('hex'), options);
  }

  /**
   * Another server on `of`'s database, with the same master key and session secret (so the
   * same cookies work on both), in its own data folder. Disposing it leaves the database to `of`.
   */
  static async replica(of: BenchInstance, label: string): Promise<BenchInstance> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `securechat-bench-${label}-`));
    const database: BenchDatabase = { ...of.database, drop: async () => undefined };
    return new BenchInstance(label, dataDir, database, of.masterKey, of.sessionSecret, of.options);
  }

  /** Opens the database (migrated, as the server would), runs `fn` with the bench's keyring, closes it. */
  async seed<T>(fn: (ctx: SeedContext) => Promise<T>): Promise<T> {
    const handle = openDatabase(this.database.target);
    try {
      await migrateToLatest(handle.db);
      // The cookie name follows the server's configuration (FORCE_HTTPS), as its guard's does.
      const cookieName = sessionCookieName(loadConfig(this.serverEnv(0, {})).forceHttps);
      return await fn({ db: handle.db, database: handle, keyring: createKeyring(this.masterKey), sessionSecret: this.sessionSecret, cookieName });
    } finally {
      await handle.close();
    }
  }

  /** `env`: extra environment for the server process (an undefined value removes the variable). */
  async start(env: Record<string, string | undefined> = {}): Promise<RunningServer> {
    // A port picked as free can be taken before the server binds it (other test servers
    // run on this machine): then the server exits, and we try another port.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(env);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= 3) throw error;
        progress(`server ${this.label}: port ${error.port} was taken meanwhile; trying another`);
      }
    }
  }

  /** The server process's environment; `extraEnv` as for start(). */
  private serverEnv(port: number, extraEnv: Record<string, string | undefined>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DATABASE_URL', 'MASTER_KEY_FILE', 'MASTER_ENCRYPTION_KEY_FALLBACKS', 'PUBLIC_URL', 'TRUST_PROXY', 'FORCE_HTTPS']) {
      delete env[name];
    }
    Object.assign(env, {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      // Production needs it; the clients' Origin is this address.
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: this.dataDir,
      MASTER_ENCRYPTION_KEY: this.masterKey,
      SESSION_SECRET: this.sessionSecret,
      LOG_LEVEL: this.options.logLevel,
      // The bench is one client IP and a few users doing far more than a person would:
      // the limits are raised (the limiter itself still runs on every request and frame).
      ...BENCH_RATE_LIMITS,
      ...this.database.env,
    });
    for (const [name, value] of Object.entries(extraEnv)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    return env;
  }

  private async startOnce(extraEnv: Record<string, string | undefined>): Promise<RunningServer> {
    const port = await freePort();
    const entry = this.options.built
      ? [path.join(REPO_ROOT, 'dist/server/main.js')]
      : ['--import', TSX_IMPORT, path.join(REPO_ROOT, 'src/server/main.ts')];
    if (this.options.built && !existsSync(entry[0] as string)) {
      throw new Error('--built needs dist/server/main.js: run `npm run build:server` first');
    }
    const profile = this.options.profileDir
      ? // One folder per server: each thread (the main one, and tsx's loader thread) writes its own file.
        ['--cpu-prof', `--cpu-prof-dir=${path.join(this.options.profileDir, `server-${this.label}`)}`]
      : [];
    const env = this.serverEnv(port, extraEnv);
    const log = openSync(this.logFile, 'a');
    // cwd is the data folder, so no developer .env in the checkout leaks into the bench.
    const child = spawn(process.execPath, [...profile, ...entry], { cwd: this.dataDir, env, stdio: ['ignore', log, log] });
    closeSync(log);
    this.server = child;
    const baseUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const tail = this.logTail();
        if (/EADDRINUSE/.test(tail)) throw new PortTakenError(port);
        throw new Error(`the server exited while starting (code ${child.exitCode}):\n${tail}`);
      }
      // Ready means: this child holds the listening socket (not some other server that
      // happens to be on the port) and answers /readyz.
      if (child.pid !== undefined && listensOn(child.pid, port)) {
        try {
          const response = await fetch(`${baseUrl}/readyz`);
          if (response.ok) break;
        } catch {
          // not answering yet
        }
      }
      if (Date.now() > deadline) throw new Error(`the server did not become ready within 60 s:\n${this.logTail()}`);
      await sleep(100);
    }
    const pid = child.pid as number;
    return {
      pid,
      port,
      baseUrl,
      origin: baseUrl,
      wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`,
      rssBytes: () => {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return Number(kb) * 1024;
      },
      cpuSeconds: () => processCpuSeconds(pid),
      logTail: (lines) => this.logTail(lines),
    };
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  /** Stops the server (SIGTERM, its graceful shutdown; SIGKILL after 15 s). */
  async stop(): Promise<void> {
    const child = this.server;
    this.server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      progress(`server ${this.label} (pid ${child.pid}) did not stop within 15 s; killing it`);
      child.kill('SIGKILL');
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server, drops the database and removes the data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.database.drop().catch((error: unknown) => progress(`could not drop a bench database: ${String(error)}`));
    if (process.env.BENCH_KEEP_DATA) progress(`kept ${this.dataDir} (BENCH_KEEP_DATA)`);
    else await fs.rm(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
