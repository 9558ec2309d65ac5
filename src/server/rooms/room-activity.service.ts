/**
 * Per-member room activity: the room list's unread and mention counts and notification
 * level, and changing the level. A change is published on the bus so the member's other
 * sockets, on every instance, hear of it (`notification_level`).
 */
import type { Kysely } from 'kysely';
import type { NotificationLevel, Room } from '../../shared/protocol.js';
import type { Database } from '../db/schema.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomActivityRepository } from './room-activity.repository.js';
import { roomNotFound } from './rooms.access.js';
import type { RoomsService } from './rooms.service.js';

export function createRoomActivityService(deps: { db: Kysely<Database>; activity: RoomActivityRepository; rooms: Pick<RoomsService, 'authorize'>; bus: Bus }) {
  const { db, activity, rooms, bus } = deps;
  return {
    /** The room list with each room's counts and level (one query for all of them). */
    async decorate(userId: string, list: Room[]): Promise<Room[]> {
      const rows = new Map((await activity.listForMember(db, userId)).map((row) => [row.room_id, row]));
      return list.map((room) => {
        const row = rows.get(room.id);
        if (!row) return room;
        return { ...room, unreadCount: Number(row.unread), mentionCount: Number(row.mentions), notificationLevel: row.level };
      });
    },

    async setLevel(userId: string, roomId: string, level: NotificationLevel): Promise<void> {
      await rooms.authorize(userId, roomId, 'read');
      // Left between the check and the update: as if it had been refused.
      if (!(await activity.setLevel(db, roomId, userId, level))) throw roomNotFound();
      await bus.publish({ kind: 'notification-level', userId, roomId, level });
    },
  };
}

export type RoomActivityService = ReturnType<typeof createRoomActivityService>;
