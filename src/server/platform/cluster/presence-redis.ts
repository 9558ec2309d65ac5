/**
 * The presence store in Redis. Keys (all under the configured prefix):
 *
 *   <p>:presence:instances        sorted set: instance id → when its entries expire (ms, Redis clock)
 *   <p>:presence:instance:<id>    set: users that instance holds
 *   <p>:presence:user:<userId>    set: instances holding that user
 *
 * An instance is live while its score is in the future; a heartbeat pushes it on. Each
 * change to a user runs as one Lua script (atomic in Redis), so two instances racing on
 * one user see exactly one transition. Scripts name every key they touch (KEYS), except
 * that instance liveness is read from the one `instances` key.
 */
import type { Redis } from 'ioredis';
import type { PresenceStore } from './presence.js';

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Counts live instances in a user's set, dropping dead ones (silently: they expired). */
const LIVE_OTHERS = `
local function live_count(instances_key, user_key, now)
  local n = 0
  for _, instance in ipairs(redis.call('SMEMBERS', user_key)) do
    local expires = redis.call('ZSCORE', instances_key, instance)
    if expires and tonumber(expires) > now then n = n + 1 else redis.call('SREM', user_key, instance) end
  end
  return n
end`;

// KEYS: instances, instance set, user set. ARGV: instance id, user id, ttl ms.
const ADD = `${NOW} ${LIVE_OTHERS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local before = live_count(KEYS[1], KEYS[3], now)
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if before == 0 then return 1 else return 0 end`;

// KEYS: instances, instance set, user set. ARGV: instance id, user id.
const REMOVE = `${NOW} ${LIVE_OTHERS}
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SREM', KEYS[3], ARGV[1]) == 0 then return 0 end
if live_count(KEYS[1], KEYS[3], now) == 0 then redis.call('DEL', KEYS[3]) return 1 end
return 0`;

// KEYS: instances, then one user set per user. Returns 1/0 per user.
const ONLINE = `${NOW}
local result = {}
for i = 2, #KEYS do
  local online = 0
  for _, instance in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    local expires = redis.call('ZSCORE', KEYS[1], instance)
    if expires and tonumber(expires) > now then online = 1 break end
  end
  result[i - 1] = online
end
return result`;

// KEYS: instances, instance set. ARGV: instance id, ttl ms. Returns the instance's users.
const HEARTBEAT = `${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return redis.call('SMEMBERS', KEYS[2])`;

// KEYS: instances. Returns instances whose entries expired, each claimed by exactly one caller.
const CLAIM_EXPIRED = `${NOW}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, instance in ipairs(dead) do redis.call('ZREM', KEYS[1], instance) end
return dead`;

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  instanceId: string;
  /** Entries of an instance that has not heart-beaten for this long expire. */
  ttlMs: number;
}

export function createRedisPresenceStore({ redis, prefix, instanceId, ttlMs }: RedisPresenceOptions): PresenceStore {
  const instancesKey = `${prefix}:presence:instances`;
  const instanceKey = (id: string) => `${prefix}:presence:instance:${id}`;
  const userKey = (userId: string) => `${prefix}:presence:user:${userId}`;
  const run = (script: string, keys: string[], args: Array<string | number>) => redis.eval(script, keys.length, ...keys, ...args);

  /** Takes a user off an instance; true when that left the user with no live instance. */
  async function removeFrom(id: string, userId: string): Promise<boolean> {
    return (await run(REMOVE, [instancesKey, instanceKey(id), userKey(userId)], [id, userId])) === 1;
  }

  return {
    async add(userId) {
      return (await run(ADD, [instancesKey, instanceKey(instanceId), userKey(userId)], [instanceId, userId, ttlMs])) === 1;
    },

    remove(userId) {
      return removeFrom(instanceId, userId);
    },

    async online(userIds) {
      const unique = [...new Set(userIds)];
      const flags = (await run(ONLINE, [instancesKey, ...unique.map(userKey)], [])) as number[];
      return new Set(unique.filter((_, index) => flags[index] === 1));
    },

    async heartbeat() {
      return (await run(HEARTBEAT, [instancesKey, instanceKey(instanceId)], [instanceId, ttlMs])) as string[];
    },

    async sweep() {
      const offline: string[] = [];
      for (const dead of (await run(CLAIM_EXPIRED, [instancesKey], [])) as string[]) {
        // This caller alone claimed `dead`; a connect or disconnect of one of its users
        // meanwhile already dropped it from that user's set (then REMOVE reports nothing).
        for (const userId of await redis.smembers(instanceKey(dead))) {
          if (await removeFrom(dead, userId)) offline.push(userId);
        }
        await redis.del(instanceKey(dead));
      }
      return offline;
    },

    async removeAll() {
      await redis.zrem(instancesKey, instanceId);
      for (const userId of await redis.smembers(instanceKey(instanceId))) await removeFrom(instanceId, userId);
      await redis.del(instanceKey(instanceId));
    },
  };
}
