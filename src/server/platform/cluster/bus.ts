/**
 * The fan-out bus: services publish what happened after it is committed; every
 * instance's gateway receives it and delivers it to its own sockets. In-process for a
 * single instance; PostgreSQL LISTEN/NOTIFY (bus-postgres.ts) and Redis pub/sub
 * (bus-redis.ts) share this shape, and connect.ts picks one from the configuration.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MemberChange, Message, NotificationLevel, Room, RoomEvent } from '../../../shared/protocol.js';

/** What services publish: it reaches every instance, the publishing one included. */
export type FanOutEvent =
  | { kind: 'message'; roomId: string; message: Message }
  /** An edit, delete or reaction change: the message's full new state. */
  | { kind: 'message-updated'; roomId: string; message: Message }
  | { kind: 'member'; roomId: string; userId: string; change: MemberChange; event?: RoomEvent }
  /** The owner deleted the room: its sockets are told and unsubscribed. */
  | { kind: 'room-deleted'; roomId: string }
  | { kind: 'presence'; userId: string; online: boolean; roomIds: string[] }
  | { kind: 'typing'; roomId: string; userId: string }
  /**
   * A DM was created (or people of its set came back): `userIds` are subscribed to it and told.
   * `room` is as `openerId` sees it; the others get their own read marker and counts (fanout.ts).
   */
  | { kind: 'dm'; roomId: string; room: Room; userIds: string[]; openerId: string }
  /** A member changed a room's notification level: their own sockets hear of it. */
  | { kind: 'notification-level'; userId: string; roomId: string; level: NotificationLevel }
  /** Sessions ended (logout, password change, "end session"): their sockets close everywhere. */
  | { kind: 'sessions-ended'; userId: string; sessionIds?: string[]; exceptSessionId?: string };

/**
 * What subscribers receive: every published event, and `resync` when this instance may
 * have missed some (its connection to the bus was lost and is back): the gateway then
 * tells every local socket where each room stands, and clients fetch what they lack.
 */
export type BusEvent = FanOutEvent | PointerEvent | { kind: 'resync' };

/**
 * A remote bus carries an event too large for its wire as a pointer: the message's room
 * and seq, or a presence change without its room list. The delivering side reads the rest
 * (realtime/pointers.ts); the bus itself knows no feature.
 */
export type PointerEvent =
  | { kind: 'message-ref'; roomId: string; seq: number }
  | { kind: 'message-updated-ref'; roomId: string; seq: number }
  | { kind: 'presence-ref'; userId: string; online: boolean };

export type BusLog = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

export interface Bus {
  /** Hands the event to every instance. Never throws: a failure is logged and the local sockets resync. */
  publish(event: FanOutEvent): Promise<void>;
  /**
   * Registers a handler for every event; returns the function that removes it. The handler
   * also gets when the event was published (ms, the publisher's clock; not for `resync`).
   */
  subscribe(handler: (event: BusEvent, publishedAt?: number) => void): () => void;
  close(): Promise<void>;
}

/** The single-instance bus: delivery is a function call. */
export function createMemoryBus(): Bus {
  const handlers = new Set<(event: BusEvent, publishedAt?: number) => void>();
  return {
    async publish(event) {
      const publishedAt = Date.now();
      for (const handler of handlers) handler(event, publishedAt);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      handlers.clear();
    },
  };
}
