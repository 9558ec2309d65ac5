/**
 * How SecureChat opens a SQLite file, for the main connection (database.ts) and for the
 * message writer's thread (messages/sqlite-message-store.worker.ts): the same settings
 * on every connection to the file, and the same small interface over either driver:
 *
 * - Node's built-in `node:sqlite` wherever it has what Kysely's driver needs without a flag
 *   (StatementSync's `columns()` and `iterate()`: Node 22.16+, 23.11+, 24 and later);
 * - better-sqlite3 12 elsewhere (Node 20, and 22 before 22.16). It is not loaded on newer Node: on
 *   Node 24.19+ it aborts the process when a statement is garbage-collected
 *   (nodejs/node#65446), and better-sqlite3 13 does not run on Node 20.
 *
 * Both speak through `SqliteConnection`: statements take their parameters as one array
 * (as Kysely's SqliteDialect passes them) and errors carry better-sqlite3's string codes
 * (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`, …), which the callers test.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** How long a write waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** A prepared statement; what Kysely's SqliteDialect and the writer thread use. */
export interface SqliteStatement {
  /** True if the statement returns rows (a SELECT, or a write with RETURNING). */
  readonly reader: boolean;
  all(parameters?: readonly unknown[]): unknown[];
  get(parameters?: readonly unknown[]): unknown;
  run(parameters?: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(parameters?: readonly unknown[]): IterableIterator<unknown>;
}

export interface SqliteConnection {
  readonly driver: SqliteDriverName;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
}

// --- node:sqlite (typed here: @types/node 20 has no node:sqlite) ---

interface NodeStatementSync {
  columns(): unknown[];
  all(...parameters: unknown[]): unknown[];
  get(...parameters: unknown[]): unknown;
  run(...parameters: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(...parameters: unknown[]): IterableIterator<unknown>;
}
interface NodeDatabaseSync {
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (file: string, options?: { enableForeignKeyConstraints?: boolean }) => NodeDatabaseSync;
  StatementSync: { prototype: Partial<NodeStatementSync> };
}

let nodeSqliteModule: NodeSqliteModule | null | undefined;

/**
 * node:sqlite if this Node has it with columns() and iterate(), else null. Node 22 prints an
 * ExperimentalWarning when the module loads ("SQLite is an experimental feature"); that one
 * warning is kept off stderr (the server's stderr is for its own lines), others pass.
 */
function nodeSqlite(): NodeSqliteModule | null {
  if (nodeSqliteModule !== undefined) return nodeSqliteModule;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && /^SQLite is an experimental feature/.test(text)) return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    const loaded = process.getBuiltinModule('node:sqlite') as NodeSqliteModule | undefined;
    const statement = loaded?.StatementSync?.prototype;
    nodeSqliteModule = loaded && typeof statement?.columns === 'function' && typeof statement.iterate === 'function' ? loaded : null;
  } catch {
    nodeSqliteModule = null;
  } finally {
    process.emitWarning = emitWarning;
  }
  return nodeSqliteModule;
}

/** The driver this Node uses for SQLite. */
export function sqliteDriver(): SqliteDriverName {
  return nodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
}

// SQLite's result codes by number (node:sqlite gives `errcode`), named as better-sqlite3 names them.
const PRIMARY_CODES = [
  'OK', 'ERROR', 'INTERNAL', 'PERM', 'ABORT', 'BUSY', 'LOCKED', 'NOMEM', 'READONLY', 'INTERRUPT', 'IOERR', 'CORRUPT', 'NOTFOUND',
  'FULL', 'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA', 'TOOBIG', 'CONSTRAINT', 'MISMATCH', 'MISUSE', 'NOLFS', 'AUTH', 'FORMAT',
  'RANGE', 'NOTADB', 'NOTICE', 'WARNING',
];
/** Extended codes: primary code → names by (code >> 8). */
const EXTENDED_CODES: Record<number, Record<number, string>> = {
  1: { 1: 'MISSING_COLLSEQ', 2: 'RETRY', 3: 'SNAPSHOT' },
  4: { 2: 'ROLLBACK' },
  5: { 1: 'RECOVERY', 2: 'SNAPSHOT', 3: 'TIMEOUT' },
  6: { 1: 'SHAREDCACHE', 2: 'VTAB' },
  8: { 1: 'RECOVERY', 2: 'CANTLOCK', 3: 'ROLLBACK', 4: 'DBMOVED', 5: 'CANTINIT', 6: 'DIRECTORY' },
  10: Object.fromEntries(
    ['READ', 'SHORT_READ', 'WRITE', 'FSYNC', 'DIR_FSYNC', 'TRUNCATE', 'FSTAT', 'UNLOCK', 'RDLOCK', 'DELETE', 'BLOCKED', 'NOMEM',
      'ACCESS', 'CHECKRESERVEDLOCK', 'LOCK', 'CLOSE', 'DIR_CLOSE', 'SHMOPEN', 'SHMSIZE', 'SHMLOCK', 'SHMMAP', 'SEEK',
      'DELETE_NOENT', 'MMAP', 'GETTEMPPATH', 'CONVPATH', 'VNODE', 'AUTH', 'BEGIN_ATOMIC', 'COMMIT_ATOMIC', 'ROLLBACK_ATOMIC',
      'DATA', 'CORRUPTFS', 'IN_PAGE'].map((name, i) => [i + 1, name]),
  ),
  11: { 1: 'VTAB', 2: 'SEQUENCE', 3: 'INDEX' },
  14: { 1: 'NOTEMPDIR', 2: 'ISDIR', 3: 'FULLPATH', 4: 'CONVPATH', 5: 'DIRTYWAL', 6: 'SYMLINK' },
  19: Object.fromEntries(
    ['CHECK', 'COMMITHOOK', 'FOREIGNKEY', 'FUNCTION', 'NOTNULL', 'PRIMARYKEY', 'TRIGGER', 'UNIQUE', 'VTAB', 'ROWID', 'PINNED',
      'DATATYPE'].map((name, i) => [i + 1, name]),
  ),
  23: { 1: 'USER' },
  27: { 1: 'RECOVER_WAL', 2: 'RECOVER_ROLLBACK', 3: 'RBU' },
  28: { 1: 'AUTOINDEX' },
};

