/**
 * Invite links: created, listed and revoked by an owner or moderator, accepted by anyone
 * holding the code. An invite works only while its creator may still invite to the room,
 * and never for someone removed or banned after it was made.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LIMITS, type Invite, type Room, type RoomInvite } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Database, Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import { deadReason } from './invite-liveness.js';
import type { InviteRow, InvitesRepository } from './invites.repository.js';
import { bannedError, type RoomAccess } from './rooms.access.js';
import { allows } from './rooms.policy.js';
import type { RoomsRepository } from './rooms.repository.js';

const hashInviteCode = (code: string) => createHash('sha256').update(code).digest('hex');

const inviteNotFound = () => new AppError(404, 'invite_not_found', 'This invite link is not valid; ask for a new one.');
const revoked = (message: string) => new AppError(410, 'invite_revoked', message);
const usedUp = () => new AppError(410, 'invite_used_up', 'This invite has been used as many times as allowed; ask for a new one.');

export function createInvitesService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  invites: InvitesRepository;
  access: RoomAccess;
  clock: Clock;
}) {
  const { db, rooms, invites, access, clock } = deps;

  /** Why a stored invite cannot let this user in now, if it cannot; checked inside the joining transaction. */
  async function refuseUnusable(trx: Db, invite: InviteRow, userId: string): Promise<void> {
    const dead = deadReason(invite, clock.now());
    if (dead === 'revoked') throw revoked('This invite link was revoked; ask for a new one.');
    if (await invites.isExcluded(trx, invite.id, userId)) {
      throw revoked('This invite was made before you were removed from this room; ask for a new one.');
    }
    // Asked at every acceptance, so a demotion or a departure ends the creator's links at once.
    const creator = await rooms.findAccess(trx, invite.created_by, invite.room_id);
    if (!creator || !allows(creator.role, 'invite', creator)) {
      throw revoked('This invite no longer works: whoever made it can no longer invite people to this room. Ask for a new one.');
    }
    if (dead === 'expired') throw new AppError(410, 'invite_expired', 'This invite has expired; ask for a new one.');
    if (dead === 'used_up') throw usedUp();
  }

  return {
    /** Creates an invite; the code is returned once and only its hash is stored. */
    async create(userId: string, roomId: string, options: { expiresInHours?: number; maxUses?: number }, origin: string): Promise<Invite> {
      await access.authorize(userId, roomId, 'invite');
      const now = clock.now();
      const code = randomBytes(18).toString('base64url');
      const expiresAt = now + (options.expiresInHours ?? LIMITS.inviteHoursDefault) * 60 * 60 * 1000;
      const id = randomUUID();
      await invites.insertInvite(db, {
        id,
        room_id: roomId,
        code_hash: hashInviteCode(code),
        created_by: userId,
        created_at: now,
        expires_at: expiresAt,
        max_uses: options.maxUses ?? null,
        uses: 0,
        revoked_at: null,
      });
      return { id, code, url: `${origin}/invite/${code}`, expiresAt: isoTime(expiresAt), maxUses: options.maxUses ?? null };
    },

    /** The room's invites that still work: not revoked, expired or used up, made by someone who may still invite. */
    async list(userId: string, roomId: string): Promise<RoomInvite[]> {
      const room = await access.authorize(userId, roomId, 'invite');
      const rows = await invites.listLive(db, roomId, clock.now());
      return rows
        .filter((row) => allows(row.creator_role, 'invite', room))
        .map((row) => ({
          id: row.id,
          createdBy: { id: row.created_by, username: row.creator_username },
          createdAt: isoTime(row.created_at),
          expiresAt: row.expires_at === null ? null : isoTime(row.expires_at),
          maxUses: row.max_uses,
          uses: row.uses,
        }));
    },

    /** Revokes one of the room's invites (owner or moderator): its link is refused from now on. */
    async revoke(userId: string, roomId: string, inviteId: string): Promise<void> {
      await access.authorize(userId, roomId, 'invite');
      if (!(await invites.revoke(db, roomId, inviteId, clock.now()))) throw errors.notFound('That invite');
    },

    async accept(userId: string, code: string): Promise<Room> {
      const codeHash = hashInviteCode(code);
      const found = await invites.findInviteByCodeHash(db, codeHash);
      if (!found) throw inviteNotFound();
      const room = await rooms.findAccess(db, userId, found.room_id);
      if (!room) throw inviteNotFound();
      // An invite does not override a ban (the holder knows the room exists already).
      const eventId = await access.admit(room, userId, {
        bannedAnswer: bannedError,
        check: async (trx) => {
          const invite = await invites.findInviteByCodeHash(trx, codeHash);
          if (!invite) throw inviteNotFound();
          await refuseUnusable(trx, invite, userId);
          // Counted by a statement that re-checks it: two guests cannot share the last use.
          if (await invites.useInvite(trx, invite.id, clock.now())) return;
          await refuseUnusable(trx, (await invites.findInviteByCodeHash(trx, codeHash)) ?? invite, userId);
          throw usedUp();
        },
      });
      return access.joined(userId, found.room_id, eventId);
    },
  };
}

export type InvitesService = ReturnType<typeof createInvitesService>;
