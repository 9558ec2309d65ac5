/**
 * The WebSocket gateway: one connection per open client, subscribed to every room its
 * user belongs to. Bus events are serialized once and written to the room's local
 * sockets; a socket that cannot keep up is dropped (it reconnects and catches up with
 * `after=`) rather than buffered without bound.
 */
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import { Compile } from 'typebox/compile';
import {
  PingFrameSchema,
  SendFrameSchema,
  TypingFrameSchema,
  type ErrorBody,
  type ServerFrame,
  type User,
} from '../../shared/protocol.js';
import { toAppError } from '../http/errors.js';
import { noMetrics, type Metrics } from '../http/metrics.js';
import { findNul } from '../http/nul.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Presence } from '../platform/cluster/presence.js';
import { resolvingPointers, type ResolvedEvent } from './pointers.js';

/** Close codes sent to clients (4000–4999 are ours to define). */
export const CLOSE_CODES = { slowConsumer: 4008, sessionEnded: 4401, shuttingDown: 1001 } as const;

const HEARTBEAT_MS = 30_000;
/** How long a client has to answer the close frame at shutdown before its socket is cut. */
const CLOSE_GRACE_MS = 2_000;
const TYPING_THROTTLE_MS = 2_000;
/** Users whose rooms are re-read at once on a resync (bounds the burst of queries). */
const RESYNC_CONCURRENCY = 8;

interface Connection {
  id: number;
  socket: WebSocket;
  user: User;
  sessionId: string;
  rooms: Set<string>;
  alive: boolean;
  /** When this connection last announced typing, per room (typing is throttled per room). */
  lastTypingAt: Map<string, number>;
  /** Settles once hello is sent (or set-up failed). */
  setUpDone: Promise<void>;
  /** Counted in presence: its close must be counted too. */
  counted: boolean;
  /** While the user's rooms are being read: joins (true) and leaves (false) heard meanwhile. */
  heardWhileReading?: Map<string, boolean>;
}

const frameValidators = {
  send: Compile(SendFrameSchema),
  typing: Compile(TypingFrameSchema),
  ping: Compile(PingFrameSchema),
};

export interface GatewayOptions {
  rooms: RoomsService;
  messages: MessagesService;
  bus: Bus;
  presence: Presence;
  log: FastifyBaseLogger;
  limiter: RateLimiter;
  framesPerMinute: number;
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes?: number;
  /** Open sockets, frames delivered and their latency, resyncs, slow consumers. */
  metrics?: Pick<Metrics, 'socketOpened' | 'socketClosed' | 'messageDelivered' | 'busResync' | 'slowConsumerDropped'>;
}

/** A Buffer is sent as a text frame (ws would send it as binary). */
const TEXT_FRAME = { binary: false } as const;

