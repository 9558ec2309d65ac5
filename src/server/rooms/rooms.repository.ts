/** SQL for rooms, memberships and invites. Returns rows. */
import type { Db, RoomInvitesTable, RoomMembersTable, RoomsTable } from '../db/schema.js';

export type RoomRow = RoomsTable;
export type MemberRow = RoomMembersTable;
export type InviteRow = RoomInvitesTable;
export type RoomWithMembershipRow = RoomRow & { role: MemberRow['role'] | null; last_read_seq: number | null; member_count: number };

export function createRoomsRepository() {
  return {
    /** Inserts the room unless its name is taken; true when inserted. */
    async insertIfNameFree(db: Db, room: RoomRow): Promise<boolean> {
      const result = await db
        .insertInto('rooms')
        .values(room)
        .onConflict((conflict) => conflict.column('name_key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async findById(db: Db, id: string): Promise<RoomRow | undefined> {
      return db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async findByNameKey(db: Db, nameKey: string): Promise<RoomRow | undefined> {
      return db.selectFrom('rooms').selectAll().where('name_key', '=', nameKey).executeTakeFirst();
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
  };
}

export type RoomsRepository = ReturnType<typeof createRoomsRepository>;
