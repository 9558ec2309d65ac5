/**
 * The fan-out bus over Redis pub/sub: one connection publishes, a dedicated one
 * subscribes (a subscribed connection is good for nothing else). ioredis reconnects
 * both with backoff; the subscriber then subscribes again and the bus emits `resync`,
 * since messages published while it was away are not kept by Redis.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Keyring } from '../../crypto/keyring.js';
import type { Bus } from './bus.js';
import { backoffDelay, createRemoteBus, DEFAULT_BACKOFF, type Backoff, type RemoteBusHooks, type Transport, type TransportLink } from './bus-wire.js';

/** Redis carries far more, but fan-out copies every payload to every instance. */
export const REDIS_MAX_BYTES = 64 * 1024;

export interface RedisBusOptions extends RemoteBusHooks {
  url: string;
  keyring: Keyring;
  /** Prefix of the channel (`<prefix>:events`) and connection names. */
  prefix: string;
  instanceId: string;
  backoff?: Backoff;
  /** How often the subscriber connection is checked with a PING. */
  healthCheckMs?: number;
}

/** Client name of an instance's subscriber connection (as CLIENT LIST shows it). */
export function subscriberName(prefix: string, instanceId: string): string {
  return `${prefix}:bus-sub:${instanceId}`;
}

/** Options for a connection of ours: reconnect for ever with backoff, fail commands fast while down. */
export function redisOptions(name: string, backoff: Backoff = DEFAULT_BACKOFF): RedisOptions {
  return {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: 5_000,
    commandTimeout: 5_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => backoffDelay(backoff, times - 1),
  };
}

export function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  return createRemoteBus({
    keyring: options.keyring,
    maxPayloadBytes: REDIS_MAX_BYTES,
    log: options.log,
    observeLag: options.observeLag,
    open: (link) => openRedis(options, link),
  });
}

async function openRedis(options: RedisBusOptions, link: TransportLink): Promise<Transport> {
  const { url, prefix, instanceId, backoff } = options;
  const channel = `${prefix}:events`;
  const publisher = new Redis(url, redisOptions(`${prefix}:bus-pub:${instanceId}`, backoff));
  const subscriber = new Redis(url, { ...redisOptions(subscriberName(prefix, instanceId), backoff), autoResubscribe: false });
  let closed = false;
  let down = false;

  // One line per outage is enough (and without an 'error' listener, an error would crash the process).
  const lost = (error?: unknown) => {
    if (closed || down) return;
    down = true;
    link.log.warn({ err: error }, 'bus: lost the Redis connection; reconnecting');
  };
  for (const connection of [publisher, subscriber]) connection.on('error', lost);
  subscriber.on('close', () => lost());
  subscriber.on('message', (from: string, payload: string) => {
    if (from === channel) link.receive(payload);
  });

  try {
    await publisher.connect();
    await subscriber.connect();
    await subscriber.subscribe(channel);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw error;
  }

  // Every 'ready' from now on is a reconnect: subscribe again, then tell subscribers.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        if (closed) return;
        down = false;
        link.log.info('bus: subscribed to Redis again');
        link.reconnected();
      },
      (error: unknown) => {
        link.log.warn({ err: error }, 'bus: could not subscribe again; reconnecting');
        subscriber.disconnect(true);
      },
    );
  });

  // A connection can die without a word (a dropped route): a PING finds out.
  const health = setInterval(() => {
    if (subscriber.status !== 'ready') return;
    subscriber.ping().catch(() => subscriber.disconnect(true));
  }, options.healthCheckMs ?? 15_000);
  health.unref();

  return {
    async send(payloads) {
      // Issued together, the PUBLISHes share a write on the one connection and keep their order.
      await Promise.all(payloads.map((payload) => publisher.publish(channel, payload)));
    },
    async close() {
      closed = true;
      clearInterval(health);
      await Promise.all([subscriber.quit().catch(() => subscriber.disconnect()), publisher.quit().catch(() => publisher.disconnect())]);
    },
  };
}
