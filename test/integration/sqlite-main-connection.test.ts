/**
 * The SQLite main connection (db/database.ts) against another connection's write lock, as
 * the message writer's thread holds it while it commits: a write waits for the lock
 * without blocking the event loop, then lands, even when the database is closed meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { sqliteDriver } from '../../src/server/db/sqlite.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const HOLD_MS = 400;

/** Another thread takes the file's write lock, says so, holds it for `holdMs`, then commits. */
function holdWriteLock(file: string, holdMs: number): { taken: Promise<void>; released: Promise<void> } {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    // The server's driver on this Node (db/sqlite.ts); Node 22's ExperimentalWarning stays quiet.
    process.emitWarning = () => {};
    const connection = workerData.driver === 'node:sqlite'
      ? new (require('node:sqlite').DatabaseSync)(workerData.file)
      : new (require('better-sqlite3'))(workerData.file);
    connection.exec('begin immediate');
    connection.exec("insert into busy_probe (note) values ('holder')");
    parentPort.postMessage('taken');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
    connection.exec('commit');
    connection.close();
    `,
    { eval: true, workerData: { file, holdMs, driver: sqliteDriver() } },
  );
  const taken = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const released = new Promise<void>((resolve, reject) => {
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited with ${code}`))));
  });
  return { taken, released };
}

describe('the SQLite main connection', () => {
  let testDatabase: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    await testDatabase?.drop();
  });

  it('waits for another connection’s write lock without blocking the event loop, then writes', async () => {
    testDatabase = await createTestDatabase('sqlite');
    const target = testDatabase.target;
    if (target.dialect !== 'sqlite') throw new Error('expected SQLite');
    handle = openDatabase(target);
    await sql`create table busy_probe (note text not null)`.execute(handle.db);

    const holder = holdWriteLock(target.file, HOLD_MS);
    await holder.taken;
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 10);
    const startedAt = performance.now();
    try {
      await sql`insert into busy_probe (note) values ('main')`.execute(handle.db);
    } finally {
      clearInterval(ticker);
    }
    const waitedMs = performance.now() - startedAt;
    await holder.released;

    // It did wait for the lock (the holder's row committed first)...
    expect(waitedMs).toBeGreaterThan(HOLD_MS / 2);
    const rows = await sql<{ note: string }>`select note from busy_probe order by rowid`.execute(handle.db);
    expect(rows.rows.map((row) => row.note)).toEqual(['holder', 'main']);
    // ...while timers kept firing: SQLite's busy handler would have slept on this thread.
    expect(ticks).toBeGreaterThan(HOLD_MS / 10 / 4);
  });

  it('gives a transaction the lock once the other connection lets go', async () => {
    testDatabase = await createTestDatabase('sqlite');
    const target = testDatabase.target;
    if (target.dialect !== 'sqlite') throw new Error('expected SQLite');
    handle = openDatabase(target);
    await sql`create table busy_probe (note text not null)`.execute(handle.db);

    const holder = holdWriteLock(target.file, HOLD_MS / 2);
    await holder.taken;
    await handle.db.transaction().execute(async (trx) => {
      const before = await sql<{ n: number }>`select count(*) as n from busy_probe`.execute(trx);
      // begin immediate waited for the holder's commit, so this transaction reads its row.
      expect(Number(before.rows[0]!.n)).toBe(1);
      await sql`insert into busy_probe (note) values ('in a transaction')`.execute(trx);
    });
    await holder.released;
    const rows = await sql<{ note: string }>`select note from busy_probe order by rowid`.execute(handle.db);
    expect(rows.rows.map((row) => row.note)).toEqual(['holder', 'in a transaction']);
  });

  it('lets a write that waits for the lock land before the database closes', async () => {
    testDatabase = await createTestDatabase('sqlite');
    const target = testDatabase.target;
    if (target.dialect !== 'sqlite') throw new Error('expected SQLite');
    const closing = openDatabase(target);
    await sql`create table busy_probe (note text not null)`.execute(closing.db);

    const holder = holdWriteLock(target.file, HOLD_MS);
    await holder.taken;
    const write = sql`insert into busy_probe (note) values ('main')`.execute(closing.db);
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS / 4)); // the write is waiting now
    // Shutting down while the write waits: the write still lands, then the file closes.
    await Promise.all([write, closing.close()]);
    await holder.released;

    handle = openDatabase(target);
    const rows = await sql<{ note: string }>`select note from busy_probe order by rowid`.execute(handle.db);
    expect(rows.rows.map((row) => row.note)).toEqual(['holder', 'main']);
  });
});
