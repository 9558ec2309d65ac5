/**
 * One key rotation at a time per database: two at once would rewrite the same file's blob
 * together (in the data folder both write its one `<id>.partial`, and one could truncate
 * what the other is about to rename into place). A killed rotation must not block the next
 * run, so neither lock outlives its process:
 *   - PostgreSQL: a session advisory lock on a connection held for the rotation (the server
 *     drops it when the connection closes, as it does when the process dies);
 *   - SQLite (one host): a lock file beside the database naming the process; a file naming
 *     a process that no longer runs is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.js';

/** Another rotation holds the lock; the message says which, when known. */
export class RotationBusyError extends Error {
  override readonly name = 'RotationBusyError';
}

// pg_try_advisory_lock(int, int): a class id ('SCkr') and the lock within it.
const LOCK_CLASS = 0x53436b72;
const LOCK_ROTATION = 1;

export async function withRotationLock<T>(database: Pick<DatabaseHandle, 'db' | 'target'>, run: () => Promise<T>): Promise<T> {
  const { target, db } = database;
  if (target.dialect === 'postgres') {
    return db.connection().execute(async (connection) => {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${LOCK_CLASS}::int, ${LOCK_ROTATION}::int) as locked`.execute(connection);
      if (!rows[0]?.locked) throw new RotationBusyError('Another `securechat keys rotate` is running on this database; let it finish (or stop it) first.');
      try {
        return await run();
      } finally {
        await sql`select pg_advisory_unlock(${LOCK_CLASS}::int, ${LOCK_ROTATION}::int)`.execute(connection);
      }
    });
  }
  const lockFile = `${target.file}.rotate-lock`;
  await takeLockFile(lockFile);
  try {
    return await run();
  } finally {
    await rm(lockFile, { force: true });
  }
}

async function takeLockFile(lockFile: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number.parseInt((await readFile(lockFile, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new RotationBusyError(`Another \`securechat keys rotate\` (process ${holder}) is running on this database; let it finish (or stop it) first.`);
    }
    // Left by a rotation that was killed: take it over.
    await rm(lockFile, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
