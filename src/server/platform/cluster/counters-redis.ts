/**
 * Counters as Redis keys that expire by themselves. Windows: INCR with the expiry in one
 * script (Redis' clock decides them). Attempt budgets: a hash per key, read and written in
 * one script, on our clock (so every instance reads the same rule), expiring with its memory.
 */
import type { Redis } from 'ioredis';
import { attemptDelayMs, type CounterStore } from './counters.js';

// INCR and the expiry in one step, so a crash between them cannot leave a counter that never expires.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

// ARGV: now, free, memoryMs, the delays (ms) of steps 1, 2, … (the last one repeats).
// Returns {1, count} when granted, {0, nextAt} when refused.
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local memory = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'count', 'next_at', 'reset_at')
local count = tonumber(state[1]) or 0
local nextAt = tonumber(state[2]) or 0
if (tonumber(state[3]) or 0) <= now then count = 0 nextAt = 0 end
if count >= free and nextAt > now then return {0, tostring(nextAt)} end
count = count + 1
local resetAt = now + memory
if count >= free then
  local step = math.min(count - free + 1, #ARGV - 3)
  nextAt = now + tonumber(ARGV[3 + step])
  resetAt = nextAt + memory
else
  nextAt = 0
end
redis.call('HSET', KEYS[1], 'count', count, 'next_at', string.format('%d', nextAt), 'reset_at', string.format('%d', resetAt))
redis.call('PEXPIRE', KEYS[1], resetAt - now)
return {1, count}`;

const RELEASE_SCRIPT = `
if (tonumber(redis.call('HGET', KEYS[1], 'count')) or 0) > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0`;

export function createRedisCounterStore(redis: Redis, prefix: string): CounterStore {
  const name = (key: string) => `${prefix}:rate:${key}`;
  const budgetName = (key: string) => `${prefix}:attempts:${key}`;
  return {
    async hit(key, windowMs, now) {
      const [count, ttl] = (await redis.eval(HIT_SCRIPT, 1, name(key), String(windowMs))) as [number, number];
      return { count, resetAt: now + Math.max(ttl, 0) };
    },
    async reserveAttempt(key, budget, now) {
      const delays: string[] = [];
      for (let n = 1; delays.length === 0 || Number(delays.at(-1)) < budget.maxDelayMs; n += 1) delays.push(String(attemptDelayMs(budget, n)));
      const [granted, value] = (await redis.eval(RESERVE_SCRIPT, 1, budgetName(key), String(now), String(budget.free), String(budget.memoryMs), ...delays)) as [number, number | string];
      return granted === 1 ? { granted: true, count: Number(value) } : { granted: false, retryAt: Number(value) };
    },
    async releaseAttempt(key) {
      await redis.eval(RELEASE_SCRIPT, 1, budgetName(key));
    },
    async clearAttempts(key) {
      await redis.del(budgetName(key));
    },
    async sweep() {
      return 0;
    },
  };
}
