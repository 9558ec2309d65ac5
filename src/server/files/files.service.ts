/**
 * Attachments: uploading (limits and authorization here, the streaming store in
 * file-intake.ts), reading, and removing. Reads are authorized here: before a message
 * names a file only its uploader sees it, then the room's current members; anyone else
 * gets the very answer an unknown id gets. Files leave through purgeReleased (their
 * message was deleted) and sweep (never finished, never attached).
 */
import type { Kysely } from 'kysely';
import type { FileInfo, User } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database, Db, FileStorageKind } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { RoomAction } from '../rooms/rooms.policy.js';
import { chunkSpan, decryptChunks } from './chunk-cipher.js';
import { CHUNK, createFileIntake, fileTooLarge, quotaExceeded, type IncomingFile, type PrepareImage, type UploadLimits } from './file-intake.js';
import { decryptMeta } from './file-view.js';
import { thumbnailBlobId } from './file-storage.js';
import type { DoomedFileRow, FileRow, FilesRepository } from './files.repository.js';
import type { FileStorages } from './storages.js';

export type { IncomingFile, PreparedImage, PrepareImage } from './file-intake.js';

/** A file (or its thumbnail) the caller may read: what the route needs for headers, and where the bytes are. */
export interface OpenedFile {
  id: string;
  name: string;
  mime: string;
  size: number;
  storage: FileStorageKind;
  blobId: string;
  chunkSize: number;
  keyId: string;
}

type FileMetrics = Pick<Metrics, 'fileUploads' | 'fileBytesReceived' | 'fileBytesSent' | 'fileBytesStored'>;

const DAY_MS = 24 * 60 * 60 * 1000;
const PURGE_BATCH = 100;
/** Multipart headers and boundaries around the file: a Content-Length more than this over the limit is refused unread. */
const ENVELOPE_BYTES = 64 * 1024;

/** The answer for a file the caller may not see, and for one that does not exist: the same, byte for byte. */
const fileNotFound = () => errors.notFound('That file');

