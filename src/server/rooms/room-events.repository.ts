/** SQL for membership events in a room's timeline (joined, left, removed). Returns rows. */
import { randomBytes } from 'node:crypto';
import type { Db, RoomEventsTable } from '../db/schema.js';

export type RoomEventRow = RoomEventsTable & { username: string; actor_username: string | null };

/**
 * Ids that sort in the order events were recorded (time, then this process's counter), so
 * events after the same seq keep their order even within one millisecond.
 */
let counter = 0;
const orderedId = (at: number) => `${String(at).padStart(15, '0')}-${String((counter = (counter + 1) % 1e6)).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;

export function createRoomEventsRepository() {
  return {
    /**
     * Records the change after the room's current last seq, read in the same statement (and
     * the same transaction as the change), so it sits between the messages it came between.
     */
    async record(db: Db, event: { roomId: string; userId: string; change: RoomEventsTable['change']; actorId: string | null; at: number }): Promise<string> {
      const id = orderedId(event.at);
      await db
        .insertInto('room_events')
        .columns(['id', 'room_id', 'after_seq', 'at', 'user_id', 'change', 'actor_id'])
        .expression((eb) =>
          eb
            .selectFrom('rooms')
            .select([
              eb.val(id).as('id'),
              'rooms.id as room_id',
              'rooms.last_seq as after_seq',
              eb.val(event.at).as('at'),
              eb.val(event.userId).as('user_id'),
              eb.val(event.change).as('change'),
              eb.val(event.actorId).as('actor_id'),
            ])
            .where('rooms.id', '=', event.roomId),
        )
        .execute();
      return id;
    },

    /** Events with after_seq in [from, to] (either end open when null), the newest `limit`, oldest first. */
    async listBetween(db: Db, roomId: string, from: number | null, to: number | null, limit: number): Promise<RoomEventRow[]> {
      let select = db
        .selectFrom('room_events')
        .innerJoin('users', 'users.id', 'room_events.user_id')
        .leftJoin('users as actors', 'actors.id', 'room_events.actor_id')
        .selectAll('room_events')
        .select(['users.username as username', 'actors.username as actor_username'])
        .where('room_events.room_id', '=', roomId);
      if (from !== null) select = select.where('room_events.after_seq', '>=', from);
      if (to !== null) select = select.where('room_events.after_seq', '<=', to);
      const rows = await select.orderBy('room_events.after_seq', 'desc').orderBy('room_events.id', 'desc').limit(limit).execute();
      return rows.reverse();
    },

    async findById(db: Db, id: string): Promise<RoomEventRow | undefined> {
      return db
        .selectFrom('room_events')
        .innerJoin('users', 'users.id', 'room_events.user_id')
        .leftJoin('users as actors', 'actors.id', 'room_events.actor_id')
        .selectAll('room_events')
        .select(['users.username as username', 'actors.username as actor_username'])
        .where('room_events.id', '=', id)
        .executeTakeFirst();
    },
  };
}

export type RoomEventsRepository = ReturnType<typeof createRoomEventsRepository>;
