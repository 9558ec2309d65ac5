/**
 * SQL for edits and deletes, and the room's change counter that orders them (with
 * reaction changes) for catch-up: `rooms.last_change`, copied into `messages.change_seq`.
 */
import type { Db, MessageEditsTable } from '../db/schema.js';
import { selectWithSender, type MessageWithSenderRow } from './messages.repository.js';

export function createMessageChangesRepository() {
  return {
    /**
     * The room's next change number. The update also locks the room's row (PostgreSQL) or
     * the database (SQLite) until commit: a room's changes are numbered and applied one at a time.
     */
    async nextChange(db: Db, roomId: string): Promise<number | undefined> {
      const row = await db
        .updateTable('rooms')
        .set((eb) => ({ last_change: eb('last_change', '+', 1) }))
        .where('id', '=', roomId)
        .returning('last_change')
        .executeTakeFirst();
      return row ? Number(row.last_change) : undefined;
    },

    async lastChange(db: Db, roomId: string): Promise<number> {
      const row = await db.selectFrom('rooms').select('last_change').where('id', '=', roomId).executeTakeFirst();
      return Number(row?.last_change ?? 0);
    },

    async stamp(db: Db, roomId: string, seq: number, change: number): Promise<void> {
      await db.updateTable('messages').set({ change_seq: change }).where('room_id', '=', roomId).where('seq', '=', seq).execute();
    },

    /** Keeps the current body as an earlier version and puts the new one in its place. */
    async replaceBody(
      db: Db,
      current: MessageWithSenderRow,
      next: { ciphertext: string; keyId: string; editedAt: number; change: number; versionId: string },
    ): Promise<void> {
      await db
        .insertInto('message_edits')
        .values({
          id: next.versionId,
          room_id: current.room_id,
          seq: Number(current.seq),
          body_format: current.body_format,
          body_ciphertext: current.body_ciphertext,
          body_key_id: current.body_key_id,
          edited_at: next.editedAt,
          change_seq: next.change,
        })
        .execute();
      await db
        .updateTable('messages')
        .set({ body_ciphertext: next.ciphertext, body_key_id: next.keyId, edited_at: next.editedAt, change_seq: next.change })
        .where('id', '=', current.id)
        .execute();
    },

    /** The tombstone: the body's ciphertext overwritten (not flagged) and every earlier version deleted. */
    async erase(db: Db, roomId: string, seq: number, deletedAt: number, change: number): Promise<void> {
      await db.deleteFrom('message_edits').where('room_id', '=', roomId).where('seq', '=', seq).execute();
      // Its mentions go with it: they no longer count, and nobody learns who was named.
      await db.deleteFrom('message_mentions').where('room_id', '=', roomId).where('seq', '=', seq).execute();
      await db
        .updateTable('messages')
        .set({ body_ciphertext: '', body_key_id: null, mention_ids: null, reply_to_seq: null, deleted_at: deletedAt, change_seq: change })
        .where('room_id', '=', roomId)
        .where('seq', '=', seq)
        .execute();
    },

    /** The earlier versions, newest first. */
    async versions(db: Db, roomId: string, seq: number): Promise<MessageEditsTable[]> {
      return db.selectFrom('message_edits').selectAll().where('room_id', '=', roomId).where('seq', '=', seq).orderBy('change_seq', 'desc').execute();
    },

    /** Messages changed after change `after`, in change order, with their senders. */
    async changedAfter(db: Db, roomId: string, after: number, limit: number): Promise<MessageWithSenderRow[]> {
      return selectWithSender(db)
        .where('messages.room_id', '=', roomId)
        .where('messages.change_seq', '>', after)
        .orderBy('messages.change_seq', 'asc')
        .limit(limit)
        .execute();
    },
  };
}

export type MessageChangesRepository = ReturnType<typeof createMessageChangesRepository>;
