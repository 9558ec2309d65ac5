/** SQL on `files`: the rows of attachments (their bytes are in a storage, files/file-storage.ts). */
import { sql } from 'kysely';
import type { Db, FilesTable } from '../db/schema.js';

export type FileRow = FilesTable;

/** What a purge needs to remove a file's blobs. */
export type DoomedFileRow = Pick<FileRow, 'id' | 'storage' | 'thumbnail_chunks'>;

const asNumber = (value: unknown): number => Number(value ?? 0);

export function createFilesRepository() {
  return {
    async insert(db: Db, row: FileRow): Promise<void> {
      await db.insertInto('files').values(row).execute();
    },

    async find(db: Db, id: string): Promise<FileRow | undefined> {
      return db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** 'uploading' → 'stored' with its sizes; false when the row is no longer uploading (swept meanwhile). */
    async markStored(
      db: Db,
      id: string,
      values: Pick<FileRow, 'size' | 'chunk_count' | 'chunk_size' | 'thumbnail_chunks' | 'meta_ciphertext' | 'meta_key_id'>,
    ): Promise<boolean> {
      const result = await db.updateTable('files').set({ ...values, state: 'stored' }).where('id', '=', id).where('state', '=', 'uploading').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async delete(db: Db, id: string): Promise<void> {
      await db.deleteFrom('files').where('id', '=', id).execute();
    },

    /** The bytes the user's files take against the quota: every state but 'released'. */
    async usedBy(db: Db, userId: string): Promise<number> {
      const row = await db
        .selectFrom('files')
        .select(sql<string | number | null>`sum(size)`.as('used'))
        .where('uploader_id', '=', userId)
        .where('state', '<>', 'released')
        .executeTakeFirst();
      return asNumber(row?.used);
    },

    /** Plaintext bytes of every stored file (the metric). */
    async storedBytes(db: Db): Promise<number> {
      const row = await db.selectFrom('files').select(sql<string | number | null>`sum(size)`.as('bytes')).where('state', '=', 'stored').executeTakeFirst();
      return asNumber(row?.bytes);
    },

    /** Every file of a room, whose blobs are to go with it. */
    async ofRoom(db: Db, roomId: string): Promise<DoomedFileRow[]> {
      return db.selectFrom('files').select(['id', 'storage', 'thumbnail_chunks']).where('room_id', '=', roomId).execute();
    },

    /** Up to `limit` released files, whose blobs and rows are to go. */
    async released(db: Db, limit: number): Promise<DoomedFileRow[]> {
      return db.selectFrom('files').select(['id', 'storage', 'thumbnail_chunks']).where('state', '=', 'released').limit(limit).execute();
    },

    /** Deletes released rows (their blobs are gone already). */
    async deleteReleased(db: Db, ids: string[]): Promise<number> {
      if (ids.length === 0) return 0;
      const result = await db.deleteFrom('files').where('id', 'in', ids).where('state', '=', 'released').executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /**
     * Releases uploads that never finished and stored files never attached, created before
     * `before`. A conditional update, so a send attaching one at this moment either wins
     * (the file stays) or finds it released (and refuses it): never an attached file without bytes.
     */
    async releaseStale(db: Db, before: number): Promise<number> {
      const result = await db
        .updateTable('files')
        .set({ state: 'released' })
        .where('created_at', '<', before)
        .where((eb) => eb.or([eb('state', '=', 'uploading'), eb.and([eb('state', '=', 'stored'), eb('message_seq', 'is', null)])]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type FilesRepository = ReturnType<typeof createFilesRepository>;
