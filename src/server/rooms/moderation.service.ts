/**
 * Moderation: removing and banning members, lifting bans, and the owner's role changes.
 * Membership changes are published on the bus after commit, so sockets follow at once.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomEvents } from './room-events.service.js';
import type { RoomAccess } from './rooms.access.js';
import type { InvitesRepository } from './invites.repository.js';
import { actsOnOther, allows, outranks, roleChangeable } from './rooms.policy.js';
import type { RoomsRepository } from './rooms.repository.js';

/** A row naming a user (or room) that does not exist, on SQLite or PostgreSQL. */
const isForeignKeyViolation = (error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
};

export function createModerationService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  invites: InvitesRepository;
  access: RoomAccess;
  clock: Clock;
  bus: Bus;
  events: RoomEvents;
}) {
  const { db, rooms, invites, access, clock, bus, events } = deps;

  /**
   * The member an owner or moderator wants to act on (undefined: not a member, which a
   * ban still covers — someone who left can be kept out), if their ranks allow it.
   */
  async function moderationTarget(actorId: string, roomId: string, targetId: string, options: { ban: boolean }) {
    const actor = await access.authorize(actorId, roomId, 'moderate');
    if (!actsOnOther(actorId, targetId)) throw errors.validation('To leave a room yourself, use leave.', 'userId');
    const target = await rooms.findMember(db, roomId, targetId);
    if (!target && !options.ban) throw errors.notFound('That member');
    const targetRole = target?.role ?? 'member';
    if (!outranks(actor.role, targetRole)) {
      throw errors.forbidden(targetRole === 'owner' ? 'Nobody can remove the owner.' : 'Only the owner can act on a moderator.');
    }
    return target;
  }

  return {
    /** Removes a member (a kick), or also bans them so they cannot come back. */
    async removeMember(actorId: string, roomId: string, targetId: string, options: { ban: boolean }): Promise<void> {
      const target = await moderationTarget(actorId, roomId, targetId, options);
      let removed = false;
      let eventId: string | undefined;
      try {
        await db.transaction().execute(async (trx) => {
          // Under the pair's lock, as a join: a join in flight either finished (and its member
          // row is removed here) or waits and then sees the ban.
          await rooms.lockMembership(trx, roomId, targetId);
          removed = await rooms.removeMember(trx, roomId, targetId);
          if (removed) eventId = await events.record(trx, roomId, targetId, 'removed', actorId);
          if (options.ban) await rooms.insertBan(trx, { room_id: roomId, user_id: targetId, banned_by: actorId, created_at: clock.now() });
          // No invite made before now brings them back, and a removed moderator's links stop.
          await invites.excludeFromExisting(trx, roomId, targetId, clock.now());
          await invites.revokeMadeBy(trx, roomId, targetId, clock.now());
        });
      } catch (error) {
        if (!target && isForeignKeyViolation(error)) throw errors.notFound('That user');
        throw error;
      }
      if (!removed) return;
      const event = await events.present(eventId);
      await bus.publish({ kind: 'member', roomId, userId: targetId, change: 'removed', ...(event ? { event } : {}) });
    },

    /** Lifts a ban (owner or moderator); the user may then join or be invited again. */
    async unban(actorId: string, roomId: string, targetId: string): Promise<void> {
      await access.authorize(actorId, roomId, 'moderate');
      if (!(await rooms.deleteBan(db, roomId, targetId))) throw errors.notFound('That ban');
    },

    /** The owner makes a member a moderator, or a moderator a member again. */
    async setRole(actorId: string, roomId: string, targetId: string, role: 'moderator' | 'member'): Promise<void> {
      const actor = await access.authorize(actorId, roomId, 'setRole');
      const target = await rooms.findMember(db, roomId, targetId);
      if (!target) throw errors.notFound('That member');
      if (!roleChangeable(target.role)) throw errors.forbidden('The owner keeps their role; to step down, the owner hands the room over (PUT …/owner).');
      await db.transaction().execute(async (trx) => {
        await rooms.setRole(trx, roomId, targetId, role);
        // A demoted moderator's links stop for good (accept also asks the creator's role).
        if (!allows(role, 'invite', actor)) await invites.revokeMadeBy(trx, roomId, targetId, clock.now());
      });
      await bus.publish({ kind: 'member', roomId, userId: targetId, change: 'role' });
    },
  };
}

export type ModerationService = ReturnType<typeof createModerationService>;
