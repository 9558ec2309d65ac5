/** SQL for invite links: creating, finding, counting uses, revoking, and who may not use which. Returns rows. */
import type { Db, RoomInvitesTable, RoomMembersTable } from '../db/schema.js';
import { liveInvite } from './invite-liveness.js';

export type InviteRow = RoomInvitesTable;
/** An invite with its creator's name and their role in the room now (null: no longer a member). */
export type InviteListRow = InviteRow & { creator_username: string; creator_role: RoomMembersTable['role'] | null };

export function createInvitesRepository() {
  return {
    async insertInvite(db: Db, invite: InviteRow): Promise<void> {
      await db.insertInto('room_invites').values(invite).execute();
    },

    async findInviteByCodeHash(db: Db, codeHash: string): Promise<InviteRow | undefined> {
      return db.selectFrom('room_invites').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    },

    /** Counts one use of the invite if it is still valid at `now`; false when it is not. */
    async useInvite(db: Db, inviteId: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('room_invites')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('id', '=', inviteId)
        .where(liveInvite(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The room's invites that are not revoked, expired or used up at `now`, newest first. */
    async listLive(db: Db, roomId: string, now: number): Promise<InviteListRow[]> {
      return db
        .selectFrom('room_invites')
        .innerJoin('users as creator', 'creator.id', 'room_invites.created_by')
        .leftJoin('room_members as creator_member', (join) =>
          join.onRef('creator_member.room_id', '=', 'room_invites.room_id').onRef('creator_member.user_id', '=', 'room_invites.created_by'),
        )
        .selectAll('room_invites')
        .select(['creator.username as creator_username', 'creator_member.role as creator_role'])
        .where('room_invites.room_id', '=', roomId)
        .where(liveInvite(now))
        .orderBy('room_invites.created_at', 'desc')
        .orderBy('room_invites.id', 'desc')
        .execute();
    },

    /** Revokes one invite of the room; false when the room has no such unrevoked invite. */
    async revoke(db: Db, roomId: string, inviteId: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('room_invites')
        .set({ revoked_at: now })
        .where('id', '=', inviteId)
        .where('room_id', '=', roomId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Revokes every invite a user made in the room (they lost the right to invite, or left). */
    async revokeMadeBy(db: Db, roomId: string, creatorId: string, now: number): Promise<void> {
      await db
        .updateTable('room_invites')
        .set({ revoked_at: now })
        .where('room_id', '=', roomId)
        .where('created_by', '=', creatorId)
        .where('revoked_at', 'is', null)
        .execute();
    },

    /** Keeps the user from using any live invite the room has now (they are being removed or banned); dead ones need no row. */
    async excludeFromExisting(db: Db, roomId: string, userId: string, now: number): Promise<void> {
      await db
        .insertInto('room_invite_exclusions')
        .columns(['invite_id', 'user_id'])
        .expression((eb) =>
          eb
            .selectFrom('room_invites')
            .select((inner) => ['id', inner.val(userId).as('user_id')])
            .where('room_id', '=', roomId)
            .where(liveInvite(now)),
        )
        .onConflict((conflict) => conflict.columns(['invite_id', 'user_id']).doNothing())
        .execute();
    },

    async isExcluded(db: Db, inviteId: string, userId: string): Promise<boolean> {
      const row = await db
        .selectFrom('room_invite_exclusions')
        .select('user_id')
        .where('invite_id', '=', inviteId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type InvitesRepository = ReturnType<typeof createInvitesRepository>;
