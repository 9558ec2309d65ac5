/**
 * Turns the bus's pointers back into events on the delivering side: a remote bus sends a
 * message or presence change too large for its wire as a pointer, and this reads the rest
 * from the services (once per event per instance), keeping arrival order.
 */
import type { Message } from '../../shared/protocol.js';
import type { BusEvent, BusLog, FanOutEvent, PointerEvent } from '../platform/cluster/bus.js';

/** What a pointer is resolved with. */
export interface PointerReader {
  /** The message with this seq, as members see it. */
  loadMessage(roomId: string, seq: number): Promise<Message | undefined>;
  /** The rooms a user belongs to. */
  loadRoomIds(userId: string): Promise<string[]>;
}

export type ResolvedEvent = Exclude<BusEvent, PointerEvent>;
type Handler = (event: ResolvedEvent, publishedAt?: number) => void;

function isPointer(event: BusEvent): event is PointerEvent {
  return event.kind === 'message-ref' || event.kind === 'message-updated-ref' || event.kind === 'presence-ref';
}

async function resolve(reader: PointerReader, event: PointerEvent): Promise<FanOutEvent> {
  if (event.kind === 'presence-ref') {
    return { kind: 'presence', userId: event.userId, online: event.online, roomIds: await reader.loadRoomIds(event.userId) };
  }
  const message = await reader.loadMessage(event.roomId, event.seq);
  if (!message) throw new Error(`message ${event.seq} of room ${event.roomId} not found`);
  // An update read back is the message's state now: at least as new as the one published.
  return { kind: event.kind === 'message-ref' ? 'message' : 'message-updated', roomId: event.roomId, message };
}

export interface PointerResolver {
  /** The bus handler: events in, resolved events out to the handler, in arrival order. */
  receive(event: BusEvent, publishedAt?: number): void;
  /** Hands nothing more on; resolves once a read still in flight has ended (before the database closes). */
  stop(): Promise<void>;
}

/**
 * Passes events to `handler` in arrival order, resolving pointers first. Events are handed
 * on at once while no pointer is being read; behind one, they wait. A pointer that cannot
 * be read becomes `resync`: the sockets catch up from the database.
 */
export function resolvingPointers(reader: PointerReader, handler: Handler, log: BusLog): PointerResolver {
  let waiting = 0;
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  // A failing handler must not stop the queue (or reach the publisher): what follows still has to be delivered.
  const hand = (event: ResolvedEvent, publishedAt?: number) => {
    if (stopped) return;
    try {
      handler(event, publishedAt);
    } catch (error) {
      log.error({ err: error, kind: event.kind }, 'bus subscriber failed');
    }
  };
  const later = (produce: () => Promise<ResolvedEvent>, publishedAt?: number) => {
    waiting += 1;
    queue = queue
      .then(() => (stopped ? undefined : produce()))
      .then(
        (event) => event && hand(event, publishedAt),
        (error: unknown) => {
          log.warn({ err: error }, 'bus event could not be read back; local clients resync');
          hand({ kind: 'resync' });
        },
      )
      .finally(() => void (waiting -= 1));
  };
  return {
    receive(event, publishedAt) {
      if (stopped) return;
      if (isPointer(event)) later(() => resolve(reader, event), publishedAt);
      else if (waiting > 0) later(async () => event, publishedAt);
      else hand(event, publishedAt);
    },
    async stop() {
      stopped = true;
      await queue;
    },
  };
}
