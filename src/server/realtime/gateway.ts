/**
 * The WebSocket gateway: one connection per open client, subscribed to every room its
 * user belongs to. This file owns the connections' life cycle (set-up, heartbeat,
 * tear-down, shutdown) and composes the registry (connections.ts), client frames
 * (frames.ts), fan-out (fanout.ts), resync (resync.ts) and bus pointers (pointers.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Caller, SessionsService } from '../auth/sessions.service.js';
import { systemClock, type Clock } from '../clock.js';
import { noMetrics, type Metrics } from '../http/metrics.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Presence } from '../platform/cluster/presence.js';
import { CLOSE_CODES, createConnections, endConnection, type Connection } from './connections.js';
import { createFanOut, createSender } from './fanout.js';
import { createFrameHandler } from './frames.js';
import { resolvingPointers, type ResolvedEvent } from './pointers.js';
import { createResync } from './resync.js';
import { createSessionLife } from './session-life.js';
import { createTypingThrottle } from './typing-throttle.js';

export { CLOSE_CODES } from './connections.js';

const HEARTBEAT_MS = 30_000;

export interface GatewayOptions {
  rooms: RoomsService;
  messages: MessagesService;
  bus: Bus;
  presence: Presence;
  log: FastifyBaseLogger;
  limiter: RateLimiter;
  framesPerMinute: number;
  /** Sockets are bound to their session's life: it is read again when it may have ended. */
  sessions: Pick<SessionsService, 'recheck'>;
  /** The services' clock (session expiry, typing throttle). */
  clock?: Clock;
  /** How often sessions whose end has come are read again (ms); default one second. */
  sessionCheckMs?: number;
  /** Open sockets one user may have on this instance; one more is refused (close code 4429). */
  maxSocketsPerUser: number;
  /** Bytes queued on one socket beyond which it is dropped as a slow consumer. */
  maxBufferedBytes?: number;
  /**
   * Another part of this instance that follows the bus (the search index): it hears each
   * event after the sockets, with pointers already read back (once for both).
   */
  alsoHear?: (event: ResolvedEvent) => void;
  /** Open sockets, frames delivered and their latency, resyncs, slow consumers. */
  metrics?: Pick<Metrics, 'socketOpened' | 'socketClosed' | 'messageDelivered' | 'busResync' | 'slowConsumerDropped' | 'socketFrameRefused'>;
}

export function createGateway(options: GatewayOptions) {
  const { rooms, messages, bus, presence, log, limiter, framesPerMinute, sessions, maxSocketsPerUser } = options;
  const metrics = options.metrics ?? noMetrics;
  const clock = options.clock ?? systemClock;
  let nextConnectionId = 1;
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const connections = createConnections();
  const sender = createSender({ maxBufferedBytes, metrics });
  const { send } = sender;
  const { adopt, resync } = createResync({ connections, rooms, send });
  const life = createSessionLife({ connections, sessions, clock, log, checkEveryMs: options.sessionCheckMs ?? 1_000 });
  const typing = createTypingThrottle(clock);
  // Events lost with the bus may have been sessions-ended ones: every session is read again too.
  const resyncAll = async () => {
    life.recheckAll();
    await resync();
  };
  const { deliver } = createFanOut({ connections, sender, resync: resyncAll, typing, log, metrics });
  const handleFrame = createFrameHandler({ messages, rooms, bus, limiter, framesPerMinute, typing, log, send });

  const pointerReader = {
    loadMessage: messages.loadForFanOut,
    loadRoomIds: async (userId: string) => (await rooms.roomSeqs(userId)).map((room) => room.id),
  };
  const { alsoHear } = options;
  // A failing delivery must not keep the event from the other listener.
  const hear = (event: ResolvedEvent, publishedAt?: number) => {
    try {
      deliver(event, publishedAt);
    } finally {
      alsoHear?.(event);
    }
  };
  const pointers = resolvingPointers(pointerReader, hear, log);
  const stopListening = bus.subscribe(pointers.receive);

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

  async function setUp(connection: Connection): Promise<void> {
    // Subscribe first, then read the seqs for hello: a message committed in between is
    // both pushed and counted, and the client drops the duplicate by seq.
    connection.heardWhileReading = new Map();
    let seqs: Array<{ id: string; lastSeq: number; lastChange: number }> | undefined;
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
    for (const roomId of [...connection.rooms]) connections.unsubscribe(connection, roomId);
    connections.remove(connection);
    void setUpDone.then(async () => {
      if (connection.counted && (await presence.disconnected(connection.user.id))) await announcePresence(connection.user.id, false);
    }).catch((error: unknown) => log.warn({ err: error }, 'presence update failed'));
  }

  const heartbeat = setInterval(() => {
    typing.prune();
    for (const connection of connections.all()) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** Takes over an authenticated socket. Handlers are attached at once so no frame is missed. */
    attach(socket: WebSocket, caller: Caller): void {
      const { user, sessionId, endsAt } = caller;
      const connection: Connection = {
        id: nextConnectionId++,
        socket,
        user,
        sessionId,
        rooms: new Set(),
        alive: true,
        ended: false,
        endsAt,
        checkedAt: clock.now(),
        retryAt: 0,
        setUpDone: Promise.resolve(),
        counted: false,
      };
      socket.on('error', () => socket.terminate());
      // Counted and added in one turn, so handshakes completing together cannot pass the cap together.
      if (connections.ofUser(user.id).size >= maxSocketsPerUser) {
        endConnection(connection, CLOSE_CODES.tooManySockets, `too many connections (at most ${maxSocketsPerUser}); close another tab`);
        return;
      }
      connections.add(connection);
      metrics.socketOpened();

      const ready = setUp(connection).catch((error: unknown) => {
        log.warn({ err: error }, 'socket set-up failed');
        socket.close(1011, 'set-up failed; reconnect');
      });
      connection.setUpDone = ready;
      // Frames are handled one after another, after set-up, in the order they came.
      let queue: Promise<void> = ready;
      socket.on('message', (data) => {
        // A frame that arrives after the session ended (a client ignoring the close frame) is dropped unread.
        if (connection.ended) return metrics.socketFrameRefused();
        const raw = data.toString();
        queue = queue
          .then(async () => {
            if (await life.admit(connection)) return handleFrame(connection, raw);
            metrics.socketFrameRefused();
          })
          .catch((error: unknown) => log.error({ err: error }, 'frame failed'));
      });
      socket.on('pong', () => {
        connection.alive = true;
      });
      socket.on('close', () => {
        metrics.socketClosed();
        tearDown(connection, ready);
      });
    },

    /** Closes every socket with a reason (shutdown); resolves once no bus pointer is still being read. */
    async close(): Promise<void> {
      clearInterval(heartbeat);
      life.stop();
      stopListening();
      stopWatching();
      const open = [...connections.all()];
      // Like any other end: no frame is handled after the close frame (its ack could not be
      // sent any more), and a client that never answers it cannot hold the shutdown.
      for (const connection of open) endConnection(connection, CLOSE_CODES.shuttingDown, 'server shutting down');
      await pointers.stop();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
