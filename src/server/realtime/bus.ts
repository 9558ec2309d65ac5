/**
 * The fan-out bus: services publish what happened after it is committed; every
 * instance's gateway receives it and delivers it to its own sockets. In-process for a
 * single instance; PostgreSQL LISTEN/NOTIFY and Redis implementations share this shape.
 */
import type { MemberChange, Message } from '../../shared/protocol.js';

export type BusEvent =
  | { kind: 'message'; roomId: string; message: Message }
  | { kind: 'member'; roomId: string; userId: string; change: MemberChange }
  | { kind: 'presence'; userId: string; online: boolean; roomIds: string[] }
  | { kind: 'typing'; roomId: string; userId: string }
  /** Sessions ended (logout, password change, "end session"): their sockets close everywhere. */
  | { kind: 'sessions-ended'; userId: string; sessionIds?: string[]; exceptSessionId?: string };

export interface Bus {
  publish(event: BusEvent): Promise<void>;
  /** Registers a handler for every event; returns the function that removes it. */
  subscribe(handler: (event: BusEvent) => void): () => void;
  close(): Promise<void>;
}

/** The single-instance bus: delivery is a function call. */
export function createMemoryBus(): Bus {
  const handlers = new Set<(event: BusEvent) => void>();
  return {
    async publish(event) {
      for (const handler of handlers) handler(event);
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
