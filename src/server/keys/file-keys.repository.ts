/**
 * SQL for rotating file contents: which files have chunks under another key, and the
 * guarded switch of a file's key once its blobs have been rewritten.
 */
import type { Db, FileState, FileStorageKind } from '../db/schema.js';

/** A file whose blobs rotation rewrites. */
export interface FileToRotate {
  id: string;
  storage: FileStorageKind;
  chunkCount: number;
  thumbnailChunks: number;
  keyId: string;
}

/**
 * Rotation rewrites only 'stored' files: an 'uploading' file's blob is still being written
 * by its upload (a second writer of the same blob would race it, and its chunks are not all
 * there to read), and a 'released' file's blob is being purged (rewriting it would bring
 * back bytes the purge just removed). An upload under an old key still counts as remaining.
 */
export const ROTATED_STATES: readonly FileState[] = ['stored'];
export const REMAINING_STATES: readonly FileState[] = ['stored', 'uploading'];

export function createFileKeysRepository() {
  return {
    /** Files in `states` whose contents are not under `keyId`, and their chunks (thumbnails included). */
    async countNotUnder(db: Db, keyId: string, states: readonly FileState[]): Promise<{ files: number; chunks: number }> {
      const row = await db
        .selectFrom('files')
        .select((eb) => [eb.fn.countAll().as('files'), eb.fn.sum<number | string | null>(eb('chunk_count', '+', eb.ref('thumbnail_chunks'))).as('chunks')])
        .where('state', 'in', states)
        .where('content_key_id', '!=', keyId)
        .executeTakeFirst();
      return { files: Number(row?.files ?? 0), chunks: Number(row?.chunks ?? 0) };
    },

    /** The next `limit` stored files after `after` (by id) whose contents are not under `keyId`. */
    async nextNotUnder(db: Db, keyId: string, after: string | undefined, limit: number): Promise<FileToRotate[]> {
      let query = db
        .selectFrom('files')
        .select(['id', 'storage', 'chunk_count as chunkCount', 'thumbnail_chunks as thumbnailChunks', 'content_key_id as keyId'])
        .where('state', 'in', ROTATED_STATES)
        .where('content_key_id', '!=', keyId)
        .orderBy('id')
        .limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.execute();
      return rows.map((row) => ({ ...row, chunkCount: Number(row.chunkCount), thumbnailChunks: Number(row.thumbnailChunks ?? 0) }));
    },

    /** Names the new key, only if the file is still stored under the key its blobs were read with. */
    async switchContentKey(db: Db, id: string, from: string, to: string): Promise<boolean> {
      const result = await db
        .updateTable('files')
        .set({ content_key_id: to })
        .where('id', '=', id)
        .where('content_key_id', '=', from)
        .where('state', 'in', ROTATED_STATES)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Whether the file is still there and stored (not released or purged meanwhile). */
    async isStored(db: Db, id: string): Promise<boolean> {
      const row = await db.selectFrom('files').select('id').where('id', '=', id).where('state', 'in', ROTATED_STATES).executeTakeFirst();
      return row !== undefined;
    },

    /** A content key id of some file that is not in `known`, if any. */
    async findUnknownKeyId(db: Db, known: readonly string[]): Promise<string | undefined> {
      const row = await db.selectFrom('files').select('content_key_id').where('content_key_id', 'not in', known).limit(1).executeTakeFirst();
      return row?.content_key_id;
    },
  };
}

export type FileKeysRepository = ReturnType<typeof createFileKeysRepository>;
