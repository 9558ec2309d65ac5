/**
 * How SecureChat opens a SQLite file, for the main connection (database.ts) and for the
 * message writer's thread (messages/sqlite-message-store.worker.ts): the same settings
 * on every connection to the file.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/** How long a write waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * `waitsInSqlite: false` leaves the waiting to the caller: SQLite's own busy handler
 * sleeps in the calling thread, which on the main thread is the event loop.
 */
export function openSqliteConnection(file: string, options: { waitsInSqlite: boolean }): SQLite.Database {
  mkdirSync(path.dirname(file), { recursive: true });
  const connection = new SQLite(file);
  connection.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it (WAL alone survives a killed
  // process; FULL also survives a power cut).
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${options.waitsInSqlite ? BUSY_TIMEOUT_MS : 0}`);
  return connection;
}
