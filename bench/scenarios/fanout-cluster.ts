/**
 * 1b. Fan-out across 3 instances: the fan-out scenario (bench/scenarios/fanout.ts) with
 * three server processes on ONE PostgreSQL database, the clients' sockets spread over
 * them round-robin (so every room has members on every instance and every message crosses
 * the bus). Always on PostgreSQL — the run's, or an embedded one when the run is on
 * SQLite — with the LISTEN/NOTIFY bus; and, when Redis answers (REDIS_URL, or
 * 127.0.0.1:6379), a second row with REDIS_URL set and a unique REDIS_PREFIX.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dropRedisPrefix } from '../../test/support/redis.js';
import { openBenchDatabases, type BenchDatabases } from '../lib/databases.js';
import type { ScenarioResult } from '../lib/report.js';
import { newResult, type BenchContext, type Scenario, type Scope } from '../lib/scenario.js';
import { formatNumber, progress } from '../lib/util.js';
import { measureFanout, seedFanout, type Case } from './fanout.js';

const INSTANCES = 3;
const ROOM_SIZE = 10;

function clusterCase(ctx: BenchContext): Case {
  const deliveries = ctx.quick ? 1_000 : 3_000;
  return ctx.quick
    ? { clients: 60, roomSize: ROOM_SIZE, messagesPerSec: deliveries / ROOM_SIZE, warmupMs: 1_000, durationMs: 4_000 }
    : { clients: 300, roomSize: ROOM_SIZE, messagesPerSec: deliveries / ROOM_SIZE, warmupMs: 2_000, durationMs: 10_000 };
}

/** REDIS_URL, or redis://127.0.0.1:6379, if it answers PING within 2 s. */
async function reachableRedis(): Promise<string | undefined> {
  const url = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG' ? url : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** Removes what the servers left under `prefix` (counters; presence is removed when they stop). */
async function clearRedisPrefix(url: string, prefix: string): Promise<void> {
  try {
    await dropRedisPrefix(url, prefix);
  } catch (error) {
    progress(`could not clear Redis keys ${prefix}:*: ${String(error)}`);
  }
}

interface Bus {
  label: string;
  env: Record<string, string | undefined>;
}

async function runCase(ctx: BenchContext, scope: Scope, databases: BenchDatabases, c: Case, bus: Bus): Promise<ScenarioResult> {
  const began = Date.now();
  const name =
    `Fan-out across ${INSTANCES} instances (PostgreSQL, ${bus.label}): ${formatNumber(c.clients)} clients, ` +
    `rooms of ${c.roomSize}, ${formatNumber(c.messagesPerSec * c.roomSize)} deliveries/s offered`;
  const result = newResult(ctx, 'fanout-cluster', name);
  result.dialect = databases.dialect;
  const label = `fanout-cluster-${bus.env.REDIS_URL ? 'redis' : 'pg'}`;
  const primary = await scope.instance(`${label}-1`, databases);
  const users = await seedFanout(primary, c);
  const instances = [primary];
  for (let n = 2; n <= INSTANCES; n++) instances.push(await scope.replica(primary, `${label}-${n}`));
  const servers = await Promise.all(instances.map((instance) => instance.start(bus.env)));
  return measureFanout(ctx, scope, c, { result, name, began, users, servers });
}

export const fanoutClusterScenario: Scenario = {
  id: 'fanout-cluster',
  title: `Fan-out across ${INSTANCES} instances (PostgreSQL)`,
  limitMs: (ctx) => (ctx.quick ? 150_000 : 240_000),
  async run(ctx, scope, emit) {
    // Always PostgreSQL: the run's, or an embedded server for this scenario alone.
    const own = ctx.databases.dialect === 'postgres' ? undefined : await openBenchDatabases('postgres');
    const databases = own ?? ctx.databases;
    try {
      const c = clusterCase(ctx);
      const buses: Bus[] = [{ label: 'LISTEN/NOTIFY bus', env: { REDIS_URL: undefined, REDIS_PREFIX: undefined } }];
      const redisUrl = await reachableRedis();
      if (redisUrl) buses.push({ label: 'Redis bus', env: { REDIS_URL: redisUrl, REDIS_PREFIX: `scbench-${randomBytes(6).toString('hex')}` } });
      else progress('Redis does not answer (REDIS_URL or 127.0.0.1:6379): only the LISTEN/NOTIFY row');
      for (const bus of buses) {
        try {
          const result = await runCase(ctx, scope, databases, c, bus);
          result.notes.push(`database: ${databases.description}`);
          emit(result);
        } finally {
          // One set of servers per row; the scope is emptied before the next one starts.
          await scope.dispose();
          if (bus.env.REDIS_URL && bus.env.REDIS_PREFIX) await clearRedisPrefix(bus.env.REDIS_URL, bus.env.REDIS_PREFIX);
        }
      }
    } finally {
      await scope.dispose();
      await own?.close();
    }
  },
};
