/**
 * The files part of the composition root (compose.ts calls it): storages, repository,
 * service, and the timers that sweep abandoned uploads and refresh the stored-bytes metric.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../http/metrics.js';
import type { ChunkWriter } from './chunk-writer.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { RoomAction } from '../rooms/rooms.policy.js';
import { createFilesRepository } from './files.repository.js';
import { createFilesService, type PrepareImage } from './files.service.js';
import { prepareImage as prepareRasterImage } from './images.js';
import { createFileStorages } from './storages.js';

const SWEEP_MS = 60 * 60 * 1000;
const STORED_BYTES_MS = 60 * 1000;
const MIB = 1024 * 1024;

/** The files service, and `close` to stop its timers. */
export function composeFiles(deps: {
  config: Pick<Config, 'files'>;
  db: Kysely<Database>;
  /** On SQLite, the message writer thread's chunk writes (see chunk-writer.ts). */
  chunkWriter?: ChunkWriter | undefined;
  keyring: Keyring;
  rooms: { authorize(userId: string, roomId: string, action: RoomAction): Promise<unknown> };
  clock: Clock;
  /** The per-instance limiter (uploads are budgeted like message sends). */
  limiter: RateLimiter;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** The image step; tests pass their own. */
  prepareImage?: PrepareImage;
}) {
  const { config, db, log } = deps;
  const prepareImage: PrepareImage = deps.prepareImage ?? prepareRasterImage;
  const files = createFilesService({
    ...deps,
    files: createFilesRepository(),
    storages: createFileStorages(config.files, db, deps.chunkWriter),
    limits: { maxBytes: config.files.maxMb * MIB, quotaBytes: config.files.quotaMb * MIB, uploadsPerMinute: config.files.uploadsPerMinute },
    prepareImage,
  });
  const report = (what: string) => (error: unknown) => log.warn({ err: error }, `${what} failed`);
  void files.refreshStoredBytes().catch(report('reading the stored file bytes'));
  // Uploads never attached (and never finished) are removed after a day; released files whose purge was interrupted, at once.
  const sweep = setInterval(() => void files.sweep().catch(report('file sweep')), SWEEP_MS);
  sweep.unref();
  const storedBytes = setInterval(() => void files.refreshStoredBytes().catch(report('reading the stored file bytes')), STORED_BYTES_MS);
  storedBytes.unref();
  return {
    files,
    close(): void {
      clearInterval(sweep);
      clearInterval(storedBytes);
    },
  };
}
