/**
 * SQL for what the room list adds per room: unread and mention counts after the member's read
 * marker (deleted messages are nothing to read), and the member's notification level. Each count walks an index from the marker
 * ((room_id, seq) on messages, the (room_id, user_id, seq) key on message_mentions) and stops
 * at COUNT_CAP rows, so a room with a long unread backlog costs no more than a bounded scan.
 */
import { sql } from 'kysely';
import type { NotificationLevel } from '../../shared/protocol.js';
import type { Db } from '../db/schema.js';

export const COUNT_CAP = 1000;

export interface RoomActivityRow {
  room_id: string;
  unread: number;
  mentions: number;
  level: NotificationLevel;
}

export function createRoomActivityRepository() {
  return {
    async listForMember(db: Db, userId: string): Promise<RoomActivityRow[]> {
      const { rows } = await sql<RoomActivityRow>`
        select mine.room_id as room_id,
          (select count(*) from (
            select 1 from messages m
            where m.room_id = mine.room_id and m.seq > mine.last_read_seq and m.sender_id <> mine.user_id and m.deleted_at is null
            limit ${COUNT_CAP}) as u) as unread,
          (select count(*) from (
            select 1 from message_mentions mm
            where mm.room_id = mine.room_id and mm.user_id = mine.user_id and mm.seq > mine.last_read_seq
            limit ${COUNT_CAP}) as x) as mentions,
          mine.notification_level as level
        from room_members mine
        where mine.user_id = ${userId}
      `.execute(db);
      return rows;
    },

    /** False when the user is not (or no longer) a member. */
    async setLevel(db: Db, roomId: string, userId: string, level: NotificationLevel): Promise<boolean> {
      const result = await db
        .updateTable('room_members')
        .set({ notification_level: level })
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type RoomActivityRepository = ReturnType<typeof createRoomActivityRepository>;
