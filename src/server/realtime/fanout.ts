/**
 * Writing to sockets: bus events serialized once and written to the room's local
 * sockets, writes of one event-loop turn corked into one, and a socket that cannot keep
 * up dropped (it reconnects and catches up with `after=`) rather than buffered without bound.
 */
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { dmName } from '../../shared/dm.js';
import type { Room, ServerFrame } from '../../shared/protocol.js';
import type { Metrics } from '../http/metrics.js';
import { CLOSE_CODES, endConnection, type Connection, type Connections } from './connections.js';
import type { ResolvedEvent } from './pointers.js';
import type { TypingThrottle } from './typing-throttle.js';

/** A Buffer is sent as a text frame (ws would send it as binary). */
const TEXT_FRAME = { binary: false } as const;

export interface SenderOptions {
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes: number;
  metrics: Pick<Metrics, 'slowConsumerDropped'>;
}

export function createSender({ maxBufferedBytes, metrics }: SenderOptions) {
  /** Writes the frame; false when the socket is closed or was just dropped as too slow. */
  function write(connection: Connection, frame: string | Buffer): boolean {
    if (connection.socket.readyState !== connection.socket.OPEN) return false;
    if (connection.socket.bufferedAmount > maxBufferedBytes) {
      connection.socket.close(CLOSE_CODES.slowConsumer, 'too slow: reconnect and catch up');
      connection.socket.terminate();
      metrics.slowConsumerDropped();
      return false;
    }
    coalesce(connection.socket);
    connection.socket.send(frame, TEXT_FRAME);
    return true;
  }

  /**
   * Frames written to a socket in one turn of the event loop leave in one write: the
   * socket stays corked until the turn's callbacks and promises have run. One commit
   * resolves a whole batch of sends, so a member of a busy room gets the batch's messages
   * (and a sender its acks) in one system call rather than one each.
   */
  const corked = new Set<Duplex>();
  function coalesce(socket: WebSocket): void {
    // ws exposes its net.Socket only as `_socket`; without it frames go out one by one.
    const transport = (socket as unknown as { _socket?: Duplex })._socket;
    if (!transport || corked.has(transport)) return;
    transport.cork();
    corked.add(transport);
    if (corked.size === 1) process.nextTick(uncorkAll);
  }
  function uncorkAll(): void {
    for (const transport of corked) transport.uncork();
    corked.clear();
  }

  const send = (connection: Connection, frame: ServerFrame): void => void write(connection, JSON.stringify(frame));

  return { write, send };
}

export type Sender = ReturnType<typeof createSender>;

export interface FanOutOptions {
  connections: Connections;
  sender: Sender;
  /** Brings every local socket in line after the bus may have lost events. */
  resync: () => Promise<void>;
  /** Hears every typing event, so the throttle covers the user's sockets on other instances too. */
  typing: Pick<TypingThrottle, 'heard'>;
  log: FastifyBaseLogger;
  metrics: Pick<Metrics, 'messageDelivered' | 'busResync'>;
}

export function createFanOut({ connections, sender, resync, typing, log, metrics }: FanOutOptions) {
  const { write, send } = sender;

  /** Writes one pre-serialized frame to every local socket in the rooms, once each; returns how many were written. */
  function broadcast(roomIds: Iterable<string>, frame: ServerFrame, except?: (c: Connection) => boolean): number {
    // Encoded once: a string would be measured and UTF-8 encoded again for every socket.
    const text = Buffer.from(JSON.stringify(frame));
    const seen = new Set<Connection>();
    let written = 0;
    for (const roomId of roomIds) {
      for (const connection of connections.inRoom(roomId)) {
        if (seen.has(connection) || except?.(connection)) continue;
        seen.add(connection);
        if (write(connection, text)) written += 1;
      }
    }
    return written;
  }

  /** Delivers one bus event to the local sockets it concerns. */
  function deliver(event: ResolvedEvent, publishedAt?: number): void {
    switch (event.kind) {
      case 'message':
        metrics.messageDelivered(broadcast([event.roomId], { type: 'message', message: event.message }), publishedAt);
        return;
      case 'message-updated':
        broadcast([event.roomId], { type: 'message_updated', message: event.message });
        return;
      case 'typing':
        typing.heard(event.userId, event.roomId);
        broadcast([event.roomId], { type: 'typing', roomId: event.roomId, userId: event.userId }, (c) => c.user.id === event.userId);
        return;
      case 'presence':
        broadcast(event.roomIds, { type: 'presence', userId: event.userId, online: event.online }, (c) => c.user.id === event.userId);
        return;
      case 'resync':
        metrics.busResync();
        void resync().catch((error: unknown) => log.error({ err: error }, 'resync failed'));
        return;
      case 'notification-level':
        for (const connection of connections.ofUser(event.userId)) {
          send(connection, { type: 'notification_level', roomId: event.roomId, level: event.level });
        }
        return;
      case 'sessions-ended':
        for (const connection of connections.ofUser(event.userId)) {
          const ended = event.sessionIds
            ? event.sessionIds.includes(connection.sessionId)
            : connection.sessionId !== event.exceptSessionId;
          if (ended) endConnection(connection, CLOSE_CODES.sessionEnded, 'session ended');
        }
        return;
      case 'dm':
        // Subscribed before told, so the DM's first message cannot overtake its announcement.
        for (const userId of event.userIds) {
          for (const connection of connections.ofUser(userId)) {
            connection.heardWhileReading?.set(event.roomId, true);
            connections.subscribe(connection, event.roomId);
            send(connection, { type: 'dm', room: dmAsSeenBy(event.room, userId, event.openerId) });
          }
        }
        return;
      case 'member': {
        const frame: ServerFrame = { type: 'member', roomId: event.roomId, userId: event.userId, change: event.change, ...(event.event ? { event: event.event } : {}) };
        const own = connections.ofUser(event.userId);
        for (const connection of own) connection.heardWhileReading?.set(event.roomId, event.change !== 'left' && event.change !== 'removed');
        if (event.change === 'joined') {
          for (const connection of own) connections.subscribe(connection, event.roomId);
          broadcast([event.roomId], frame);
        } else if (event.change === 'left' || event.change === 'removed') {
          broadcast([event.roomId], frame);
          // The leaver's sockets hear of it too, then stop receiving the room.
          for (const connection of own) {
            if (!connection.rooms.has(event.roomId)) send(connection, frame);
            connections.unsubscribe(connection, event.roomId);
          }
        } else {
          broadcast([event.roomId], frame);
        }
        return;
      }
      case 'room-deleted': {
        const subscribed = [...connections.inRoom(event.roomId)];
        broadcast([event.roomId], { type: 'room_deleted', roomId: event.roomId });
        for (const connection of subscribed) {
          connection.heardWhileReading?.set(event.roomId, false);
          connections.unsubscribe(connection, event.roomId);
        }
      }
    }
  }

  return { deliver };
}

/**
 * The DM's list entry for `userId`, from the opener's: named by the others, and for anyone
 * but the opener the marker of a member just added (nothing read, counts not yet known).
 */
function dmAsSeenBy(room: Room, userId: string, openerId: string): Room {
  const named = { ...room, name: dmName(room.dmMembers ?? [], userId) };
  if (userId === openerId) return named;
  const { unreadCount: _unread, mentionCount: _mentions, ...rest } = named;
  return { ...rest, lastReadSeq: 0, notificationLevel: 'all' };
}
