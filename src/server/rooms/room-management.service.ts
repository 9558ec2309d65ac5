/**
 * Managing a room as a person does: the invite page (who invited, to which room), adding
 * a member by username, the ban list, handing ownership over, and deleting the room. Every
 * change is published on the bus after commit, so sockets on every instance follow.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { normaliseName } from '../../shared/names.js';
import type { Ban, InvitePreview, Member } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Database, Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Presence } from '../platform/cluster/presence.js';
import { deadReason } from './invite-liveness.js';
import type { InvitesRepository } from './invites.repository.js';
import type { RoomManagementRepository } from './room-management.repository.js';
import { roomNotFound, type RoomAccess } from './rooms.access.js';
import { actsOnOther, allows, mustHandOver } from './rooms.policy.js';
import { presentMember } from './rooms.presenter.js';
import type { RoomsRepository } from './rooms.repository.js';

const inviteNotFound = () => new AppError(404, 'invite_not_found', 'This invite link is not valid; ask for a new one.');

/** A room's files, deleted with it: the rows by the cascade, the bytes once the delete committed. */
export interface RoomFiles {
  collectRoomBlobs(trx: Db, roomId: string): Promise<() => Promise<void>>;
  /** Runs the deletion of the bytes (it reports its own failure: the room is gone either way). */
  afterRoomDeleted(deleteBytes: () => Promise<void>): void;
}

export function createRoomManagementService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  invites: InvitesRepository;
  management: RoomManagementRepository;
  access: RoomAccess;
  clock: Clock;
  bus: Bus;
  presence: Presence;
  files: RoomFiles;
}) {
  const { db, rooms, invites, management, access, clock, bus, presence, files } = deps;

  /** Deletes the room (its room row first, as the message batch locks it), then its files' bytes, and tells its sockets. */
  async function deleteLocked(roomId: string, check: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
    const deleteFiles = await db.transaction().execute(async (trx) => {
      await rooms.lockRoom(trx, roomId);
      await check(trx);
      const collected = await files.collectRoomBlobs(trx, roomId);
      if (!(await management.deleteRoom(trx, roomId))) throw roomNotFound();
      return collected;
    });
    files.afterRoomDeleted(deleteFiles);
    await bus.publish({ kind: 'room-deleted', roomId });
  }

  return {
    /**
     * What an invite link shows before it is accepted, signed in or not. A code that does not
     * work answers as accepting it would (404, or 410 and why), and names no room.
     */
    async preview(code: string): Promise<InvitePreview> {
      const invite = await invites.findInviteByCodeHash(db, createHash('sha256').update(code).digest('hex'));
      if (!invite) throw inviteNotFound();
      const dead = deadReason(invite, clock.now());
      const creator = await rooms.findAccess(db, invite.created_by, invite.room_id);
      if (dead === 'revoked' || !creator || !allows(creator.role, 'invite', creator)) {
        throw new AppError(410, 'invite_revoked', 'This invite link no longer works; ask for a new one.');
      }
      if (dead === 'expired') throw new AppError(410, 'invite_expired', 'This invite has expired; ask for a new one.');
      if (dead === 'used_up') throw new AppError(410, 'invite_used_up', 'This invite has been used as many times as allowed; ask for a new one.');
      const row = await management.invitePreview(db, invite.room_id, invite.created_by);
      if (!row) throw inviteNotFound();
      return {
        room: { id: row.room_id, name: row.room_name, isPrivate: row.is_private === 1, memberCount: Number(row.member_count) },
        invitedBy: { username: row.inviter_username },
        expiresAt: invite.expires_at === null ? null : isoTime(Number(invite.expires_at)),
      };
    },

    /** An owner or moderator adds someone by username; a ban must be lifted first. */
    async addByUsername(actorId: string, roomId: string, rawUsername: string): Promise<Member> {
      const room = await access.authorize(actorId, roomId, 'invite');
      const username = normaliseName(rawUsername);
      const user = username ? await management.findUserByUsernameKey(db, username.toLowerCase()) : undefined;
      if (!user) throw new AppError(404, 'not_found', `Nobody is called “${username}”; check the spelling.`, 'username');
      const alreadyMember = () => errors.conflict('already_member', `${user.username} is already a member of this room.`, 'username');
      if (await rooms.findMember(db, roomId, user.id)) throw alreadyMember();
      const eventId = await access.admit(room, user.id, {
        actorId,
        bannedAnswer: () => errors.conflict('banned', `${user.username} is banned from this room; lift the ban first to add them.`, 'username'),
      });
      if (eventId === null) throw alreadyMember();
      await access.joined(user.id, roomId, eventId);
      const member = (await rooms.listMembers(db, roomId)).find((row) => row.user_id === user.id);
      if (!member) throw errors.notFound('That member'); // removed again meanwhile
      return presentMember(member, (await presence.onlineAmong([user.id])).has(user.id));
    },

    async listBans(actorId: string, roomId: string): Promise<Ban[]> {
      await access.authorize(actorId, roomId, 'moderate');
      return (await management.listBans(db, roomId)).map((row) => ({
        user: { id: row.user_id, username: row.username },
        bannedBy: row.banned_by_username === null ? null : { id: row.banned_by, username: row.banned_by_username },
        createdAt: isoTime(Number(row.created_at)),
      }));
    },

    /** The owner makes another member the owner, and becomes a moderator (then free to leave). */
    async handOver(actorId: string, roomId: string, targetId: string): Promise<void> {
      await access.authorize(actorId, roomId, 'handOver');
      if (!actsOnOther(actorId, targetId)) throw errors.validation('You own this room already; choose another member.', 'userId');
      await db.transaction().execute(async (trx) => {
        await rooms.lockRoom(trx, roomId); // the room before its members, as the message batch
        const [actor, target] = [await rooms.findMember(trx, roomId, actorId), await rooms.findMember(trx, roomId, targetId)];
        if (actor?.role !== 'owner') throw errors.forbidden('Only the owner can hand the room over.');
        if (!target) throw errors.notFound('That member');
        await rooms.setRole(trx, roomId, targetId, 'owner');
        await rooms.setRole(trx, roomId, actorId, 'moderator');
        await rooms.setOwner(trx, roomId, targetId);
      });
      await bus.publish({ kind: 'member', roomId, userId: targetId, change: 'role' });
      await bus.publish({ kind: 'member', roomId, userId: actorId, change: 'role' });
    },

    /** The owner deletes the room: messages (ciphertext and all), members, invites, bans, events. */
    async deleteRoom(actorId: string, roomId: string): Promise<void> {
      await access.authorize(actorId, roomId, 'deleteRoom');
      await deleteLocked(roomId, async (trx) => {
        if ((await rooms.findMember(trx, roomId, actorId))?.role !== 'owner') throw errors.forbidden('Only the owner can delete this room.');
      });
    },

    /**
     * An owner's leave: refused while anyone else is in the room (hand it over or delete it
     * first); an owner alone leaves by deleting the room, which nobody else could reach.
     */
    async ownerLeaves(ownerId: string, roomId: string): Promise<void> {
      await deleteLocked(roomId, async (trx) => {
        if (mustHandOver('owner', await management.countOthers(trx, roomId, ownerId))) {
          throw errors.conflict(
            'owner_must_hand_over',
            'You own this room: make another member its owner before you leave, or delete the room.',
          );
        }
      });
    },
  };
}

export type RoomManagementService = ReturnType<typeof createRoomManagementService>;
