/**
 * The writes of the database file storage, behind one interface so that on SQLite they go
 * through the message writer's thread (messages/sqlite-message-store.ts): one thread owns
 * SQLite's write lock, requests are served in order, and the event loop never waits on a
 * chunk's fsync. Elsewhere (PostgreSQL, or the CLI, which has no writer thread) they run
 * on the main connection (`kyselyChunkWriter`). Each call is one transaction.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { immediateTransaction, type SqliteConnection } from '../db/sqlite.js';

export interface ChunkWriter {
  /** Inserts `tokens` as chunks `firstIdx`, `firstIdx + 1`, … of `blobId`. */
  insert(blobId: string, firstIdx: number, tokens: readonly string[]): Promise<void>;
  /** Replaces blob `to` by blob `from` (deletes `to`, renames `from`), atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes the blobs' chunks. */
  delete(blobIds: readonly string[]): Promise<void>;
}

export function kyselyChunkWriter(db: Kysely<Database>): ChunkWriter {
  return {
    async insert(blobId, firstIdx, tokens) {
      await db.insertInto('file_chunks').values(tokens.map((token, i) => ({ blob_id: blobId, idx: firstIdx + i, token }))).execute();
    },
    async rename(from, to) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('file_chunks').where('blob_id', '=', to).execute();
        await trx.updateTable('file_chunks').set({ blob_id: to }).where('blob_id', '=', from).execute();
      });
    },
    async delete(blobIds) {
      await db.deleteFrom('file_chunks').where('blob_id', 'in', [...blobIds]).execute();
    },
  };
}

/** A chunk request to the SQLite writer thread. */
export type ChunkRequest =
  | { kind: 'insertChunks'; blobId: string; firstIdx: number; tokens: readonly string[] }
  | { kind: 'renameBlob'; from: string; to: string }
  | { kind: 'deleteBlobs'; blobIds: readonly string[] };

/** The writer thread's side: runs one chunk request on its own connection, in one transaction. */
export function sqliteChunkWrites(connection: SqliteConnection): (request: ChunkRequest) => void {
  const insert = connection.prepare('insert into "file_chunks" ("blob_id", "idx", "token") values (?, ?, ?)');
  const remove = connection.prepare('delete from "file_chunks" where "blob_id" = ?');
  const rename = connection.prepare('update "file_chunks" set "blob_id" = ? where "blob_id" = ?');
  return (request) =>
    immediateTransaction(connection, () => {
      if (request.kind === 'insertChunks') request.tokens.forEach((token, i) => insert.run([request.blobId, request.firstIdx + i, token]));
      else if (request.kind === 'renameBlob') (remove.run([request.to]), rename.run([request.to, request.from]));
      else for (const blobId of request.blobIds) remove.run([blobId]);
    });
}
