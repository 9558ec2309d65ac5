/** SQL for direct messages: the room of a set of people, and the people of DMs. Returns rows. */
import type { Db, RoomMembersTable, RoomsTable } from '../db/schema.js';

export type DmMemberRow = { room_id: string; id: string; username: string };

export function createDmsRepository() {
  return {
    /** Inserts the DM unless its set of people has one already (the unique dm_key); true when inserted. */
    async insertIfNew(db: Db, room: RoomsTable): Promise<boolean> {
      // On PostgreSQL a concurrent insert of the same key waits for the other transaction,
      // then does nothing if it committed: the caller then reads the winner's room.
      const result = await db
        .insertInto('rooms')
        .values(room)
        .onConflict((conflict) => conflict.column('dm_key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async findByKey(db: Db, key: string): Promise<RoomsTable | undefined> {
      return db.selectFrom('rooms').selectAll().where('dm_key', '=', key).executeTakeFirst();
    },

    async insertMembers(db: Db, members: RoomMembersTable[]): Promise<void> {
      await db.insertInto('room_members').values(members).execute();
    },

    /** The people of these DMs, each DM's in the order they joined (then by name). */
    async membersOf(db: Db, roomIds: readonly string[]): Promise<DmMemberRow[]> {
      if (roomIds.length === 0) return [];
      return db
        .selectFrom('room_members')
        .innerJoin('users', 'users.id', 'room_members.user_id')
        .select(['room_members.room_id', 'users.id', 'users.username'])
        .where('room_members.room_id', 'in', [...roomIds])
        .orderBy('room_members.joined_at')
        .orderBy('users.username_key')
        .execute();
    },
  };
}

export type DmsRepository = ReturnType<typeof createDmsRepository>;
