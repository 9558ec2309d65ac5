/**
 * The database handle: Kysely over SQLite (default; node:sqlite or better-sqlite3, see
 * sqlite.ts) or a pg pool, chosen by the configured target. Everything above this file is dialect-neutral.
 */
import { setTimeout } from 'node:timers/promises';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Dialect,
  type LogEvent,
  type QueryResult,
  type SqliteDatabase,
} from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config.js';
import type { Database } from './schema.js';
import { BUSY_TIMEOUT_MS, openSqliteConnection, type SqliteConnection, type SqliteStatement } from './sqlite.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DatabaseTarget['dialect'];
  target: DatabaseTarget;
  /** The OpenOptions.onQuery hook, for statements run outside Kysely (the SQLite message writer). */
  onQuery?: (sql: string) => void;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** The connection pool's use, for metrics; PostgreSQL only (SQLite has one connection). */
  poolStats?(): PoolStats;
  close(): Promise<void>;
}

export interface PoolOptions {
  max: number;
  idleTimeoutMillis: number;
  /** The seed's pool_recycle: connections are replaced after this many seconds. */
  maxLifetimeSeconds: number;
  connectionTimeoutMillis: number;
  /** A query the server does not answer within this fails (a frozen server, a network partition). */
  queryTimeoutMillis: number;
}

export interface PoolStats {
  /** Connections open, busy or idle. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  max: number;
}

const DEFAULT_POOL: PoolOptions = {
  max: 10,
  idleTimeoutMillis: 30_000,
  maxLifetimeSeconds: 30 * 60,
  connectionTimeoutMillis: 5_000,
  queryTimeoutMillis: 5_000,
};

// BIGINT (oid 20) comes back from pg as a string; our BIGINTs are times and sequence
// numbers well inside Number's safe range.
const PG_INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface OpenOptions {
  pool?: Partial<PoolOptions>;
  /** Sees every query Kysely runs (tests pin the number of queries on hot paths). */
  onQuery?: (sql: string) => void;
}

function openSqlite(file: string): Dialect {
  const database = withStatementCache(openSqliteConnection(file, { waitsInSqlite: false }));
  const dialect = new SqliteDialect({ database });
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new MainConnectionDriver({ database }),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/**
 * The main connection shares the file with the message writer's thread
 * (messages/sqlite-message-store.ts), so it meets that thread's write lock:
 * - Transactions take the lock when they begin: a deferred one that read before the thread
 *   committed could not write afterwards (SQLITE_BUSY_SNAPSHOT, which no waiting cures).
 * - A statement refused with SQLITE_BUSY waits and is tried again here, asynchronously,
 *   rather than in SQLite's busy handler, which would sleep on the event loop and stall
 *   every socket for the rest of the thread's commit. Nothing ran when SQLite says busy,
 *   so trying again is safe; a statement inside a transaction holds the lock already.
 */
class MainConnectionDriver extends SqliteDriver {
  #retrying: DatabaseConnection | undefined;

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.#retrying ??= retryingWhileBusy(connection);
    return this.#retrying;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /** A statement waiting out a busy lock (or an open transaction) holds the connection: closing waits for it. */
  override async destroy(): Promise<void> {
    await super.acquireConnection();
    try {
      await super.destroy();
    } finally {
      await super.releaseConnection();
    }
  }
}

/**
 * Refusals that waiting cures: a lock held by another connection, or another process
 * recovering the WAL after a crash (which SQLite's busy handler used to wait out too).
 * Not SQLITE_BUSY_SNAPSHOT: that transaction can never write and must start again.
 */
const BUSY_UNTIL_RELEASED = new Set<unknown>(['SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY']);

function retryingWhileBusy(connection: DatabaseConnection): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const giveUpAt = Date.now() + BUSY_TIMEOUT_MS;
      for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 16)) {
        try {
          return await connection.executeQuery<R>(query);
        } catch (error) {
          if (!BUSY_UNTIL_RELEASED.has((error as { code?: unknown }).code) || Date.now() >= giveUpAt) throw error;
          await setTimeout(waitMs);
        }
      }
    },
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  };
}

// Hot paths run a handful of distinct statements; a multi-row INSERT has one text per batch size.
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite driver prepares every statement again on every query, which cost a
 * sixth of the send path's CPU. Statements are reusable, so keep the most recently used
 * ones by SQL text (SQLite re-prepares a cached statement itself after a schema change).
 */
function withStatementCache(connection: SqliteConnection): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => connection.close(),
    prepare(text) {
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text); // re-insert: Map order is recency order
      } else {
        statement = connection.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

function openPostgres(url: string, pool: PoolOptions): { dialect: Dialect; poolStats: () => PoolStats } {
  const pgPool = new pg.Pool({
    connectionString: url,
    max: pool.max,
    idleTimeoutMillis: pool.idleTimeoutMillis,
    maxLifetimeSeconds: pool.maxLifetimeSeconds,
    connectionTimeoutMillis: pool.connectionTimeoutMillis,
    query_timeout: pool.queryTimeoutMillis,
    // TCP keep-alive finds dead idle connections; the pool drops clients that error.
    keepAlive: true,
    types: pgTypes,
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pgPool.on('error', () => {});
  // A client checked out of the pool has no 'error' listener (the pool's is for idle ones):
  // a server that goes away mid-query would throw from the event emitter and kill the
  // process. The query itself still rejects, and the pool drops the client on release.
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const poolStats = () => ({ total: pgPool.totalCount, idle: pgPool.idleCount, waiting: pgPool.waitingCount, max: pool.max });
  return { dialect: new PostgresDialect({ pool: pgPool }), poolStats };
}

/** Opens the configured database. Migrations are separate: see migrate.ts. */
export function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): DatabaseHandle {
  let dialect: Dialect;
  let poolStats: (() => PoolStats) | undefined;
  if (target.dialect === 'sqlite') dialect = openSqlite(target.file);
  else ({ dialect, poolStats } = openPostgres(target.url, { ...DEFAULT_POOL, ...options.pool }));
  const { onQuery } = options;
  const log = onQuery
    ? (event: LogEvent) => {
        if (event.level === 'query') onQuery(event.query.sql);
      }
    : undefined;
  const db = new Kysely<Database>({ dialect, ...(log ? { log } : {}) });
  return {
    db,
    dialect: target.dialect,
    target,
    ...(onQuery ? { onQuery } : {}),
    ...(poolStats ? { poolStats } : {}),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