/** `SQLITE_CONSTRAINT_UNIQUE` for 2067, `SQLITE_BUSY` for 5; an unknown extended code is named by its primary code. */
export function sqliteCodeName(errcode: number): string {
  const primary = PRIMARY_CODES[errcode & 0xff] ?? `UNKNOWN_${errcode & 0xff}`;
  const extended = EXTENDED_CODES[errcode & 0xff]?.[errcode >> 8];
  return extended ? `SQLITE_${primary}_${extended}` : `SQLITE_${primary}`;
}

/** node:sqlite's errors have code ERR_SQLITE_ERROR and the number in errcode: give them the name instead. */
function named(error: unknown): unknown {
  const e = error as { code?: unknown; errcode?: unknown; sqliteCode?: unknown };
  if (e && e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    e.code = sqliteCodeName(e.errcode);
  }
  return error;
}

function* namedErrors(rows: IterableIterator<unknown>): IterableIterator<unknown> {
  try {
    yield* rows;
  } catch (error) {
    throw named(error);
  }
}

const NO_PARAMETERS: readonly unknown[] = [];

function nodeStatement(statement: NodeStatementSync): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all(parameters = NO_PARAMETERS) {
      try {
        return statement.all(...parameters);
      } catch (error) {
        throw named(error);
      }
    },
    get(parameters = NO_PARAMETERS) {
      try {
        return statement.get(...parameters);
      } catch (error) {
        throw named(error);
      }
    },
    run(parameters = NO_PARAMETERS) {
      try {
        return statement.run(...parameters);
      } catch (error) {
        throw named(error);
      }
    },
    iterate(parameters = NO_PARAMETERS) {
      try {
        return namedErrors(statement.iterate(...parameters));
      } catch (error) {
        throw named(error);
      }
    },
  };
}

function openWithNodeSqlite(module: NodeSqliteModule, file: string): SqliteConnection {
  let database: NodeDatabaseSync;
  try {
    database = new module.DatabaseSync(file);
  } catch (error) {
    throw named(error);
  }
  return {
    driver: 'node:sqlite',
    prepare(sql) {
      try {
        return nodeStatement(database.prepare(sql));
      } catch (error) {
        throw named(error);
      }
    },
    exec(sql) {
      try {
        database.exec(sql);
      } catch (error) {
        throw named(error);
      }
    },
    close: () => database.close(),
  };
}

// --- better-sqlite3 (Node 20): its statements already take an array of parameters ---

function openWithBetterSqlite3(file: string): SqliteConnection {
  let BetterSqlite3: typeof import('better-sqlite3');
  try {
    BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  } catch (error) {
    throw new Error(
      `SQLite on Node ${process.version} needs better-sqlite3 (node:sqlite with columns() and iterate() arrives in Node 22.16), ` +
        `which did not load: ${(error as Error).message}. Reinstall it (npm rebuild better-sqlite3), use Node 22.16+ or 24, or PostgreSQL (DATABASE_URL).`,
    );
  }
  const database = new BetterSqlite3(file);
  return {
    driver: 'better-sqlite3',
    prepare: (sql) => database.prepare(sql) as unknown as SqliteStatement,
    exec: (sql) => void database.exec(sql),
    close: () => void database.close(),
  };
}

/** The database file and the ones SQLite keeps beside it. */
export function sqliteFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`];
}

/**
 * A new database file readable by this user only (0600), in a folder that is 0700 when we
 * create it. SQLite creates the -wal and -shm files with the database file's own mode, so
 * creating the file 0600 first covers them; older files are narrowed at start (boot.ts).
 */
function createPrivate(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
}

/**
 * `waitsInSqlite: false` leaves the waiting to the caller: SQLite's own busy handler
 * sleeps in the calling thread, which on the main thread is the event loop.
 */
export function openSqliteConnection(file: string, options: { waitsInSqlite: boolean }): SqliteConnection {
  createPrivate(file);
  const module = nodeSqlite();
  const connection = module ? openWithNodeSqlite(module, file) : openWithBetterSqlite3(file);
  try {
    connection.exec('pragma journal_mode = WAL');
    // FULL: a commit is on disk before we acknowledge it (WAL alone survives a killed
    // process; FULL also survives a power cut).
    connection.exec('pragma synchronous = FULL');
    connection.exec('pragma foreign_keys = ON');
    // A deleted message's ciphertext (and its earlier versions) is zeroed in the file, not left in freed space.
    connection.exec('pragma secure_delete = ON');
    connection.exec(`pragma busy_timeout = ${options.waitsInSqlite ? BUSY_TIMEOUT_MS : 0}`);
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

/**
 * Runs `work` in one transaction that takes the write lock when it begins (BEGIN
 * IMMEDIATE … COMMIT), rolled back if anything throws (as better-sqlite3's
 * `transaction(fn).immediate()`).
 */
export function immediateTransaction<T>(connection: SqliteConnection, work: () => T): T {
  connection.exec('begin immediate');
  let result: T;
  try {
    result = work();
    connection.exec('commit');
  } catch (error) {
    try {
      connection.exec('rollback');
    } catch {
      // no transaction left to roll back (SQLite already rolled it back)
    }
    throw error;
  }
  return result;
}
