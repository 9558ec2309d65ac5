/**
 * Redis for tests: the machine's server (TEST_REDIS_URL, default redis://127.0.0.1:6379),
 * a key prefix of its own for each test run so parallel runs never share channels or
 * keys, and a clear verdict when no Redis answers: under CI (CI set) the Redis tests
 * fail with the reason; elsewhere they are reported as skipped, with the reason.
 *
 *   const redis = await redisForTests();
 *   describe.skipIf(redis.skip)(`… ${redis.note}`, () => { beforeAll(() => redis.require()); … });
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RedisForTests {
  url: string;
  /** Why Redis cannot be used, or undefined when it answered. */
  unavailable: string | undefined;
  /** True when the Redis tests should be skipped (no Redis, and not under CI). */
  skip: boolean;
  /** Text for a test title: empty, or why the tests are skipped. */
  note: string;
  /** Throws the reason when Redis is unavailable (under CI the tests run and fail here). */
  require(): void;
}

/** Asks the test Redis for a PONG (within two seconds). */
export async function redisForTests(): Promise<RedisForTests> {
  let unavailable: string | undefined;
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: string | undefined;
  client.on('error', (error: Error) => void (cause ??= error.message));
  try {
    await client.connect();
    if ((await client.ping()) !== 'PONG') unavailable = 'it did not answer PING with PONG';
  } catch (error) {
    unavailable = cause ?? (error as Error).message;
  } finally {
    client.disconnect();
  }
  const reason = unavailable && `no Redis at ${TEST_REDIS_URL} (${unavailable}); start one or set TEST_REDIS_URL`;
  const skip = reason !== undefined && !process.env.CI;
  if (skip) console.warn(`[redis] skipping the Redis tests: ${reason}`);
  return {
    url: TEST_REDIS_URL,
    unavailable: reason,
    skip,
    note: skip ? `(skipped: ${reason})` : '',
    require() {
      if (reason) throw new Error(`Redis is required here (CI is set) but unavailable: ${reason}`);
    },
  };
}

/** A key and channel prefix no other test run uses. */
export function uniqueRedisPrefix(): string {
  return `sctest-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under the prefix (SCAN, not KEYS: the server may be shared). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  // No reconnecting: a Redis that is gone fails the call instead of retrying in the background.
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Kills the connections whose client name is `name` (CLIENT KILL by id); returns how many. */
export async function killRedisClient(url: string, name: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const list = (await client.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.split(' ').includes(`name=${name}`))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await client.client('KILL', 'ID', id);
    return ids.length;
  } finally {
    client.disconnect();
  }
}
