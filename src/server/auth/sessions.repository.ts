/** SQL for server-side sessions. */
import { sql } from 'kysely';
import type { DatabaseTarget } from '../config.js';
import { precompiled } from '../db/precompiled.js';
import type { Db, SessionsTable } from '../db/schema.js';

export type SessionRow = SessionsTable;
export type SessionWithUserRow = SessionRow & { username: string; user_created_at: number };

/** Sessions with their user's name and creation time. */
const sessionsWithUsers = (db: Db) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select(['users.username as username', 'users.created_at as user_created_at']);

export function createSessionsRepository(dialect: DatabaseTarget['dialect']) {
  const sessionWithUserQuery = precompiled((db: Db, tokenHash: string) => sessionsWithUsers(db).where('sessions.token_hash', '=', tokenHash));
  // The hashes arrive as one JSON array, so the text is the same for any number of them:
  // built and compiled once, and prepared once on SQLite (an IN list was a new query each
  // time, as the access checks' was: rooms.repository.ts).
  const hashesFrom = (json: string) =>
    dialect === 'sqlite' ? sql<string>`(select value from json_each(${json}))` : sql<string>`(select json_array_elements_text(${json}::json))`;
  const sessionsWithUsersQuery = precompiled((db: Db, json: string) => sessionsWithUsers(db).where('sessions.token_hash', 'in', hashesFrom(json)));

  return {
    async insert(db: Db, session: SessionRow): Promise<void> {
      await db.insertInto('sessions').values(session).execute();
    },

    /** The session and its user in one query: this runs on every authenticated request. */
    async findWithUserByTokenHash(db: Db, tokenHash: string): Promise<SessionWithUserRow | undefined> {
      return (await sessionWithUserQuery(db, tokenHash))[0];
    },

    /** findWithUserByTokenHash for several tokens in one query, answers in the tokens' order. */
    async findWithUserByTokenHashes(db: Db, tokenHashes: readonly string[]): Promise<Array<SessionWithUserRow | undefined>> {
      const rows = await sessionsWithUsersQuery(db, JSON.stringify([...new Set(tokenHashes)]));
      const byHash = new Map(rows.map((row) => [row.token_hash, row]));
      // A copy each: a caller's changes (last_seen_at) stay its own.
      return tokenHashes.map((hash) => {
        const row = byHash.get(hash);
        return row && { ...row };
      });
    },

    async findById(db: Db, id: string): Promise<SessionRow | undefined> {
      return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async listForUser(db: Db, userId: string, now: number): Promise<SessionRow[]> {
      return db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .orderBy('last_seen_at', 'desc')
        .execute();
    },

    async touch(db: Db, id: string, now: number): Promise<void> {
      await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
    },

    async delete(db: Db, id: string): Promise<void> {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
    },

    /** Deletes one of the user's sessions; false when it is not theirs or already gone. */
    async deleteForUser(db: Db, userId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('sessions').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async deleteAllForUserExcept(db: Db, userId: string, keepId: string): Promise<void> {
      await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepId).execute();
    },

    /** Deletes sessions past their expiry or unused since `idleCutoff`. */
    async deleteExpired(db: Db, now: number, idleCutoff: number): Promise<void> {
      await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleCutoff)]))
        .execute();
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
