/**
 * Blobs as rows of `file_chunks`, one token per row, so every instance reads what any
 * instance wrote with no shared folder. Chunks go in under `<blobId>.partial` as they
 * arrive (no transaction held open for an upload's length) and are renamed in one
 * transaction at the end.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { MissingBlobError, type FileStorage } from './file-storage.js';

const INSERT_BATCH = 8;
const READ_BATCH = 16;

export function createDatabaseFileStorage(db: Kysely<Database>): FileStorage {
  return {
    kind: 'database',

    async write(blobId, tokens) {
      const partial = `${blobId}.partial`;
      await db.deleteFrom('file_chunks').where('blob_id', '=', partial).execute();
      let batch: Array<{ blob_id: string; idx: number; token: string }> = [];
      let count = 0;
      try {
        for await (const token of tokens) {
          batch.push({ blob_id: partial, idx: count, token });
          count += 1;
          if (batch.length === INSERT_BATCH) {
            await db.insertInto('file_chunks').values(batch).execute();
            batch = [];
          }
        }
        if (batch.length > 0) await db.insertInto('file_chunks').values(batch).execute();
      } catch (error) {
        await db.deleteFrom('file_chunks').where('blob_id', '=', partial).execute();
        throw error;
      }
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('file_chunks').where('blob_id', '=', blobId).execute();
        await trx.updateTable('file_chunks').set({ blob_id: blobId }).where('blob_id', '=', partial).execute();
      });
      return count;
    },

    async *read(blobId, from, to) {
      for (let start = from; start <= to; start += READ_BATCH) {
        const end = Math.min(to, start + READ_BATCH - 1);
        const rows = await db
          .selectFrom('file_chunks')
          .select(['idx', 'token'])
          .where('blob_id', '=', blobId)
          .where('idx', '>=', start)
          .where('idx', '<=', end)
          .orderBy('idx')
          .execute();
        if (rows.length !== end - start + 1) throw new MissingBlobError(`blob ${blobId} lacks chunks between ${start} and ${end}`);
        for (const row of rows) yield row.token;
      }
    },

    async delete(blobId) {
      await db.deleteFrom('file_chunks').where('blob_id', 'in', [blobId, `${blobId}.partial`]).execute();
    },
  };
}
