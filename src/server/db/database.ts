/**
 * The database handle: Kysely over better-sqlite3 (default) or a pg pool, chosen by
 * the configured target. Everything above this file is dialect-neutral.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Dialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config.js';
import type { Database } from './schema.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DatabaseTarget['dialect'];
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PoolOptions {
  max: number;
  idleTimeoutMillis: number;
  /** The seed's pool_recycle: connections are replaced after this many seconds. */
  maxLifetimeSeconds: number;
  connectionTimeoutMillis: number;
}

const DEFAULT_POOL: PoolOptions = {
  max: 10,
  idleTimeoutMillis: 30_000,
  maxLifetimeSeconds: 30 * 60,
  connectionTimeoutMillis: 5_000,
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
  mkdirSync(path.dirname(file), { recursive: true });
  const connection = new SQLite(file);
  connection.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it (WAL alone survives a killed
  // process; FULL also survives a power cut).
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: connection });
}

function openPostgres(url: string, pool: PoolOptions): Dialect {
  const pgPool = new pg.Pool({
    connectionString: url,
    max: pool.max,
    idleTimeoutMillis: pool.idleTimeoutMillis,
    maxLifetimeSeconds: pool.maxLifetimeSeconds,
    connectionTimeoutMillis: pool.connectionTimeoutMillis,
    // TCP keep-alive finds dead idle connections; the pool drops clients that error.
    keepAlive: true,
    types: pgTypes,
  });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pgPool.on('error', () => {});
  return new PostgresDialect({ pool: pgPool });
}

/** Opens the configured database. Migrations are separate: see migrate.ts. */
export function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): DatabaseHandle {
  const dialect = target.dialect === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, { ...DEFAULT_POOL, ...options.pool });
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
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
