/**
 * What the PostgreSQL and Redis buses share; their transports only move strings.
 *
 * - The wire carries no plaintext: each event's JSON is a Fernet token under the master
 *   key (every instance has it), so neither the database nor Redis sees a message body,
 *   and a payload injected by anyone without the key fails authentication and is dropped.
 * - Events published in one turn of the event loop (a group commit's messages) share a
 *   payload, as many as fit: one NOTIFY or PUBLISH and one token for many events.
 * - An event too large for the transport travels as a pointer (room + seq, or a user
 *   without their room list), handed to subscribers as it is: the delivering side reads
 *   the rest once per event (realtime/pointers.ts).
 * - Events are handed to subscribers in the order they arrived, pointers included.
 * - Every instance receives its own events back through the transport and delivers only
 *   those: one path, so each socket gets each event once, and all instances see events
 *   in the same order.
 * - After the transport reconnects (events sent meanwhile are lost), subscribers get
 *   `resync`.
 */
import type { Keyring } from '../../crypto/keyring.js';
import type { Bus, BusEvent, BusLog, FanOutEvent, PointerEvent } from './bus.js';

const WIRE_VERSION = '1';

/** What goes on the wire: an event, or a pointer to one. */
export type WireEvent = FanOutEvent | PointerEvent;

interface Envelope {
  events: WireEvent[];
  /** Publisher's clock (ms): for the publish-to-receive lag. */
  sentAt: number;
}

/** Written by earlier versions (one event per payload); still read. */
interface SingleEventEnvelope {
  event: WireEvent;
  sentAt: number;
}

