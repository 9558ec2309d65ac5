/**
 * What the rooms, moderation and invites services share: the access check (through the
 * policy), the ban check, and adding a member and announcing the join. Built once, so the
 * access checks of all three are batched together.
 */
import type { Kysely } from 'kysely';
import type { Room } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import { batchedPerTurn } from '../db/batched-per-turn.js';
import type { Database, Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomEvents } from './room-events.service.js';
import { allows, banHidesRoom, type RoomAction } from './rooms.policy.js';
import { presentRoom } from './rooms.presenter.js';
import type { Role, RoomAccessRow, RoomsRepository } from './rooms.repository.js';

const FORBIDDEN_MESSAGES: Partial<Record<RoomAction, string>> = {
  invite: 'Only the owner or a moderator can invite to this room.',
  moderate: 'Only the owner or a moderator can remove or ban members.',
  setRole: 'Only the owner can change roles.',
  handOver: 'Only the owner can hand the room over.',
  deleteRoom: 'Only the owner can delete this room.',
};

export const roomNotFound = () => errors.notFound('That room');

/** What a DM member is told when asking for a room-only action (invites, roles, moderation). */
const DM_FORBIDDEN = 'A direct message has no invites, roles or moderation: its people are fixed. Start a new direct message to include someone else.';

export const bannedError = () => new AppError(403, 'banned', 'You are banned from this room.');

/** A banned user may not join again (rooms.policy.ts: banHidesRoom). */
const bannedFor = (room: { is_private: number }) => (banHidesRoom(room) ? roomNotFound() : bannedError());

export function createRoomAccess(deps: { db: Kysely<Database>; rooms: RoomsRepository; keyring: Keyring; clock: Clock; bus: Bus; events: RoomEvents }) {
  const { db, rooms, keyring, clock, bus, events } = deps;
  // Sends resolved by one group commit authorize their next sends together: one query.
  const findAccess = batchedPerTurn(async (pairs: Array<{ userId: string; roomId: string }>) =>
    pairs.length === 1 ? [await rooms.findAccess(db, pairs[0]!.userId, pairs[0]!.roomId)] : rooms.findAccessMany(db, pairs),
  );

  return {
    /**
     * The room as the caller sees it, if the policy allows the action. A private room the
     * caller is not in answers 404, exactly like a room that does not exist.
     */
    async authorize(userId: string, roomId: string, action: RoomAction): Promise<RoomAccessRow> {
      const access = await findAccess({ userId, roomId });
      if (!access || !allows(access.role, 'view', access)) throw roomNotFound();
      if (!allows(access.role, action, access)) {
        if (access.role === null) throw errors.notMember();
        if (access.kind === 'dm') throw errors.forbidden(DM_FORBIDDEN);
        throw errors.forbidden(FORBIDDEN_MESSAGES[action] ?? 'You are not allowed to do that in this room.');
      }
      return access;
    },

    async addMember(roomId: string, userId: string, role: Role, trx: Db = db): Promise<boolean> {
      return rooms.addMember(trx, { room_id: roomId, user_id: userId, role, joined_at: clock.now(), last_read_seq: 0 });
    },

    /**
     * Adds the user as a plain member unless banned, with the ban check, `check` (an invite's
     * own rules) and the insert in one transaction under the pair's lock (lockMembership): a
     * ban committed first is seen, and one issued meanwhile waits, then removes the member.
     * The timeline event's id when added; null when they were a member already (nothing checked or changed).
     */
    async admit(
      room: { id: string; is_private: number },
      userId: string,
      options: { bannedAnswer?: () => AppError; check?: (trx: Db) => Promise<void>; actorId?: string } = {},
    ): Promise<string | null> {
      return db.transaction().execute(async (trx) => {
        await rooms.lockMembership(trx, room.id, userId);
        if (await rooms.findMember(trx, room.id, userId)) return null;
        if (await rooms.isBanned(trx, room.id, userId)) throw options.bannedAnswer ? options.bannedAnswer() : bannedFor(room);
        await options.check?.(trx);
        if (!(await rooms.addMember(trx, { room_id: room.id, user_id: userId, role: 'member', joined_at: clock.now(), last_read_seq: 0 }))) return null;
        return events.record(trx, room.id, userId, 'joined', options.actorId ?? null);
      });
    },

    /** Announces the join on the bus (sockets subscribe at once) and answers the room as the user sees it. */
    async joined(userId: string, roomId: string, eventId?: string | null): Promise<Room> {
      const event = await events.present(eventId ?? undefined);
      await bus.publish({ kind: 'member', roomId, userId, change: 'joined', ...(event ? { event } : {}) });
      const view = await rooms.findView(db, userId, roomId);
      if (!view) throw roomNotFound();
      return presentRoom(view, keyring);
    },
  };
}

export type RoomAccess = ReturnType<typeof createRoomAccess>;
