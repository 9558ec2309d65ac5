/** SQL for rooms, memberships and invites. Returns rows. */
import { sql } from 'kysely';
import type { DatabaseTarget } from '../config.js';
import { precompiled } from '../db/precompiled.js';
import type { Db, RoomMembersTable, RoomsTable } from '../db/schema.js';

export type RoomRow = RoomsTable;
export type MemberRow = RoomMembersTable;
export type Role = MemberRow['role'];
/** A room as one user sees it: their role (null when not a member) and the member count. */
export type RoomViewRow = RoomRow & { role: Role | null; last_read_seq: number | null; member_count: number };
/** Just what an authorization decision needs: one indexed lookup on the hot path. */
export type RoomAccessRow = Pick<RoomRow, 'id' | 'is_private' | 'last_seq' | 'kind'> & { role: Role | null };
export type MemberWithUserRow = { user_id: string; username: string; user_created_at: number; role: Role; joined_at: number };

/** One (user, room) pair of findAccessMany, and where it stood in the list. */
type AccessPair = { position: number; user_id: string; room_id: string };

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function createRoomsRepository(dialect: DatabaseTarget['dialect']) {
  /**
   * The pairs arrive as one JSON array, so the statement's text is the same for any number
   * of pairs: it is built and compiled once, and SQLite's prepared statement is reused
   * (an IN list per batch was a new query to build, compile and prepare every time).
   */
  const pairsFrom = (json: string) =>
    dialect === 'sqlite'
      ? sql<AccessPair>`(select key as position, value ->> 'userId' as user_id, value ->> 'roomId' as room_id from json_each(${json}))`
      : sql<AccessPair>`(select n - 1 as position, value ->> 'userId' as user_id, value ->> 'roomId' as room_id
             from json_array_elements(${json}::json) with ordinality as elements(value, n))`;
  const accessManyQuery = precompiled((db: Db, json: string) =>
    db
      .selectFrom(pairsFrom(json).as('pairs'))
      .innerJoin('rooms', 'rooms.id', 'pairs.room_id')
      .leftJoin('room_members as mine', (join) => join.onRef('mine.room_id', '=', 'rooms.id').onRef('mine.user_id', '=', 'pairs.user_id'))
      .select(['pairs.position', 'rooms.id', 'rooms.is_private', 'rooms.last_seq', 'rooms.kind', 'mine.role as role']),
  );
  const accessQuery = precompiled((db: Db, userId: string, roomId: string) =>
    db
      .selectFrom('rooms')
      .leftJoin('room_members as mine', (join) => join.onRef('mine.room_id', '=', 'rooms.id').on('mine.user_id', '=', userId))
      .select(['rooms.id', 'rooms.is_private', 'rooms.last_seq', 'rooms.kind', 'mine.role as role'])
      .where('rooms.id', '=', roomId),
  );

  /** Rooms with the viewer's membership and member count, filtered by `where`. */
  function roomViews(db: Db, viewerId: string) {
    return db
      .selectFrom('rooms')
      .leftJoin('room_members as mine', (join) =>
        join.onRef('mine.room_id', '=', 'rooms.id').on('mine.user_id', '=', viewerId),
      )
      .selectAll('rooms')
      .select(['mine.role as role', 'mine.last_read_seq as last_read_seq'])
      .select((eb) =>
        eb
          .selectFrom('room_members as counted')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('counted.room_id', '=', 'rooms.id')
          .as('member_count'),
      );
  }

  return {
    async insert(db: Db, room: RoomRow): Promise<void> {
      await db.insertInto('rooms').values(room).execute();
    },

    /** Reserves a public room's name keys unless one is held already; true when all were free. */
    async reserveNameKeys(db: Db, roomId: string, keys: readonly string[]): Promise<boolean> {
      const result = await db
        .insertInto('room_name_keys')
        .values(keys.map((key) => ({ key, room_id: roomId })))
        .onConflict((conflict) => conflict.column('key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === keys.length;
    },

    /**
     * The public room of exactly this lower-cased name, the oldest if an old database has
     * more: not whichever holds its look-alike keys (an older look-alike may hold them).
     */
    async findPublicByExactNameKey(db: Db, nameKey: string): Promise<RoomRow | undefined> {
      return db
        .selectFrom('rooms')
        .selectAll()
        .where('name_key', '=', nameKey)
        .where('is_private', '=', 0)
        .orderBy('created_at')
        .orderBy('id')
        .executeTakeFirst();
    },

    /**
     * One first registration at a time creates General, until its transaction ends.
     * PostgreSQL: a transaction-scoped advisory lock (the look-alike keys cannot decide this
     * race when an older look-alike room already holds them); SQLite has one writer at a time.
     */
    async lockGeneralCreation(db: Db): Promise<void> {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('securechat:create-general'))`.execute(db);
    },

    /** The public room of that lower-cased name (private rooms share names freely). */
    async findPublicByNameKey(db: Db, nameKey: string): Promise<RoomRow | undefined> {
      return db.selectFrom('rooms').selectAll().where('name_key', '=', nameKey).where('is_private', '=', 0).executeTakeFirst();
    },

    /** The room and the caller's role in it: every send and read asks this first. */
    async findAccess(db: Db, userId: string, roomId: string): Promise<RoomAccessRow | undefined> {
      return (await accessQuery(db, userId, roomId))[0];
    },

    /** findAccess for several (user, room) pairs in one query, answers in the pairs' order. */
    async findAccessMany(db: Db, pairs: ReadonlyArray<{ userId: string; roomId: string }>): Promise<Array<RoomAccessRow | undefined>> {
      // Well-formed first, as a plain parameter would be sent (a lone surrogate becomes U+FFFD):
      // a socket frame's id can be any string, and PostgreSQL refuses the JSON escape of a
      // lone surrogate, which would fail every check in the batch, not just that one.
      const json = JSON.stringify(pairs.map(({ userId, roomId }) => ({ userId: userId.toWellFormed(), roomId: roomId.toWellFormed() })));
      const rows = await accessManyQuery(db, json);
      const answers = new Array<RoomAccessRow | undefined>(pairs.length).fill(undefined);
      for (const { position, ...access } of rows) answers[Number(position)] = access;
      return answers;
    },

    async findView(db: Db, viewerId: string, roomId: string): Promise<RoomViewRow | undefined> {
      return roomViews(db, viewerId).where('rooms.id', '=', roomId).executeTakeFirst() as Promise<RoomViewRow | undefined>;
    },

    async listForMember(db: Db, userId: string): Promise<RoomViewRow[]> {
      return roomViews(db, userId)
        .where('mine.user_id', 'is not', null)
        .orderBy('rooms.name_key')
        .execute() as Promise<RoomViewRow[]>;
    },

    async listPublic(db: Db, viewerId: string, query: string, limit: number): Promise<RoomViewRow[]> {
      let select = roomViews(db, viewerId).where('rooms.is_private', '=', 0);
      if (query) select = select.where(sql<boolean>`rooms.name_key like ${likeContains(query.toLowerCase())} escape '\\'`);
      return select.orderBy('rooms.name_key').limit(limit).execute() as Promise<RoomViewRow[]>;
    },

    /** The room ids the user belongs to, with each room's last seq and change counter (for hello frames). */
    async roomSeqsForMember(db: Db, userId: string): Promise<Array<{ id: string; last_seq: number; last_change?: number }>> {
      return db
        .selectFrom('room_members')
        .innerJoin('rooms', 'rooms.id', 'room_members.room_id')
        .select(['rooms.id', 'rooms.last_seq', 'rooms.last_change'])
        .where('room_members.user_id', '=', userId)
        .execute();
    },

    async findMember(db: Db, roomId: string, userId: string): Promise<MemberRow | undefined> {
      return db
        .selectFrom('room_members')
        .selectAll()
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
    },

    async listMembers(db: Db, roomId: string): Promise<MemberWithUserRow[]> {
      return db
        .selectFrom('room_members')
        .innerJoin('users', 'users.id', 'room_members.user_id')
        .select([
          'room_members.user_id',
          'users.username',
          'users.created_at as user_created_at',
          'room_members.role',
          'room_members.joined_at',
        ])
        .where('room_members.room_id', '=', roomId)
        .orderBy('room_members.joined_at')
        .execute();
    },

    /** Adds a member unless already one; true when added. */
    async addMember(db: Db, member: MemberRow): Promise<boolean> {
      const result = await db
        .insertInto('room_members')
        .values(member)
        .onConflict((conflict) => conflict.columns(['room_id', 'user_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async removeMember(db: Db, roomId: string, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async setRole(db: Db, roomId: string, userId: string, role: Role): Promise<void> {
      await db.updateTable('room_members').set({ role }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();
    },

    /**
     * Takes the room's row lock first in a transaction that will change the room and its
     * members (an owner leaving): the message batch locks rooms before member rows, so both
     * wait in one order. SQLite has one writer at a time and needs no lock.
     */
    async lockRoom(db: Db, roomId: string): Promise<void> {
      if (dialect === 'postgres') await sql`select id from rooms where id = ${roomId} for no key update`.execute(db);
    },

    /**
     * Serializes changes to one user's membership of one room until the transaction ends: a
     * join checks for a ban and adds the member, a ban removes the member and records the ban,
     * and neither may run between the other's two steps. PostgreSQL: a transaction-scoped
     * advisory lock on the pair (not the room's row, which every message batch takes); SQLite
     * transactions begin immediate, one writer at a time, and need no lock. Two pairs whose
     * hashes collide only wait for each other.
     */
    async lockMembership(db: Db, roomId: string, userId: string): Promise<void> {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${roomId}), hashtext(${userId}))`.execute(db);
    },

    async setOwner(db: Db, roomId: string, ownerId: string): Promise<void> {
      await db.updateTable('rooms').set({ owner_id: ownerId }).where('id', '=', roomId).execute();
    },

    /** Moves the read marker forward only. */
    async advanceReadMarker(db: Db, roomId: string, userId: string, seq: number): Promise<void> {
      await db
        .updateTable('room_members')
        .set({ last_read_seq: seq })
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .where('last_read_seq', '<', seq)
        .execute();
    },

    async insertBan(db: Db, ban: { room_id: string; user_id: string; banned_by: string; created_at: number }): Promise<void> {
      await db
        .insertInto('room_bans')
        .values(ban)
        .onConflict((conflict) => conflict.columns(['room_id', 'user_id']).doNothing())
        .execute();
    },

    async deleteBan(db: Db, roomId: string, userId: string): Promise<boolean> {
      const result = await db.deleteFrom('room_bans').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async isBanned(db: Db, roomId: string, userId: string): Promise<boolean> {
      const row = await db
        .selectFrom('room_bans')
        .select('user_id')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type RoomsRepository = ReturnType<typeof createRoomsRepository>;