export interface Transport {
  /** Sends payloads, in order, to every instance listening (this one included): in one round trip where the transport can. */
  send(payloads: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** How a transport reports back to the bus. */
export interface TransportLink {
  /** Each payload received, in the order received. */
  receive(payload: string): void;
  /** Listening again after the connection was lost: events may have been missed. */
  reconnected(): void;
  readonly log: BusLog;
}

export interface RemoteBusOptions {
  keyring: Keyring;
  /** The largest payload the transport carries. */
  maxPayloadBytes: number;
  /** Connects the transport (rejects when it cannot, so start-up fails clearly). */
  open(link: TransportLink): Promise<Transport>;
  log?: BusLog;
  /** Told each payload's publish time (ms, the publisher's clock) as it arrives: the bus lag metric. */
  observeLag?(publishedAt: number): void;
}

/** What every remote bus takes besides its transport's own settings. */
export type RemoteBusHooks = Pick<RemoteBusOptions, 'log' | 'observeLag'>;

/** Reconnect delays: doubling from `initialMs` up to `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

/** The wait before reconnect attempt `attempt` (0-based), with jitter so instances spread out. */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(capped * (0.5 + Math.random() / 2));
}

const quietLog: BusLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function seal(keyring: Keyring, events: WireEvent[]): string {
  // A lone event keeps the one-event form, which instances of earlier versions still read.
  const sentAt = Date.now();
  const envelope: Envelope | SingleEventEnvelope = events.length === 1 ? { event: events[0]!, sentAt } : { events, sentAt };
  const { ciphertext, keyId } = keyring.encrypt(JSON.stringify(envelope));
  // Fernet tokens are url-safe base64 (no dots); the key id saves trying every key.
  return `${WIRE_VERSION}.${keyId}.${ciphertext}`;
}

function openEnvelope(keyring: Keyring, payload: string): { events: WireEvent[]; sentAt: number | undefined } {
  const [version, keyId, token, extra] = payload.split('.');
  if (version !== WIRE_VERSION || !keyId || !token || extra !== undefined) throw new Error('not a SecureChat bus payload');
  const envelope = JSON.parse(keyring.decrypt(token, keyId)) as Partial<Envelope & SingleEventEnvelope>;
  const events = envelope.events ?? (envelope.event ? [envelope.event] : []);
  if (events.length === 0 || events.some((event) => typeof event?.kind !== 'string')) throw new Error('bus payload without events');
  return { events, sentAt: Number.isFinite(envelope.sentAt) ? envelope.sentAt : undefined };
}

/** Decrypts and checks one payload; throws when it is not ours. Exported for tests and debugging. */
export function openPayload(keyring: Keyring, payload: string): WireEvent[] {
  return openEnvelope(keyring, payload).events;
}

function pointerTo(event: FanOutEvent): WireEvent | undefined {
  if (event.kind === 'message') return { kind: 'message-ref', roomId: event.roomId, seq: event.message.seq };
  if (event.kind === 'message-updated') return { kind: 'message-updated-ref', roomId: event.roomId, seq: event.message.seq };
  if (event.kind === 'presence') return { kind: 'presence-ref', userId: event.userId, online: event.online };
  return undefined;
}

/** The length of the sealed payload for a JSON text of `jsonLength` bytes (Fernet: PKCS7, base64url). */
function sealedLength(keyring: Keyring, jsonLength: number): number {
  const tokenBytes = 1 + 8 + 16 + (Math.floor(jsonLength / 16) + 1) * 16 + 32;
  return WIRE_VERSION.length + 1 + keyring.primaryKeyId.length + 1 + Math.ceil(tokenBytes / 3) * 4;
}

// `{"events":[` … `],"sentAt":1234567890123}`: the envelope around the events' JSON.
const ENVELOPE_OVERHEAD = '{"events":[],"sentAt":0000000000000}'.length;

/**
 * The payloads for events published together, in order: as many whole events per payload
 * as fit; an event that does not fit even alone goes as a pointer to it.
 */
export function encodeEvents(keyring: Keyring, events: readonly FanOutEvent[], maxPayloadBytes: number): string[] {
  const payloads: string[] = [];
  let group: WireEvent[] = [];
  let groupJsonLength = ENVELOPE_OVERHEAD;
  const fits = (jsonLength: number) => sealedLength(keyring, jsonLength) <= maxPayloadBytes;
  for (const event of events) {
    let wire: WireEvent = event;
    let jsonLength = Buffer.byteLength(JSON.stringify(wire)) + 1;
    if (!fits(ENVELOPE_OVERHEAD + jsonLength)) {
      const pointer = pointerTo(event);
      if (!pointer) throw new Error(`a ${event.kind} event takes ${jsonLength} bytes, more than the bus carries (${maxPayloadBytes})`);
      wire = pointer;
      jsonLength = Buffer.byteLength(JSON.stringify(wire)) + 1;
    }
    if (group.length > 0 && !fits(groupJsonLength + jsonLength)) {
      payloads.push(seal(keyring, group));
      group = [];
      groupJsonLength = ENVELOPE_OVERHEAD;
    }
    group.push(wire);
    groupJsonLength += jsonLength;
  }
  if (group.length > 0) payloads.push(seal(keyring, group));
  return payloads;
}

/** A bus over a transport that moves strings between instances. */
export async function createRemoteBus(options: RemoteBusOptions): Promise<Bus> {
  const { keyring, maxPayloadBytes } = options;
  const handlers = new Set<(event: BusEvent, publishedAt?: number) => void>();
  const log = options.log ?? quietLog;
  let closed = false;
  function emit(event: BusEvent, publishedAt?: number): void {
    for (const handler of handlers) {
      try {
        handler(event, publishedAt);
      } catch (error) {
        log.error({ err: error, kind: event.kind }, 'bus subscriber failed');
      }
    }
  }

  const link: TransportLink = {
    receive(payload) {
      if (closed || handlers.size === 0) return;
      let opened: ReturnType<typeof openEnvelope>;
      try {
        opened = openEnvelope(keyring, payload);
      } catch (error) {
        // Not encrypted under our keys: forged, or from an instance with another key.
        log.warn({ err: error }, 'dropped a bus payload that does not decrypt with this keyring');
        return;
      }
      if (opened.sentAt !== undefined) options.observeLag?.(opened.sentAt);
      for (const event of opened.events) emit(event, opened.sentAt);
    },
    reconnected() {
      log.info('bus connection is back; local clients resync');
      emit({ kind: 'resync' });
    },
    get log() {
      return log;
    },
  };

  const transport = await options.open(link);

  // Events waiting to go out. While payloads are on their way, new events gather here and
  // leave together once those are sent (the bus's own group commit); in publish order.
  let outbox: Array<{ event: FanOutEvent; sent: () => void }> = [];
  let sending: Promise<void> | undefined;

  async function sendOutbox(): Promise<void> {
    while (outbox.length > 0) {
      const batch = outbox;
      outbox = [];
      try {
        await transport.send(encodeEvents(keyring, batch.map((entry) => entry.event), maxPayloadBytes));
      } catch (error) {
        // Already committed, so the senders are not told; this instance's sockets resync
        // now, others find the gap with their next message.
        log.error({ err: error, events: batch.length }, 'bus publish failed');
        if (!closed) emit({ kind: 'resync' });
      } finally {
        for (const entry of batch) entry.sent();
      }
    }
    sending = undefined;
  }

  return {
    publish(event) {
      if (closed) {
        log.debug({ kind: event.kind }, 'bus closed; event not published');
        return Promise.resolve();
      }
      return new Promise<void>((sent) => {
        outbox.push({ event, sent });
        // The rest of this turn's events join before the first payload leaves.
        sending ??= new Promise<void>((started) => process.nextTick(started)).then(sendOutbox);
      });
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      await sending;
      await transport.close();
    },
  };
}
