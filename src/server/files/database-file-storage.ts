/**
 * Blobs as rows of `file_chunks`, one token per row, so every instance reads what any
 * instance wrote with no shared folder. Chunks go in under `<blobId>.partial` as they
 * arrive (no transaction held open for an upload's length) and are renamed in one
 * transaction at the end. The writes go through `writer` (on SQLite, the message writer's
 * thread: see chunk-writer.ts), or the main connection when none is given; reads always
 * use the main connection (WAL readers do not wait for the writer).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { kyselyChunkWriter, type ChunkWriter } from './chunk-writer.js';
import { MissingBlobError, type FileStorage } from './file-storage.js';

// Tokens per insert (~700 KB): a message batch queued behind an upload waits for one of these, not the whole file.
const INSERT_BATCH = 8;
const READ_BATCH = 16;

export function createDatabaseFileStorage(db: Kysely<Database>, writer: ChunkWriter = kyselyChunkWriter(db)): FileStorage {
  return {
    kind: 'database',

    async write(blobId, tokens) {
      const partial = `${blobId}.partial`;
      await writer.delete([partial]);
      let batch: string[] = [];
      let count = 0;
      // One insert in flight while the next batch is read and encrypted; never more, so an
      // upload takes one place at a time in the writer's queue.
      let pending: Promise<void> = Promise.resolve();
      const flush = async () => {
        await pending;
        const inserting = writer.insert(partial, count - batch.length, batch);
        inserting.catch(() => {}); // awaited at the next flush or the end; not unhandled meanwhile
        pending = inserting;
        batch = [];
      };
      try {
        for await (const token of tokens) {
          batch.push(token);
          count += 1;
          if (batch.length === INSERT_BATCH) await flush();
        }
        if (batch.length > 0) await flush();
        await pending;
      } catch (error) {
        await pending.catch(() => {});
        await writer.delete([partial]);
        throw error;
      }
      await writer.rename(partial, blobId);
      return count;
    },

    // A long range is read in several SELECTs, so a rewrite swapped in between two of them
    // (key rotation: one transaction) gives the old version's first tokens and the new one's
    // last. That is safe: each SELECT sees one committed state (never a gap), and a blob is
    // only ever replaced by rotation with tokens of the same plaintext chunks, each of which a
    // reader decrypts with whichever key it is under (tested in keys-files.test.ts). One
    // snapshot for the whole read would instead hold a transaction open for a download's length.
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
      await writer.delete([blobId, `${blobId}.partial`]);
    },
  };
}