export function createGateway(options: GatewayOptions) {
  const { rooms, messages, bus, presence, log, limiter, framesPerMinute } = options;
  const metrics = options.metrics ?? noMetrics;
  let nextConnectionId = 1;
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const roomSockets = new Map<string, Set<Connection>>();
  const userSockets = new Map<string, Set<Connection>>();

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

  function subscribe(connection: Connection, roomId: string): void {
    connection.rooms.add(roomId);
    let sockets = roomSockets.get(roomId);
    if (!sockets) roomSockets.set(roomId, (sockets = new Set()));
    sockets.add(connection);
  }

  function unsubscribe(connection: Connection, roomId: string): void {
    connection.rooms.delete(roomId);
    const sockets = roomSockets.get(roomId);
    sockets?.delete(connection);
    if (sockets?.size === 0) roomSockets.delete(roomId);
  }

  /** Writes one pre-serialized frame to every local socket in the rooms, once each; returns how many were written. */
  function broadcast(roomIds: Iterable<string>, frame: ServerFrame, except?: (c: Connection) => boolean): number {
    // Encoded once: a string would be measured and UTF-8 encoded again for every socket.
    const text = Buffer.from(JSON.stringify(frame));
    const seen = new Set<Connection>();
    let written = 0;
    for (const roomId of roomIds) {
      for (const connection of roomSockets.get(roomId) ?? []) {
        if (seen.has(connection) || except?.(connection)) continue;
        seen.add(connection);
        if (write(connection, text)) written += 1;
      }
    }
    return written;
  }

  function deliver(event: ResolvedEvent, publishedAt?: number): void {
    switch (event.kind) {
      case 'message':
        metrics.messageDelivered(broadcast([event.roomId], { type: 'message', message: event.message }), publishedAt);
        return;
      case 'typing':
        broadcast([event.roomId], { type: 'typing', roomId: event.roomId, userId: event.userId }, (c) => c.user.id === event.userId);
        return;
      case 'presence':
        broadcast(event.roomIds, { type: 'presence', userId: event.userId, online: event.online }, (c) => c.user.id === event.userId);
        return;
      case 'resync':
        metrics.busResync();
        void resync().catch((error: unknown) => log.error({ err: error }, 'resync failed'));
        return;
      case 'sessions-ended':
        for (const connection of userSockets.get(event.userId) ?? []) {
          const ended = event.sessionIds
            ? event.sessionIds.includes(connection.sessionId)
            : connection.sessionId !== event.exceptSessionId;
          if (ended) connection.socket.close(CLOSE_CODES.sessionEnded, 'session ended');
        }
        return;
      case 'member': {
        const frame: ServerFrame = { type: 'member', roomId: event.roomId, userId: event.userId, change: event.change };
        const own = userSockets.get(event.userId) ?? new Set<Connection>();
        for (const connection of own) connection.heardWhileReading?.set(event.roomId, event.change !== 'left' && event.change !== 'removed');
        if (event.change === 'joined') {
          for (const connection of own) subscribe(connection, event.roomId);
          broadcast([event.roomId], frame);
        } else if (event.change === 'left' || event.change === 'removed') {
          broadcast([event.roomId], frame);
          // The leaver's sockets hear of it too, then stop receiving the room.
          for (const connection of own) {
            if (!connection.rooms.has(event.roomId)) send(connection, frame);
            unsubscribe(connection, event.roomId);
          }
        } else {
          broadcast([event.roomId], frame);
        }
      }
    }
  }

  const pointerReader = {
    loadMessage: messages.loadForFanOut,
    loadRoomIds: async (userId: string) => (await rooms.roomSeqs(userId)).map((room) => room.id),
  };
  const pointers = resolvingPointers(pointerReader, deliver, log);
  const stopListening = bus.subscribe(pointers.receive);

  /**
   * The bus may have lost events (its connection dropped and is back): bring every local
   * socket's rooms in line with the database, then send it a fresh hello so the client
   * fetches `after=` whatever it lacks. One query per user, a few users at a time.
   */
  async function resync(): Promise<void> {
    const users = [...userSockets.entries()];
    const next = async (): Promise<void> => {
      for (let entry = users.shift(); entry; entry = users.shift()) {
        const [userId, own] = entry;
        const connections = [...own];
        await Promise.all(connections.map((connection) => connection.setUpDone));
        for (const connection of connections) connection.heardWhileReading = new Map();
        try {
          const seqs = await rooms.roomSeqs(userId);
          for (const connection of connections) {
            const current = adopt(connection, seqs);
            if (current) send(connection, { type: 'hello', user: connection.user, rooms: current });
          }
        } finally {
          for (const connection of connections) delete connection.heardWhileReading;
        }
      }
    };
    await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, next));
  }

  /** Tells the user's rooms they came online or went offline. */
  async function announcePresence(userId: string, online: boolean, roomIds?: string[]): Promise<void> {
    const ids = roomIds ?? (await rooms.roomSeqs(userId)).map((room) => room.id);
    await bus.publish({ kind: 'presence', userId, online, roomIds: ids });
  }

  // Transitions no socket here caused: the last socket was on an instance that died.
  const stopWatching = presence.watch({
    changed: (userId, online) => void announcePresence(userId, online).catch((error: unknown) => log.warn({ err: error }, 'presence update failed')),
    failed: (error) => log.warn({ err: error }, 'presence store unreachable; retrying at the next heartbeat'),
  });

  function sendError(connection: Connection, error: ErrorBody['error'], clientId?: string): void {
    send(connection, { type: 'error', ...(clientId ? { clientId } : {}), error });
  }

  async function handleFrame(connection: Connection, raw: string): Promise<void> {
    try {
      await limiter.consume(`frames:${connection.id}`, { limit: framesPerMinute, windowMs: 60_000 });
    } catch (error) {
      return sendError(connection, toAppError(error)!.toBody().error);
    }
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch {
      return sendError(connection, { code: 'invalid_frame', message: 'Frames must be JSON objects.' });
    }
    const nulAt = findNul(frame);
    if (nulAt !== undefined) {
      const id = (frame as { clientId?: unknown })?.clientId;
      const error = { code: 'invalid_frame' as const, message: `${nulAt} may not contain the NUL character (U+0000).`, field: nulAt };
      return sendError(connection, error, typeof id === 'string' && !id.includes('\u0000') ? id : undefined);
    }
    const type = (frame as { type?: unknown })?.type;
    const clientId = typeof (frame as { clientId?: unknown })?.clientId === 'string' ? (frame as { clientId: string }).clientId : undefined;
    if (type !== 'send' && type !== 'typing' && type !== 'ping') {
      return sendError(connection, { code: 'invalid_frame', message: 'Unknown frame type; expected send, typing or ping.' }, clientId);
    }
    if (!frameValidators[type].Check(frame)) {
      const first = frameValidators[type].Errors(frame)[0];
      const path = first?.instancePath.replace(/^\//, '') || 'frame';
      return sendError(connection, { code: 'invalid_frame', message: `The ${type} frame is malformed at ${path}: ${first?.message ?? 'invalid'}.` }, clientId);
    }
    if (type === 'ping') return send(connection, { type: 'pong' });
    if (type === 'typing') {
      const { roomId } = frame as { roomId: string };
      const now = Date.now();
      if (!connection.rooms.has(roomId) || now - (connection.lastTypingAt.get(roomId) ?? 0) < TYPING_THROTTLE_MS) return;
      connection.lastTypingAt.set(roomId, now);
      await bus.publish({ kind: 'typing', roomId, userId: connection.user.id });
      return;
    }
    const { roomId, body, clientId: id } = frame as { roomId: string; body: string; clientId: string };
    try {
      const { message } = await messages.send(connection.user, roomId, body, id);
      send(connection, { type: 'ack', clientId: id, message });
    } catch (error) {
      const appError = toAppError(error);
      if (!appError) log.error({ err: error }, 'send frame failed');
      sendError(
        connection,
        appError?.toBody().error ?? { code: 'internal_error', message: 'The message could not be sent; try again.' },
        id,
      );
    }
  }

  /**
   * Subscribes the connection to exactly the rooms read, corrected by the joins and leaves
   * heard while the read ran (they are newer than it, whichever way the race went).
   * Returns the rooms for hello, or undefined when the socket closed meanwhile.
   */
  function adopt(connection: Connection, seqs: Array<{ id: string; lastSeq: number }>): Array<{ id: string; lastSeq: number }> | undefined {
    if (!userSockets.get(connection.user.id)?.has(connection)) return undefined;
    const current = new Set(seqs.map((room) => room.id));
    for (const [roomId, member] of connection.heardWhileReading ?? []) {
      if (member) current.add(roomId);
      else current.delete(roomId);
    }
    for (const roomId of [...connection.rooms]) if (!current.has(roomId)) unsubscribe(connection, roomId);
    for (const roomId of current) subscribe(connection, roomId);
    return seqs.filter((room) => current.has(room.id));
  }

  async function setUp(connection: Connection): Promise<void> {
    // Subscribe first, then read the seqs for hello: a message committed in between is
    // both pushed and counted, and the client drops the duplicate by seq.
    connection.heardWhileReading = new Map();
    let seqs: Array<{ id: string; lastSeq: number }> | undefined;
    try {
      if (!adopt(connection, await rooms.roomSeqs(connection.user.id))) return;
      seqs = adopt(connection, await rooms.roomSeqs(connection.user.id));
    } finally {
      delete connection.heardWhileReading;
    }
    if (!seqs) return;
    send(connection, { type: 'hello', user: connection.user, rooms: seqs });
    connection.counted = true;
    if (await presence.connected(connection.user.id)) await announcePresence(connection.user.id, true, [...connection.rooms]);
  }

  function tearDown(connection: Connection, setUpDone: Promise<void>): void {
    for (const roomId of [...connection.rooms]) unsubscribe(connection, roomId);
    const own = userSockets.get(connection.user.id);
    own?.delete(connection);
    if (own?.size === 0) userSockets.delete(connection.user.id);
    void setUpDone.then(async () => {
      if (connection.counted && (await presence.disconnected(connection.user.id))) await announcePresence(connection.user.id, false);
    }).catch((error: unknown) => log.warn({ err: error }, 'presence update failed'));
  }

  const heartbeat = setInterval(() => {
    for (const connections of userSockets.values()) {
      for (const connection of connections) {
        if (!connection.alive) {
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.socket.ping();
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** Takes over an authenticated socket. Handlers are attached at once so no frame is missed. */
    attach(socket: WebSocket, user: User, sessionId: string): void {
      const connection: Connection = {
        id: nextConnectionId++,
        socket,
        user,
        sessionId,
        rooms: new Set(),
        alive: true,
        lastTypingAt: new Map(),
        setUpDone: Promise.resolve(),
        counted: false,
      };
      let own = userSockets.get(user.id);
      if (!own) userSockets.set(user.id, (own = new Set()));
      own.add(connection);
      metrics.socketOpened();

      const ready = setUp(connection).catch((error: unknown) => {
        log.warn({ err: error }, 'socket set-up failed');
        socket.close(1011, 'set-up failed; reconnect');
      });
      connection.setUpDone = ready;
      // Frames are handled one after another, after set-up, in the order they came.
      let queue: Promise<void> = ready;
      socket.on('message', (data) => {
        const raw = data.toString();
        queue = queue.then(() => handleFrame(connection, raw)).catch((error: unknown) => log.error({ err: error }, 'frame failed'));
      });
      socket.on('pong', () => {
        connection.alive = true;
      });
      socket.on('close', () => {
        metrics.socketClosed();
        tearDown(connection, ready);
      });
      socket.on('error', () => socket.terminate());
    },

    /** Closes every socket with a reason (shutdown); resolves once no bus pointer is still being read. */
    async close(): Promise<void> {
      clearInterval(heartbeat);
      stopListening();
      stopWatching();
      const open = [...userSockets.values()].flatMap((connections) => [...connections]);
      for (const connection of open) connection.socket.close(CLOSE_CODES.shuttingDown, 'server shutting down');
      // ws waits 30 s for the client's close frame; a client that never sends it (a frozen
      // tab, a dead link) must not hold the shutdown that long.
      setTimeout(() => {
        for (const connection of open) if (connection.socket.readyState !== connection.socket.CLOSED) connection.socket.terminate();
      }, CLOSE_GRACE_MS).unref();
      await pointers.stop();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
