/**
 * Rooms and membership: creating rooms, joining (public, by name, by invite), leaving,
 * members and invites. Every membership change is published on the bus after commit,
 * so sockets are subscribed or unsubscribed at once.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LIMITS, type Invite, type Member, type Room } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import { batchedPerTurn } from '../db/batched-per-turn.js';
import type { Database, Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Presence } from '../platform/cluster/presence.js';
import { can, outranks, type RoomAction } from './rooms.policy.js';
import { presentRoom } from './rooms.presenter.js';
import type { Role, RoomAccessRow, RoomRow, RoomsRepository } from './rooms.repository.js';

export const GENERAL_ROOM_NAME = 'General';
const DIRECTORY_LIMIT = 50;
const DEFAULT_INVITE_HOURS = 7 * 24;
// Control characters in names would make them render differently from how they compare.
const CONTROL_CHARACTERS = /[\p{Cc}\p{Cf}]/u;

const FORBIDDEN_MESSAGES: Partial<Record<RoomAction, string>> = {
  invite: 'Only the owner or a moderator can invite to this room.',
  moderate: 'Only the owner or a moderator can remove or ban members.',
  setRole: 'Only the owner can change roles.',
};

/** A row naming a user (or room) that does not exist, on SQLite or PostgreSQL. */
const isForeignKeyViolation = (error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
};

const bannedError = () => new AppError(403, 'banned', 'You are banned from this room.');

const hashInviteCode = (code: string) => createHash('sha256').update(code).digest('hex');

export interface CreateRoomInput {
  name: string;
  description?: string;
  isPrivate?: boolean;
}

