/**
 * Direct messages: a room of kind 'dm' for a set of 2 to 9 people (the caller and up to 8
 * others), private, nameless, with no invites and no moderators (shared/room-rules.ts).
 * One set of people has one DM (rooms/dm-key.ts): opening it again answers the existing
 * one, even when several instances create it at the same moment, and brings back anyone
 * of the set who had left it. New members hear of it over the bus (`dm` frame).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LIMITS, type Room } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Database, Db, RoomsTable } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { UsersRepository } from '../users/users.repository.js';
import { dmKey } from './dm-key.js';
import type { DmsRepository } from './dms.repository.js';
import type { RoomEvents } from './room-events.service.js';
import type { RoomViews } from './room-views.js';
import { roomNotFound } from './rooms.access.js';
import type { RoomsRepository } from './rooms.repository.js';

const MINUTE_MS = 60_000;
const FIELD = 'userIds';

export function createDmsService(deps: {
  db: Kysely<Database>;
  rooms: RoomsRepository;
  dms: DmsRepository;
  users: UsersRepository;
  views: RoomViews;
  events: RoomEvents;
  clock: Clock;
  bus: Bus;
  limiter: RateLimiter;
  opensPerMinute: number;
}) {
  const { db, rooms, dms, users, views, events, clock, bus, limiter, opensPerMinute } = deps;

  /** The others named, checked: 1 to 8 distinct existing users, not the caller. */
  async function checkOthers(callerId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) throw errors.validation('Choose at least one person to message.', FIELD);
    if (userIds.length > LIMITS.dmOthersMax) {
      throw errors.validation(`A direct message holds at most ${LIMITS.dmOthersMax + 1} people: choose at most ${LIMITS.dmOthersMax} others.`, FIELD);
    }
    if (userIds.includes(callerId)) throw errors.validation('Leave yourself out of userIds: you are in the direct message anyway.', FIELD);
    const seen = new Set<string>();
    for (const id of userIds) {
      if (seen.has(id)) throw errors.validation(`userIds names ${JSON.stringify(id)} more than once; name each person once.`, FIELD);
      seen.add(id);
    }
    const found = new Set((await users.findByIds(db, userIds)).map((user) => user.id));
    const unknown = userIds.find((id) => !found.has(id));
    if (unknown !== undefined) throw errors.validation(`No account has the id ${JSON.stringify(unknown)}.`, FIELD);
  }

  function newDm(creatorId: string, key: string): RoomsTable {
    return {
      id: randomUUID(),
      // A DM reserves no name: it is named by its people when shown.
      name: '',
      name_key: '',
      description_ciphertext: null,
      description_key_id: null,
      is_private: 1,
      owner_id: creatorId,
      last_seq: 0,
      created_at: clock.now(),
      kind: 'dm',
      dm_key: key,
    };
  }

  /** Inserts the DM, or finds the set's existing one and adds back whoever left it. */
  async function createOrFind(creatorId: string, memberIds: string[]): Promise<{ roomId: string; created: boolean; added: string[]; eventIds?: Map<string, string> }> {
    const key = dmKey(memberIds);
    return db.transaction().execute(async (trx: Db) => {
      const room = newDm(creatorId, key);
      const joinedAt = clock.now();
      const member = (userId: string) => ({ room_id: room.id, user_id: userId, role: 'member' as const, joined_at: joinedAt, last_read_seq: 0 });
      if (await dms.insertIfNew(trx, room)) {
        await dms.insertMembers(trx, memberIds.map(member));
        return { roomId: room.id, created: true, added: memberIds };
      }
      const existing = await dms.findByKey(trx, key);
      if (!existing) throw new Error('a DM key conflicted but its room cannot be read');
      const added: string[] = [];
      const eventIds = new Map<string, string>();
      for (const userId of memberIds) {
        if (!(await rooms.addMember(trx, { ...member(userId), room_id: existing.id }))) continue;
        added.push(userId);
        // Back in the timeline as "bob joined" (added by the opener when it is someone else).
        eventIds.set(userId, await events.record(trx, existing.id, userId, 'joined', userId === creatorId ? null : creatorId));
      }
      return { roomId: existing.id, created: false, added, eventIds };
    });
  }

  return {
    /** The DM of the caller and `userIds`: created (created: true) or the existing one. */
    async open(callerId: string, userIds: readonly string[]): Promise<{ room: Room; created: boolean }> {
      await limiter.consume(`dm-open:${callerId}`, { limit: opensPerMinute, windowMs: MINUTE_MS });
      await checkOthers(callerId, userIds);
      const { roomId, created, added, eventIds } = await createOrFind(callerId, [callerId, ...userIds]);
      const view = await rooms.findView(db, callerId, roomId);
      if (!view) throw roomNotFound();
      const room = await views.presentOne(view, callerId);
      if (added.length > 0) {
        // Their sockets subscribe to the DM and their lists show it (named for each by the others).
        await bus.publish({ kind: 'dm', roomId, room, userIds: added, openerId: callerId });
        for (const [userId, eventId] of eventIds ?? []) {
          const event = await events.present(eventId);
          await bus.publish({ kind: 'member', roomId, userId, change: 'joined', ...(event ? { event } : {}) });
        }
      }
      return { room, created };
    },
  };
}

export type DmsService = ReturnType<typeof createDmsService>;
