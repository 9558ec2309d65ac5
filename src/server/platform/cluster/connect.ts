/**
 * Picks the fan-out bus, and the presence and rate-limit counters that go with it (all
 * shared between instances, or all local):
 *
 *   REDIS_URL set            → Redis pub/sub, presence and counters in Redis keys
 *   else PostgreSQL database → LISTEN/NOTIFY, presence and counters in tables
 *   else (SQLite)            → in-process: one instance
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { DatabaseHandle } from '../../db/database.js';
import type { RemoteBusHooks } from './bus-wire.js';
import { createMemoryCounterStore, type CounterStore } from './counters.js';
import { createRedisCounterStore } from './counters-redis.js';
import { createSqlCounterStore } from './counters-sql.js';
import { createMemoryBus, type Bus } from './bus.js';
import { createPostgresBus } from './bus-postgres.js';
import { createRedisBus, redisOptions } from './bus-redis.js';
import { createMemoryPresence, createSharedPresence, type Presence } from './presence.js';
import { createPostgresPresenceStore } from './presence-postgres.js';
import { createRedisPresenceStore } from './presence-redis.js';

export type BusKind = 'memory' | 'postgres' | 'redis';

export interface Cluster {
  kind: BusKind;
  /** This process among the instances (random per start). */
  instanceId: string;
  bus: Bus;
  presence: Presence;
  /** Rate-limit counters with the same reach as the bus. */
  counters: CounterStore;
  /** Stops presence (removing this instance's entries), then the bus and its connections. */
  close(): Promise<void>;
}

export interface PresenceTiming {
  heartbeatMs: number;
  /** An instance silent this long is taken for dead and its users go offline. */
  ttlMs: number;
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { heartbeatMs: 10_000, ttlMs: 30_000 };

export interface ClusterDeps extends RemoteBusHooks {
  database: DatabaseHandle;
  keyring: Keyring;
  instanceId?: string;
  presenceTiming?: PresenceTiming;
  /** The LISTEN/NOTIFY channel (default `securechat_events`). */
  channel?: string;
}

/** A bus and presence could not be set up; the message is the line for the operator. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
}

/** Connects the bus the configuration asks for; rejects with a ClusterStartError when it cannot. */
export async function connectCluster(config: Config, deps: ClusterDeps): Promise<Cluster> {
  const instanceId = deps.instanceId ?? randomUUID();
  const timing = deps.presenceTiming ?? DEFAULT_PRESENCE_TIMING;
  const { keyring, database } = deps;

  if (config.redisUrl) {
    const url = config.redisUrl;
    const prefix = config.redisPrefix;
    const redis = new Redis(url, redisOptions(`${prefix}:presence:${instanceId}`));
    // Presence operations report their own failures; this keeps 'error' from crashing
    // the process, and keeps the first one: it says more than "Connection is closed".
    let cause: string | undefined;
    redis.on('error', (error: Error) => void (cause ??= error.message));
    let bus: Bus;
    try {
      await redis.connect();
      bus = await createRedisBus({ url, keyring, prefix, instanceId, log: deps.log, observeLag: deps.observeLag });
    } catch (error) {
      redis.disconnect();
      throw new ClusterStartError(`Cannot connect to Redis (REDIS_URL): ${cause ?? (error as Error).message}`);
    }
    const presence = createSharedPresence(createRedisPresenceStore({ redis, prefix, instanceId, ttlMs: timing.ttlMs }), timing);
    return {
      kind: 'redis',
      instanceId,
      bus,
      presence,
      counters: createRedisCounterStore(redis, prefix),
      async close() {
        await presence.close().catch(() => undefined);
        await bus.close();
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  }

  if (config.database.dialect === 'postgres') {
    let bus: Bus;
    try {
      bus = await createPostgresBus({ url: config.database.url, db: database.db, keyring, instanceId, channel: deps.channel, log: deps.log, observeLag: deps.observeLag });
    } catch (error) {
      throw new ClusterStartError(`Cannot LISTEN on PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
    }
    const presence = createSharedPresence(createPostgresPresenceStore({ db: database.db, instanceId, ttlMs: timing.ttlMs }), timing);
    return {
      kind: 'postgres',
      instanceId,
      bus,
      presence,
      counters: createSqlCounterStore(database.db),
      async close() {
        await presence.close().catch(() => undefined);
        await bus.close();
      },
    };
  }

  const bus = createMemoryBus();
  const presence = createMemoryPresence();
  return {
    kind: 'memory',
    instanceId,
    bus,
    presence,
    counters: createMemoryCounterStore(),
    async close() {
      await presence.close();
      await bus.close();
    },
  };
}
