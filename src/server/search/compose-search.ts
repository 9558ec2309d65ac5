/**
 * The search feature's part of the composition root: the repository, this instance's
 * in-memory index (unless SEARCH_INDEX=off) and the service. The first build starts at
 * once; `ready` resolves when it answers.
 */
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/schema.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { BusLog } from '../platform/cluster/bus.js';
import type { DmsRepository } from '../rooms/dms.repository.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createSearchIndexer } from './search-indexer.js';
import { createSearchRepository } from './search.repository.js';
import { createSearchService } from './search.service.js';

export function composeSearch(deps: {
  config: Config;
  db: Db;
  keyring: Keyring;
  log: BusLog;
  messages: MessagesService;
  rooms: RoomsService;
  dms: DmsRepository;
  limiter: RateLimiter;
  metrics: Metrics;
  /** How often the reindex generation is read (tests shorten it). */
  generationPollMs?: number;
}) {
  const { config, db, messages } = deps;
  const repository = createSearchRepository();
  const indexer =
    config.searchIndex === 'memory'
      ? createSearchIndexer({ db, repository, keyring: deps.keyring, log: deps.log, metrics: deps.metrics, generationPollMs: deps.generationPollMs })
      : undefined;
  const ready = indexer ? indexer.start() : Promise.resolve();
  const search = createSearchService({ db, repository, indexer, messages, rooms: deps.rooms, dms: deps.dms, limiter: deps.limiter, searchesPerMinute: config.rateLimits.searchesPerMinute });
  return { search, indexer, ready, close: async () => indexer?.close() };
}
