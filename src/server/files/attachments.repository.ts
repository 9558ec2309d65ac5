/**
 * SQL for the files messages carry: the send path's check, a page's files in one query,
 * and a deleted message's files released. (Attaching is done by the message store, in the
 * send's own transaction: message-store.ts and the SQLite writer thread.)
 */
import type { Db, FilesTable } from '../db/schema.js';

/** What the messages side reads of a file: enough to check it and to present it. */
export type AttachmentRow = Pick<FilesTable, 'id' | 'room_id' | 'uploader_id' | 'state' | 'message_seq' | 'size' | 'meta_ciphertext' | 'meta_key_id' | 'created_at'>;

const COLUMNS = ['id', 'room_id', 'uploader_id', 'state', 'message_seq', 'size', 'meta_ciphertext', 'meta_key_id', 'created_at'] as const;

export function createAttachmentsRepository() {
  return {
    /** The files with these ids (any room, any state): the send path checks each. */
    async byIds(db: Db, ids: readonly string[]): Promise<AttachmentRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('files').select(COLUMNS).where('id', 'in', [...ids]).execute();
    },

    /** The stored files of these messages of the room, by message then upload order. */
    async ofMessages(db: Db, roomId: string, seqs: readonly number[]): Promise<AttachmentRow[]> {
      if (seqs.length === 0) return [];
      return db
        .selectFrom('files')
        .select(COLUMNS)
        .where('room_id', '=', roomId)
        .where('message_seq', 'in', [...seqs])
        .where('state', '=', 'stored')
        .orderBy('message_seq')
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    /** The message was deleted: its files stop being served at once (their bytes are purged later). */
    async release(db: Db, roomId: string, seq: number): Promise<number> {
      const result = await db
        .updateTable('files')
        .set({ state: 'released' })
        .where('room_id', '=', roomId)
        .where('message_seq', '=', seq)
        .where('state', '=', 'stored')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type AttachmentsRepository = ReturnType<typeof createAttachmentsRepository>;
