/**
 * The configuration instances of one cluster share in the multi-instance suites: one
 * PostgreSQL database, no throttles, and the chosen bus (LISTEN/NOTIFY, or Redis under
 * the suite's own key prefix).
 */
import { loadConfig, type Config } from '../../src/server/config.js';
import type { DatabaseTarget } from '../../src/server/config.js';
import { UNTHROTTLED } from './unthrottled.js';

export const BUS_KINDS = ['postgres', 'redis'] as const;
export type BusKind = (typeof BUS_KINDS)[number];

export function clusterConfig(kind: BusKind, database: DatabaseTarget, redis: { url: string; prefix: string }): Config {
  return {
    ...loadConfig({
      LOG_LEVEL: 'silent',
      ...UNTHROTTLED,
      ...(kind === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix } : {}),
    }),
    database,
  };
}
