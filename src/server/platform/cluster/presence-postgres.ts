/**
 * The presence store in PostgreSQL (the `presence` table): one row per (user, instance)
 * holding a socket of the user. Every change to a user's rows runs in a transaction
 * holding an advisory lock on that user, so two instances deciding "first socket" or
 * "last socket" at the same moment are ordered and exactly one of them sees the
 * transition. Time is the database's clock, so instances' clocks need not agree.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Db } from '../../db/schema.js';
import type { PresenceStore } from './presence.js';

const NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** First key of the advisory lock pair: "presence" (the second is a hash of the user id). */
const LOCK_SPACE = 0x7072_6573;
const SWEEP_BATCH = 500;

export interface PostgresPresenceOptions {
  db: Kysely<Database>;
  instanceId: string;
  /** A row not refreshed for this long belongs to a stopped instance. */
  ttlMs: number;
}

export function createPostgresPresenceStore({ db, instanceId, ttlMs }: PostgresPresenceOptions): PresenceStore {
  const cutoff = sql<number>`${NOW_MS} - ${ttlMs}`;

  async function lockUser(trx: Db, userId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(${LOCK_SPACE}, hashtext(${userId}))`.execute(trx);
  }

  /** Removes the user's expired rows: an instance that stopped left them behind. */
  async function dropExpired(trx: Db, userId: string): Promise<number> {
    const result = await trx.deleteFrom('presence').where('user_id', '=', userId).where('heartbeat_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async function liveRows(trx: Db, userId: string): Promise<number> {
    const row = await trx
      .selectFrom('presence')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  return {
    async add(userId) {
      return db.transaction().execute(async (trx) => {
        await lockUser(trx, userId);
        // Expired rows go silently: whoever sweeps them later finds nothing, so no
        // late "offline" follows this "online".
        await dropExpired(trx, userId);
        const before = await liveRows(trx, userId);
        await trx
          .insertInto('presence')
          .values({ user_id: userId, instance_id: instanceId, heartbeat_at: NOW_MS })
          .onConflict((oc) => oc.columns(['user_id', 'instance_id']).doUpdateSet({ heartbeat_at: NOW_MS }))
          .execute();
        return before === 0;
      });
    },

    async remove(userId) {
      return db.transaction().execute(async (trx) => {
        await lockUser(trx, userId);
        const removed = await trx
          .deleteFrom('presence')
          .where('user_id', '=', userId)
          .where('instance_id', '=', instanceId)
          .executeTakeFirst();
        if (Number(removed.numDeletedRows) === 0) return false;
        await dropExpired(trx, userId);
        return (await liveRows(trx, userId)) === 0;
      });
    },

    async online(userIds) {
      const rows = await db
        .selectFrom('presence')
        .select('user_id')
        .distinct()
        .where('user_id', 'in', [...userIds])
        .where('heartbeat_at', '>=', cutoff)
        .execute();
      return new Set(rows.map((row) => row.user_id));
    },

    async heartbeat() {
      const rows = await db
        .updateTable('presence')
        .set({ heartbeat_at: NOW_MS })
        .where('instance_id', '=', instanceId)
        .returning('user_id')
        .execute();
      return rows.map((row) => row.user_id);
    },

    async sweep() {
      const stale = await db
        .selectFrom('presence')
        .select('user_id')
        .distinct()
        .where('heartbeat_at', '<', cutoff)
        .limit(SWEEP_BATCH)
        .execute();
      const offline: string[] = [];
      for (const { user_id: userId } of stale) {
        const wentOffline = await db.transaction().execute(async (trx) => {
          await lockUser(trx, userId);
          // Another instance may have swept (or a connect dropped) these rows meanwhile:
          // only the one that deletes them reports the user.
          if ((await dropExpired(trx, userId)) === 0) return false;
          return (await liveRows(trx, userId)) === 0;
        });
        if (wentOffline) offline.push(userId);
      }
      return offline;
    },

    async removeAll() {
      await db.deleteFrom('presence').where('instance_id', '=', instanceId).execute();
    },
  };
}