export function createFilesService(deps: {
  db: Kysely<Database>;
  files: FilesRepository;
  storages: FileStorages;
  keyring: Keyring;
  /** The room policy (rooms.service authorize): 'send' to upload, 'read' for attached files. */
  rooms: { authorize(userId: string, roomId: string, action: RoomAction): Promise<unknown> };
  clock: Clock;
  /** Per instance, like message sends (http/rate-limit.ts). */
  limiter: RateLimiter;
  limits: UploadLimits;
  prepareImage: PrepareImage;
  metrics?: FileMetrics;
}) {
  const { db, files, storages, keyring, rooms, clock, limiter, limits, metrics } = deps;
  const receive = createFileIntake(deps);

  async function visible(userId: string, row: FileRow): Promise<boolean> {
    if (row.state !== 'stored') return false;
    if (row.message_seq === null) return row.uploader_id === userId;
    try {
      await rooms.authorize(userId, row.room_id, 'read');
      return true;
    } catch (error) {
      if (error instanceof AppError) return false;
      throw error;
    }
  }

  /** Deletes the files' blobs (and thumbnails) from the storage each row names. */
  async function deleteBlobs(rows: readonly DoomedFileRow[]): Promise<void> {
    for (const row of rows) {
      const storage = storages.of(row.storage);
      await storage.delete(row.id);
      if (row.thumbnail_chunks) await storage.delete(thumbnailBlobId(row.id));
    }
  }

  /** Removes the blobs, then the rows, of files in state 'released' (their message was deleted); the number removed. */
  async function purgeReleased(): Promise<number> {
    let purged = 0;
    for (;;) {
      const rows = await files.released(db, PURGE_BATCH);
      await deleteBlobs(rows);
      purged += await files.deleteReleased(db, rows.map((row) => row.id));
      if (rows.length < PURGE_BATCH) break;
    }
    if (purged > 0) metrics?.fileBytesStored(await files.storedBytes(db));
    return purged;
  }

  return {
    /**
     * Authorizes, checks the limits that need no byte of the body (rate, declared length,
     * quota), then stores the part `receive` yields. Answers the stored file.
     */
    async upload(user: User, roomId: string, request: { contentLength?: number; receive(): Promise<IncomingFile | undefined> }): Promise<FileInfo> {
      await limiter.consume(`upload:${user.id}`, { limit: limits.uploadsPerMinute, windowMs: 60_000 });
      await rooms.authorize(user.id, roomId, 'send');
      const declared = request.contentLength;
      if (declared !== undefined && declared > limits.maxBytes + ENVELOPE_BYTES) throw fileTooLarge(limits);
      const used = await files.usedBy(db, user.id);
      if (used >= limits.quotaBytes || (declared !== undefined && declared > limits.quotaBytes - used + ENVELOPE_BYTES)) throw quotaExceeded(limits, used);
      const incoming = await request.receive();
      if (!incoming) throw errors.validation('Send the file as a multipart/form-data part named "file".', 'file');
      metrics?.fileUploads(1);
      try {
        return await receive(user, roomId, incoming, used);
      } catch (error) {
        // Stop reading the part: the parser lets go of the request, and Node discards the rest of the body.
        await incoming.stream[Symbol.asyncIterator]().return?.();
        throw error;
      } finally {
        metrics?.fileUploads(-1);
      }
    },

    /** The file (or its thumbnail) if the caller may read it; otherwise exactly what an unknown id gets. */
    async open(userId: string, fileId: string, part: 'file' | 'thumbnail'): Promise<OpenedFile> {
      const row = await files.find(db, fileId);
      if (!row || !(await visible(userId, row))) throw fileNotFound();
      const meta = decryptMeta(row, keyring);
      const where = { id: row.id, storage: row.storage, chunkSize: Number(row.chunk_size), keyId: row.content_key_id };
      if (part === 'file') return { ...where, name: meta.name, mime: meta.mime, size: Number(row.size), blobId: row.id };
      if (!meta.thumbnail || !row.thumbnail_chunks) throw errors.notFound('That thumbnail');
      return { ...where, name: meta.name, mime: meta.thumbnail.mime, size: meta.thumbnail.size, blobId: thumbnailBlobId(row.id), chunkSize: CHUNK };
    },

    /** Plaintext bytes `start`..`end` (inclusive) of an opened file: only the chunks they touch are read and decrypted. */
    async *read(file: OpenedFile, start: number, end: number): AsyncGenerator<Buffer> {
      if (end < start) return;
      const { from, to } = chunkSpan(start, end, file.chunkSize);
      let index = from;
      for await (const chunk of decryptChunks(keyring, storages.of(file.storage).read(file.blobId, from, to), file.keyId)) {
        const offset = index * file.chunkSize;
        const piece = chunk.subarray(Math.max(0, start - offset), Math.min(chunk.length, end - offset + 1));
        index += 1;
        metrics?.fileBytesSent(piece.length);
        yield piece;
      }
    },

    purgeReleased,

    /**
     * A room being deleted (`trx` is its transaction): its file rows go with it by the
     * cascade; the returned function deletes their bytes, to be called after the commit.
     */
    async collectRoomBlobs(trx: Db, roomId: string): Promise<() => Promise<void>> {
      const rows = await files.ofRoom(trx, roomId);
      return () => deleteBlobs(rows);
    },

    /** Releases uploads that never finished and files never attached, a day old at `now`, then purges every released file. */
    async sweep(now: number = clock.now()): Promise<number> {
      await files.releaseStale(db, now - DAY_MS);
      return purgeReleased();
    },

    /** Reports the plaintext bytes of every stored file to the metrics (other instances change them too). */
    async refreshStoredBytes(): Promise<void> {
      metrics?.fileBytesStored(await files.storedBytes(db));
    },
  };
}

export type FilesService = ReturnType<typeof createFilesService>;
