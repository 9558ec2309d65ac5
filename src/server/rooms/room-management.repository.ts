/** SQL for managing a room: finding a user to add, the ban list, handing over, deleting. Returns rows. */
import type { Db } from '../db/schema.js';

export type BanListRow = { user_id: string; username: string; banned_by: string; banned_by_username: string | null; created_at: number };
export type InvitePreviewRow = {
  room_id: string;
  room_name: string;
  is_private: number;
  member_count: number;
  inviter_username: string;
};

export function createRoomManagementRepository() {
  return {
    async findUserByUsernameKey(db: Db, usernameKey: string): Promise<{ id: string; username: string } | undefined> {
      return db.selectFrom('users').select(['id', 'username']).where('username_key', '=', usernameKey).executeTakeFirst();
    },

    /** The room's bans, oldest first, with the banned user's and the moderator's names. */
    async listBans(db: Db, roomId: string): Promise<BanListRow[]> {
      return db
        .selectFrom('room_bans')
        .innerJoin('users', 'users.id', 'room_bans.user_id')
        .leftJoin('users as by', 'by.id', 'room_bans.banned_by')
        .select(['room_bans.user_id', 'users.username', 'room_bans.banned_by', 'by.username as banned_by_username', 'room_bans.created_at'])
        .where('room_bans.room_id', '=', roomId)
        .orderBy('room_bans.created_at')
        .orderBy('users.username_key')
        .execute();
    },

    /** What an invite link shows: its room, the room's size and the inviter's name. */
    async invitePreview(db: Db, roomId: string, inviterId: string): Promise<InvitePreviewRow | undefined> {
      return db
        .selectFrom('rooms')
        .innerJoin('users as inviter', (join) => join.on('inviter.id', '=', inviterId))
        .select(['rooms.id as room_id', 'rooms.name as room_name', 'rooms.is_private', 'inviter.username as inviter_username'])
        .select((eb) =>
          eb.selectFrom('room_members as counted').select(eb.fn.countAll<number>().as('n')).whereRef('counted.room_id', '=', 'rooms.id').as('member_count'),
        )
        .where('rooms.id', '=', roomId)
        .executeTakeFirst() as Promise<InvitePreviewRow | undefined>;
    },

    /** The room and everything in it (members, messages, invites, bans, events: by their cascades). */
    async deleteRoom(db: Db, roomId: string): Promise<boolean> {
      const result = await db.deleteFrom('rooms').where('id', '=', roomId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async countOthers(db: Db, roomId: string, userId: string): Promise<number> {
      const row = await db
        .selectFrom('room_members')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('room_id', '=', roomId)
        .where('user_id', '!=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type RoomManagementRepository = ReturnType<typeof createRoomManagementRepository>;
