/**
 * The gateway's registry of open connections: which sockets each user has here and which
 * sockets each room reaches. Fan-out, frame handling and resync read it; only the gateway's
 * life cycle adds and removes connections.
 */
import type { WebSocket } from 'ws';
import type { User } from '../../shared/protocol.js';

/** Close codes sent to clients (4000–4999 are ours to define). */
export const CLOSE_CODES = { slowConsumer: 4008, sessionEnded: 4401, tooManySockets: 4429, shuttingDown: 1001 } as const;

/**
 * How long a client has to answer a close frame before its socket is cut (ws itself would
 * wait 30 s), whatever the reason, shutdown included: the answer comes from the client's
 * WebSocket stack, not from app code, so one short grace fits every case.
 */
export const CLOSE_GRACE_MS = 1_000;

export interface Connection {
  id: number;
  socket: WebSocket;
  user: User;
  sessionId: string;
  rooms: Set<string>;
  alive: boolean;
  /** Its session has ended or it is being closed: no further frame of it is handled. */
  ended: boolean;
  /** When its session ends unless used again (epoch ms, the services' clock); re-read once reached. */
  endsAt: number;
  /** When its session was last read for it (a frame re-reads it at most once a minute, counting as use). */
  checkedAt: number;
  /** A failed re-read of the session is retried from then on (epoch ms). */
  retryAt: number;
  /** Settles once hello is sent (or set-up failed). */
  setUpDone: Promise<void>;
  /** Counted in presence: its close must be counted too. */
  counted: boolean;
  /** While the user's rooms are being read: joins (true) and leaves (false) heard meanwhile. */
  heardWhileReading?: Map<string, boolean>;
}

/**
 * Ends the connection at once: it handles no further frame, gets the close frame, and its
 * socket is cut if the client does not answer it within CLOSE_GRACE_MS.
 */
export function endConnection(connection: Connection, code: number, reason: string): void {
  connection.ended = true;
  const { socket } = connection;
  if (socket.readyState === socket.CLOSED) return;
  socket.close(code, reason);
  setTimeout(() => {
    if (socket.readyState !== socket.CLOSED) socket.terminate();
  }, CLOSE_GRACE_MS).unref();
}

export function createConnections() {
  const roomSockets = new Map<string, Set<Connection>>();
  const userSockets = new Map<string, Set<Connection>>();
  const none: ReadonlySet<Connection> = new Set();

  return {
    add(connection: Connection): void {
      let own = userSockets.get(connection.user.id);
      if (!own) userSockets.set(connection.user.id, (own = new Set()));
      own.add(connection);
    },

    /** Forgets the connection; its rooms must already be unsubscribed. */
    remove(connection: Connection): void {
      const own = userSockets.get(connection.user.id);
      own?.delete(connection);
      if (own?.size === 0) userSockets.delete(connection.user.id);
    },

    /** Still registered (false once its socket has closed). */
    has(connection: Connection): boolean {
      return userSockets.get(connection.user.id)?.has(connection) ?? false;
    },

    subscribe(connection: Connection, roomId: string): void {
      connection.rooms.add(roomId);
      let sockets = roomSockets.get(roomId);
      if (!sockets) roomSockets.set(roomId, (sockets = new Set()));
      sockets.add(connection);
    },

    unsubscribe(connection: Connection, roomId: string): void {
      connection.rooms.delete(roomId);
      const sockets = roomSockets.get(roomId);
      sockets?.delete(connection);
      if (sockets?.size === 0) roomSockets.delete(roomId);
    },

    /** The local sockets subscribed to the room (live, not a copy). */
    inRoom(roomId: string): ReadonlySet<Connection> {
      return roomSockets.get(roomId) ?? none;
    },

    /** The user's local sockets (live, not a copy). */
    ofUser(userId: string): ReadonlySet<Connection> {
      return userSockets.get(userId) ?? none;
    },

    /** A snapshot of the users with sockets here and their sockets. */
    users(): Array<[string, ReadonlySet<Connection>]> {
      return [...userSockets.entries()];
    },

    /** Every open connection, user by user. */
    *all(): Generator<Connection> {
      for (const connections of userSockets.values()) yield* connections;
    },
  };
}

export type Connections = ReturnType<typeof createConnections>;