export function createRoomsService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  keyring: Keyring;
  clock: Clock;
  bus: Bus;
  presence: Presence;
}) {
  const { db, rooms, keyring, clock, bus, presence } = deps;
  const roomNotFound = () => errors.notFound('That room');
  // Sends resolved by one group commit authorize their next sends together: one query.
  const findAccess = batchedPerTurn(async (pairs: Array<{ userId: string; roomId: string }>) =>
    pairs.length === 1 ? [await rooms.findAccess(db, pairs[0]!.userId, pairs[0]!.roomId)] : rooms.findAccessMany(db, pairs),
  );

  /**
   * The room as the caller sees it, if the policy allows the action. A private room the
   * caller is not in answers 404, exactly like a room that does not exist.
   */
  async function authorize(userId: string, roomId: string, action: RoomAction): Promise<RoomAccessRow> {
    const access = await findAccess({ userId, roomId });
    if (!access || !can(access.role, 'view', access)) throw roomNotFound();
    if (!can(access.role, action, access)) {
      if (access.role === null) throw errors.notMember();
      throw errors.forbidden(FORBIDDEN_MESSAGES[action] ?? 'You are not allowed to do that in this room.');
    }
    return access;
  }

  /** A banned user may not come back by any path; a private room stays invisible to them. */
  async function refuseIfBanned(room: { id: string; is_private: number }, userId: string, trx: Db = db): Promise<void> {
    if (!(await rooms.isBanned(trx, room.id, userId))) return;
    if (room.is_private) throw roomNotFound();
    throw bannedError();
  }

  /**
   * The member an owner or moderator wants to act on (undefined: not a member, which a
   * ban still covers — someone who left can be kept out), if their ranks allow it.
   */
  async function moderationTarget(actorId: string, roomId: string, targetId: string, options: { ban: boolean }) {
    const actor = await authorize(actorId, roomId, 'moderate');
    if (actorId === targetId) throw errors.validation('To leave a room yourself, use leave.', 'userId');
    const target = await rooms.findMember(db, roomId, targetId);
    if (!target && !options.ban) throw errors.notFound('That member');
    const targetRole = target?.role ?? 'member';
    if (!outranks(actor.role, targetRole)) {
      throw errors.forbidden(targetRole === 'owner' ? 'Nobody can remove the owner.' : 'Only the owner can act on a moderator.');
    }
    return target;
  }

  async function addMember(roomId: string, userId: string, role: Role, trx: Db = db): Promise<boolean> {
    return rooms.addMember(trx, { room_id: roomId, user_id: userId, role, joined_at: clock.now(), last_read_seq: 0 });
  }

  async function joined(userId: string, roomId: string): Promise<Room> {
    await bus.publish({ kind: 'member', roomId, userId, change: 'joined' });
    const view = await rooms.findView(db, userId, roomId);
    if (!view) throw roomNotFound();
    return presentRoom(view, keyring);
  }

  function validateName(raw: string): string {
    const name = raw.trim();
    if (name.length < LIMITS.roomNameMin || name.length > LIMITS.roomNameMax) {
      throw errors.validation(`Room name must be ${LIMITS.roomNameMin} to ${LIMITS.roomNameMax} characters.`, 'name');
    }
    if (CONTROL_CHARACTERS.test(name)) throw errors.validation('Room name may not contain control characters.', 'name');
    return name;
  }

  return {
    /** Policy check shared with the messages service and the socket gateway. */
    authorize,

    /** Adds the user to General, creating it (owned by this user) on first need. */
    async joinGeneral(trx: Db, userId: string): Promise<void> {
      await rooms.insertIfNameFree(trx, {
        id: randomUUID(),
        name: GENERAL_ROOM_NAME,
        name_key: GENERAL_ROOM_NAME.toLowerCase(),
        description_ciphertext: null,
        description_key_id: null,
        is_private: 0,
        owner_id: userId,
        last_seq: 0,
        created_at: clock.now(),
      });
      const general = await rooms.findByNameKey(trx, GENERAL_ROOM_NAME.toLowerCase());
      if (!general) throw new Error('General room missing right after creation');
      await addMember(general.id, userId, general.owner_id === userId ? 'owner' : 'member', trx);
    },

    async listMine(userId: string): Promise<Room[]> {
      return (await rooms.listForMember(db, userId)).map((row) => presentRoom(row, keyring));
    },

    /** Ids and last seqs of the user's rooms: what a socket subscribes to. */
    async roomSeqs(userId: string): Promise<Array<{ id: string; lastSeq: number }>> {
      return (await rooms.roomSeqsForMember(db, userId)).map((row) => ({ id: row.id, lastSeq: Number(row.last_seq) }));
    },

    async directory(userId: string, query: string): Promise<Room[]> {
      return (await rooms.listPublic(db, userId, query.trim(), DIRECTORY_LIMIT)).map((row) => presentRoom(row, keyring));
    },

    async get(userId: string, roomId: string): Promise<Room> {
      await authorize(userId, roomId, 'view');
      const view = await rooms.findView(db, userId, roomId);
      if (!view) throw roomNotFound();
      return presentRoom(view, keyring);
    },

    async create(userId: string, input: CreateRoomInput): Promise<Room> {
      const name = validateName(input.name);
      const description = (input.description ?? '').trim();
      if (description.length > LIMITS.roomDescriptionMax) {
        throw errors.validation(`Description must be at most ${LIMITS.roomDescriptionMax} characters.`, 'description');
      }
      const encrypted = description ? keyring.encrypt(description) : null;
      const room: RoomRow = {
        id: randomUUID(),
        name,
        name_key: name.toLowerCase(),
        description_ciphertext: encrypted?.ciphertext ?? null,
        description_key_id: encrypted?.keyId ?? null,
        is_private: input.isPrivate ? 1 : 0,
        owner_id: userId,
        last_seq: 0,
        created_at: clock.now(),
      };
      const created = await db.transaction().execute(async (trx) => {
        if (!(await rooms.insertIfNameFree(trx, room))) return false;
        await addMember(room.id, userId, 'owner', trx);
        return true;
      });
      if (!created) throw errors.conflict('room_name_taken', 'A room with that name already exists; choose another name.', 'name');
      return joined(userId, room.id);
    },

    /** The seed's join-by-name: public rooms only; a private name answers like an unknown one. */
    async joinByName(userId: string, rawName: string): Promise<Room> {
      const room = await rooms.findByNameKey(db, rawName.trim().toLowerCase());
      if (!room || !can(null, 'join', room)) throw errors.notFound('A public room with that name');
      await refuseIfBanned(room, userId);
      await addMember(room.id, userId, 'member');
      return joined(userId, room.id);
    },

    async join(userId: string, roomId: string): Promise<Room> {
      const view = await rooms.findView(db, userId, roomId);
      if (!view || (view.role === null && !can(null, 'join', view))) throw roomNotFound();
      if (view.role === null) {
        await refuseIfBanned(view, userId);
        await addMember(roomId, userId, 'member');
      }
      return joined(userId, roomId);
    },

    /** Leaves the room; an owner who leaves hands the room to the longest-standing member. */
    async leave(userId: string, roomId: string): Promise<void> {
      const view = await authorize(userId, roomId, 'read');
      await db.transaction().execute(async (trx) => {
        await rooms.removeMember(trx, roomId, userId);
        if (view.role !== 'owner') return;
        const members = await rooms.listMembers(trx, roomId);
        const heir = members.find((m) => m.role === 'moderator') ?? members[0];
        if (!heir) return;
        await rooms.setRole(trx, roomId, heir.user_id, 'owner');
        await rooms.setOwner(trx, roomId, heir.user_id);
      });
      await bus.publish({ kind: 'member', roomId, userId, change: 'left' });
    },

    async members(userId: string, roomId: string): Promise<Member[]> {
      await authorize(userId, roomId, 'listMembers');
      const rows = await rooms.listMembers(db, roomId);
      // One presence look-up for the whole list (presence may be shared between instances).
      const online = await presence.onlineAmong(rows.map((row) => row.user_id));
      return rows.map((row) => ({
        user: { id: row.user_id, username: row.username, createdAt: isoTime(row.user_created_at) },
        role: row.role,
        online: online.has(row.user_id),
      }));
    },

    /** Removes a member (a kick), or also bans them so they cannot come back. */
    async removeMember(actorId: string, roomId: string, targetId: string, options: { ban: boolean }): Promise<void> {
      const target = await moderationTarget(actorId, roomId, targetId, options);
      try {
        await db.transaction().execute(async (trx) => {
          if (target) await rooms.removeMember(trx, roomId, targetId);
          if (options.ban) await rooms.insertBan(trx, { room_id: roomId, user_id: targetId, banned_by: actorId, created_at: clock.now() });
        });
      } catch (error) {
        if (!target && isForeignKeyViolation(error)) throw errors.notFound('That user');
        throw error;
      }
      if (target) await bus.publish({ kind: 'member', roomId, userId: targetId, change: 'removed' });
    },

    /** Lifts a ban (owner or moderator); the user may then join or be invited again. */
    async unban(actorId: string, roomId: string, targetId: string): Promise<void> {
      await authorize(actorId, roomId, 'moderate');
      if (!(await rooms.deleteBan(db, roomId, targetId))) throw errors.notFound('That ban');
    },

    /** The owner makes a member a moderator, or a moderator a member again. */
    async setRole(actorId: string, roomId: string, targetId: string, role: 'moderator' | 'member'): Promise<void> {
      await authorize(actorId, roomId, 'setRole');
      const target = await rooms.findMember(db, roomId, targetId);
      if (!target) throw errors.notFound('That member');
      if (target.role === 'owner') throw errors.forbidden('The owner keeps their role; the owner hands it over by leaving.');
      await rooms.setRole(db, roomId, targetId, role);
      await bus.publish({ kind: 'member', roomId, userId: targetId, change: 'role' });
    },

    async markRead(userId: string, roomId: string, seq: number): Promise<void> {
      const view = await authorize(userId, roomId, 'read');
      await rooms.advanceReadMarker(db, roomId, userId, Math.min(seq, Number(view.last_seq)));
    },

    /** Creates an invite; the code is returned once and only its hash is stored. */
    async createInvite(
      userId: string,
      roomId: string,
      options: { expiresInHours?: number; maxUses?: number },
      origin: string,
    ): Promise<Invite> {
      await authorize(userId, roomId, 'invite');
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

    async acceptInvite(userId: string, code: string): Promise<Room> {
      const invite = await rooms.findInviteByCodeHash(db, hashInviteCode(code));
      if (!invite) throw new AppError(404, 'invite_not_found', 'This invite link is not valid; ask for a new one.');
      if (await rooms.findMember(db, invite.room_id, userId)) return joined(userId, invite.room_id);
      // An invite does not override a ban (the holder knows the room exists already).
      if (await rooms.isBanned(db, invite.room_id, userId)) throw bannedError();
      const now = clock.now();
      const accepted = await db.transaction().execute(async (trx) => {
        if (!(await rooms.useInvite(trx, invite.id, now))) return false;
        await addMember(invite.room_id, userId, 'member', trx);
        return true;
      });
      if (!accepted) {
        const expired = invite.expires_at !== null && invite.expires_at <= now;
        throw expired
          ? new AppError(410, 'invite_expired', 'This invite has expired; ask for a new one.')
          : new AppError(410, 'invite_used_up', 'This invite has been used as many times as allowed; ask for a new one.');
      }
      return joined(userId, invite.room_id);
    },
  };
}

export type RoomsService = ReturnType<typeof createRoomsService>;
