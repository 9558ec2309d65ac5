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
  };
}

export type MentionsRepository = ReturnType<typeof createMentionsRepository>;
