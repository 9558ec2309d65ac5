/**
 * Membership events in the timeline: recorded inside the transaction that changes the
 * membership, published with the `member` bus event (so they cross instances), and
 * returned beside a page of messages. Each sits after a seq, so clients order it exactly.
 */
import type { Kysely } from 'kysely';
import type { MessagePage, RoomEvent } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Database, Db, RoomEventsTable } from '../db/schema.js';
import type { RoomEventRow, RoomEventsRepository } from './room-events.repository.js';

/** At most this many events beside one page (a busy public room's joins would be unbounded). */
const EVENTS_PER_PAGE = 200;

export function presentRoomEvent(row: RoomEventRow): RoomEvent {
  return {
    id: row.id,
    roomId: row.room_id,
    afterSeq: Number(row.after_seq),
    at: isoTime(Number(row.at)),
    user: { id: row.user_id, username: row.username },
    change: row.change,
    actor: row.actor_id !== null && row.actor_username !== null ? { id: row.actor_id, username: row.actor_username } : null,
  };
}

export function createRoomEvents(deps: { db: Kysely<Database>; events: RoomEventsRepository; clock: Clock }) {
  const { db, events, clock } = deps;
  return {
    /** Records a change inside the caller's transaction; returns the event's id. */
    record(trx: Db, roomId: string, userId: string, change: RoomEventsTable['change'], actorId: string | null = null): Promise<string> {
      return events.record(trx, { roomId, userId, change, actorId, at: clock.now() });
    },

    /** The event as clients see it (after commit, for the bus); undefined if the room is gone. */
    async present(id: string | undefined): Promise<RoomEvent | undefined> {
      if (!id) return undefined;
      const row = await events.findById(db, id);
      return row ? presentRoomEvent(row) : undefined;
    },

    /**
     * The page with the events of its span: a history page (before=B, or the newest) covers
     * after_seq from its first seq (from the start when it is the oldest) up to B − 1 (to the
     * end when newest); a catch-up (after=A) from A on. Pages never overlap.
     */
    async withEvents(roomId: string, query: { before?: number; after?: number }, page: MessagePage): Promise<MessagePage> {
      const first = page.messages[0]?.seq;
      const last = page.messages.at(-1)?.seq;
      let from: number | null;
      let to: number | null;
      if (query.after !== undefined) {
        from = query.after;
        to = page.hasMore && last !== undefined ? last : null;
      } else {
        from = page.hasMore && first !== undefined ? first : null;
        to = query.before !== undefined ? query.before - 1 : null;
      }
      const rows = await events.listBetween(db, roomId, from, to, EVENTS_PER_PAGE);
      return { ...page, events: rows.map(presentRoomEvent) };
    },
  };
}

export type RoomEvents = ReturnType<typeof createRoomEvents>;
