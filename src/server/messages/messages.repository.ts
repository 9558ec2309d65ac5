/** SQL for reading messages. New messages are written by the message store (message-store.ts). */
import type { ExpressionBuilder } from 'kysely';
import type { Database, Db, MessagesTable } from '../db/schema.js';

export type MessageRow = MessagesTable;
/** `has_files`: whether it carries stored files (0/1 on SQLite, a boolean on PostgreSQL), so a page without any asks nothing more. */
export type MessageWithSenderRow = MessageRow & { sender_username: string; has_files?: number | boolean | null };

/** `has_files` of a select from messages: whether the row carries stored files (an index probe per row: files_room_message). */
export const hasStoredFiles = (eb: ExpressionBuilder<Database, 'messages'>) =>
  eb
    .exists(
      eb
        .selectFrom('files')
        .select('files.id')
        .whereRef('files.room_id', '=', 'messages.room_id')
        .whereRef('files.message_seq', '=', 'messages.seq')
        .where('files.state', '=', 'stored'),
    )
    .as('has_files');

/** Messages with their senders' names and whether they carry files. */
export function selectWithSender(db: Db) {
  return db
    .selectFrom('messages')
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .selectAll('messages')
    .select('users.username as sender_username')
    .select(hasStoredFiles);
}

export function createMessagesRepository() {
  const withSender = selectWithSender;

  return {
    async findByClientId(db: Db, roomId: string, senderId: string, clientId: string): Promise<MessageWithSenderRow | undefined> {
      return withSender(db)
        .where('messages.room_id', '=', roomId)
        .where('messages.sender_id', '=', senderId)
        .where('messages.client_id', '=', clientId)
        .executeTakeFirst();
    },

    /** The `limit` messages before `beforeSeq` (or the newest), newest first. */
    async pageBefore(db: Db, roomId: string, beforeSeq: number | undefined, limit: number): Promise<MessageWithSenderRow[]> {
      let query = withSender(db).where('messages.room_id', '=', roomId);
      if (beforeSeq !== undefined) query = query.where('messages.seq', '<', beforeSeq);
      return query.orderBy('messages.seq', 'desc').limit(limit).execute();
    },

    async findBySeq(db: Db, roomId: string, seq: number): Promise<MessageWithSenderRow | undefined> {
      return withSender(db).where('messages.room_id', '=', roomId).where('messages.seq', '=', seq).executeTakeFirst();
    },

    async findBySeqs(db: Db, roomId: string, seqs: readonly number[]): Promise<MessageWithSenderRow[]> {
      return withSender(db).where('messages.room_id', '=', roomId).where('messages.seq', 'in', [...seqs]).execute();
    },

    /** The first `limit` messages after `afterSeq`, oldest first. */
    async pageAfter(db: Db, roomId: string, afterSeq: number, limit: number): Promise<MessageWithSenderRow[]> {
      return withSender(db)
        .where('messages.room_id', '=', roomId)
        .where('messages.seq', '>', afterSeq)
        .orderBy('messages.seq', 'asc')
        .limit(limit)
        .execute();
    },
  };
}

export type MessagesRepository = ReturnType<typeof createMessagesRepository>;
