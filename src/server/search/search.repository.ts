/** SQL for search: the messages the index is built from, the caller's rooms, and the reindex generation. */
import type { Db, RoomsTable } from '../db/schema.js';
import { hasStoredFiles } from '../messages/messages.repository.js';

/** A message as the index is built from it (its body still a token). */
export interface IndexSourceRow {
  room_id: string;
  seq: number;
  sender_id: string;
  created_at: number;
  change_seq?: number | null;
  body_ciphertext: string;
  body_key_id: string | null;
  has_files: number | boolean | null;
}

export function createSearchRepository() {
  return {
    /** Messages not deleted, for the progress bar. */
    async countMessages(db: Db): Promise<number> {
      const row = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('count')).where('deleted_at', 'is', null).executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    async roomIds(db: Db): Promise<string[]> {
      return (await db.selectFrom('rooms').select('id').orderBy('id').execute()).map((row) => row.id);
    },

    /** A room's messages after `afterSeq`, not deleted, in seq order. */
    async roomPage(db: Db, roomId: string, afterSeq: number, limit: number): Promise<IndexSourceRow[]> {
      return db
        .selectFrom('messages')
        .select(['messages.room_id', 'messages.seq', 'messages.sender_id', 'messages.created_at', 'messages.change_seq', 'messages.body_ciphertext', 'messages.body_key_id'])
        .select(hasStoredFiles)
        .where('messages.room_id', '=', roomId)
        .where('messages.seq', '>', afterSeq)
        .where('messages.deleted_at', 'is', null)
        .orderBy('messages.seq')
        .limit(limit)
        .execute();
    },

    async rooms(db: Db, ids: readonly string[]): Promise<Pick<RoomsTable, 'id' | 'name' | 'kind'>[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('rooms').select(['id', 'name', 'kind']).where('id', 'in', [...ids]).execute();
    },

    /** The user with this username (case-insensitive, as sign-in). */
    async userIdByUsername(db: Db, username: string): Promise<string | undefined> {
      return (await db.selectFrom('users').select('id').where('username_key', '=', username.toLowerCase()).executeTakeFirst())?.id;
    },

    async generation(db: Db): Promise<number> {
      return Number((await db.selectFrom('search_state').select('generation').where('id', '=', 1).executeTakeFirst())?.generation ?? 0);
    },

    async bumpGeneration(db: Db): Promise<void> {
      await db
        .updateTable('search_state')
        .set((eb) => ({ generation: eb('generation', '+', 1) }))
        .where('id', '=', 1)
        .execute();
    },
  };
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
