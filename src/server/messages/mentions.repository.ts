/** SQL for mentions: which members a message's `@names` are. (They are stored by the message store.) */
import type { Db } from '../db/schema.js';

export function createMentionsRepository() {
  return {
    /** The room's members whose lower-cased usernames are among `keys`. */
    async membersNamed(db: Db, roomId: string, keys: readonly string[]): Promise<string[]> {
      if (keys.length === 0) return [];
      const rows = await db
        .selectFrom('room_members')
        .innerJoin('users', 'users.id', 'room_members.user_id')
        .select('users.id')
        .where('room_members.room_id', '=', roomId)
        .where('users.username_key', 'in', [...keys])
        .execute();
      return rows.map((row) => row.id);
    },

    /** After an edit: the message mentions exactly `userIds` now (on the row and in message_mentions). */
    async replaceForMessage(db: Db, roomId: string, seq: number, userIds: readonly string[]): Promise<void> {
      await db.deleteFrom('message_mentions').where('room_id', '=', roomId).where('seq', '=', seq).execute();
      if (userIds.length > 0) await db.insertInto('message_mentions').values(userIds.map((user_id) => ({ room_id: roomId, user_id, seq }))).execute();
      await db
        .updateTable('messages')
        .set({ mention_ids: userIds.length > 0 ? userIds.join(',') : null })
        .where('room_id', '=', roomId)
        .where('seq', '=', seq)
        .execute();
    },
  };
}

export type MentionsRepository = ReturnType<typeof createMentionsRepository>;
