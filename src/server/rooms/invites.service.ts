/** Invite links: created by an owner or moderator, accepted by anyone holding the code. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Invite, Room } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { bannedError, type RoomAccess } from './rooms.access.js';
import type { RoomsRepository } from './rooms.repository.js';

const DEFAULT_INVITE_HOURS = 7 * 24;

const hashInviteCode = (code: string) => createHash('sha256').update(code).digest('hex');

export function createInvitesService(deps: { db: Kysely<Database>; rooms: RoomsRepository; access: RoomAccess; clock: Clock }) {
  const { db, rooms, access, clock } = deps;

  return {
    /** Creates an invite; the code is returned once and only its hash is stored. */
    async create(userId: string, roomId: string, options: { expiresInHours?: number; maxUses?: number }, origin: string): Promise<Invite> {
      await access.authorize(userId, roomId, 'invite');
      const now = clock.now();
      const code = randomBytes(18).toString('base64url');
      const expiresAt = now + (options.expiresInHours ?? DEFAULT_INVITE_HOURS) * 60 * 60 * 1000;
      await rooms.insertInvite(db, {
        id: randomUUID(),
        room_id: roomId,
        code_hash: hashInviteCode(code),
        created_by: userId,
        created_at: now,
        expires_at: expiresAt,
        max_uses: options.maxUses ?? null,
        uses: 0,
      });
      return { code, url: `${origin}/invite/${code}`, expiresAt: isoTime(expiresAt), maxUses: options.maxUses ?? null };
    },

    async accept(userId: string, code: string): Promise<Room> {
      const invite = await rooms.findInviteByCodeHash(db, hashInviteCode(code));
      if (!invite) throw new AppError(404, 'invite_not_found', 'This invite link is not valid; ask for a new one.');
      if (await rooms.findMember(db, invite.room_id, userId)) return access.joined(userId, invite.room_id);
      // An invite does not override a ban (the holder knows the room exists already).
      if (await rooms.isBanned(db, invite.room_id, userId)) throw bannedError();
      const now = clock.now();
      const accepted = await db.transaction().execute(async (trx) => {
        if (!(await rooms.useInvite(trx, invite.id, now))) return false;
        await access.addMember(invite.room_id, userId, 'member', trx);
        return true;
      });
      if (!accepted) {
        const expired = invite.expires_at !== null && invite.expires_at <= now;
        throw expired
          ? new AppError(410, 'invite_expired', 'This invite has expired; ask for a new one.')
          : new AppError(410, 'invite_used_up', 'This invite has been used as many times as allowed; ask for a new one.');
      }
      return access.joined(userId, invite.room_id);
    },
  };
}

export type InvitesService = ReturnType<typeof createInvitesService>;
