/** SQL for reactions: one row per user, emoji and message. */
import type { Reaction } from '../../shared/protocol.js';
import type { Db } from '../db/schema.js';

export function createReactionsRepository() {
  return {
    /** Adds the reaction; false when the user had already reacted with it. */
    async add(db: Db, row: { room_id: string; seq: number; emoji: string; user_id: string; created_at: number }): Promise<boolean> {
      const existing = await db
        .selectFrom('message_reactions')
        .select('user_id')
        .where('room_id', '=', row.room_id)
        .where('seq', '=', row.seq)
        .where('emoji', '=', row.emoji)
        .where('user_id', '=', row.user_id)
        .executeTakeFirst();
      if (existing) return false;
      await db.insertInto('message_reactions').values(row).execute();
      return true;
    },

    /** Removes the reaction; false when there was none. */
    async remove(db: Db, roomId: string, seq: number, emoji: string, userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('message_reactions')
        .where('room_id', '=', roomId)
        .where('seq', '=', seq)
        .where('emoji', '=', emoji)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** The distinct emoji on the message. */
    async emojiOf(db: Db, roomId: string, seq: number): Promise<string[]> {
      const rows = await db.selectFrom('message_reactions').select('emoji').distinct().where('room_id', '=', roomId).where('seq', '=', seq).execute();
      return rows.map((row) => row.emoji);
    },

    async removeAll(db: Db, roomId: string, seq: number): Promise<void> {
      await db.deleteFrom('message_reactions').where('room_id', '=', roomId).where('seq', '=', seq).execute();
    },

    /** The reactions of these messages, by seq: emoji in the order first used, users first first. */
    async forMessages(db: Db, roomId: string, seqs: readonly number[]): Promise<Map<number, Reaction[]>> {
      const bySeq = new Map<number, Reaction[]>();
      if (seqs.length === 0) return bySeq;
      const rows = await db
        .selectFrom('message_reactions')
        .select(['seq', 'emoji', 'user_id'])
        .where('room_id', '=', roomId)
        .where('seq', 'in', [...seqs])
        .orderBy('seq')
        .orderBy('created_at')
        .orderBy('user_id')
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        let reactions = bySeq.get(seq);
        if (!reactions) bySeq.set(seq, (reactions = []));
        const entry = reactions.find((r) => r.emoji === row.emoji);
        if (entry) entry.userIds.push(row.user_id);
        else reactions.push({ emoji: row.emoji, userIds: [row.user_id] });
      }
      return bySeq;
    },
  };
}

export type ReactionsRepository = ReturnType<typeof createReactionsRepository>;
