/** SQL for finding people: the prefix search (starting DMs, @mentions) and look-ups by id. */
import { sql } from 'kysely';
import type { DatabaseTarget } from '../config.js';
import type { Db } from '../db/schema.js';

export type UserRefRow = { id: string; username: string };

// Above every character a username may hold (they are ASCII, shared/names.ts): the end of a prefix's range.
const PAST_USERNAME_CHARS = '\u007f';

export function createUsersRepository(dialect: DatabaseTarget['dialect']) {
  return {
    /**
     * Users whose lower-cased username starts with `prefix` (already lower-cased), in name
     * order. A range on username_key, so an index answers it: SQLite's unique index
     * (binary order), PostgreSQL's text_pattern_ops index (the ~>=~ operators compare
     * bytes whatever the database's collation; migration 008).
     */
    async searchByPrefix(db: Db, prefix: string, limit: number): Promise<UserRefRow[]> {
      const end = prefix + PAST_USERNAME_CHARS;
      const range =
        dialect === 'postgres'
          ? sql<boolean>`username_key ~>=~ ${prefix} and username_key ~<~ ${end}`
          : sql<boolean>`username_key >= ${prefix} and username_key < ${end}`;
      const order = dialect === 'postgres' ? sql`username_key collate "C"` : sql`username_key`;
      return db.selectFrom('users').select(['id', 'username']).where(range).orderBy(order).limit(limit).execute();
    },

    /** The users of these ids that exist. */
    async findByIds(db: Db, ids: readonly string[]): Promise<UserRefRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('users').select(['id', 'username']).where('id', 'in', [...ids]).execute();
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
