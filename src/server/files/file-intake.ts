/**
 * Taking an upload in: the first bytes say what it is (type detection), then it streams
 * through 64 KiB chunks → one Fernet token each → the current storage, never held whole
 * in memory — images excepted: the image step needs them whole, and they are at most
 * FILE_MAX_MB. The row is written first, as 'uploading' (a crash leaves a row nobody can
 * read, which the sweep removes), and becomes 'stored' in one update once every chunk is
 * durable; anything that fails on the way removes the blob and the row.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FILE_LIMITS, type FileInfo, type User } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { Metrics } from '../http/metrics.js';
import { encryptChunks, rechunk } from './chunk-cipher.js';
import { sanitiseFileName } from './file-names.js';
import { thumbnailBlobId, type FileStorage } from './file-storage.js';
import { detectType, isInlineImage, OCTET_STREAM, SNIFF_BYTES } from './file-types.js';
import type { FilesRepository } from './files.repository.js';
import type { FileStorages } from './storages.js';
import { presentFile, type FileMeta } from './file-view.js';
import { ImageRefusedError, type PreparedImage } from './images.js';
import { roomNotFound } from '../rooms/rooms.access.js';

export type { PreparedImage };

/** The image step; undefined when it makes nothing of the image (then the original is stored as it is). */
export type PrepareImage = (input: Buffer, mime: string, options: { keepMetadata: boolean }) => Promise<PreparedImage | undefined>;

/** One file part of an upload, as the route hands it over. */
export interface IncomingFile {
  /** The name the client gave; sanitised here. */
  name: string;
  stream: AsyncIterable<Buffer>;
  /** Keep EXIF and other metadata of an image (the uploader's choice). */
  keepMetadata: boolean;
  /** True once the stream stopped early at the size limit (the multipart parser's fileSize). */
  truncated(): boolean;
}

export interface UploadLimits {
  maxBytes: number;
  quotaBytes: number;
  uploadsPerMinute: number;
}

export const CHUNK = FILE_LIMITS.chunkBytes;
const MIB = 1024 * 1024;
const mib = (bytes: number) => `${Math.round((bytes / MIB) * 10) / 10} MiB`;

export const fileTooLarge = (limits: UploadLimits) =>
  new AppError(413, 'file_too_large', `The file is too large: the limit is ${mib(limits.maxBytes)}.`, 'file');
export const quotaExceeded = (limits: UploadLimits, used: number) =>
  new AppError(
    413,
    'quota_exceeded',
    `This file does not fit in your storage quota of ${mib(limits.quotaBytes)} (your files take ${mib(used)} already); delete messages with attachments to make room.`,
    'file',
  );

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of source) out.push(piece);
  return out;
}

export function createFileIntake(deps: {
  db: Kysely<Database>;
  files: FilesRepository;
  storages: FileStorages;
  keyring: Keyring;
  clock: Clock;
  limits: UploadLimits;
  prepareImage: PrepareImage;
  metrics?: Pick<Metrics, 'fileBytesReceived' | 'fileBytesStored'>;
}) {
  const { db, files, storages, keyring, clock, limits, prepareImage, metrics } = deps;
  const seal = (meta: FileMeta) => keyring.encrypt(JSON.stringify(meta));
  const store = (storage: FileStorage, blobId: string, source: AsyncIterable<Buffer>) => storage.write(blobId, encryptChunks(keyring, rechunk(source, CHUNK)));

  async function discard(id: string, storage: FileStorage): Promise<void> {
    await storage.delete(id);
    await storage.delete(thumbnailBlobId(id));
    await files.delete(db, id);
  }

  /** Stores the part as a file of the room; `used` is what the uploader's files took before it (the quota). */
  return async function receive(user: User, roomId: string, incoming: IncomingFile, used: number): Promise<FileInfo> {
    const allowed = Math.min(limits.maxBytes, limits.quotaBytes - used);
    const pieces = incoming.stream[Symbol.asyncIterator]();
    let received = 0;
    const next = async (): Promise<Buffer | undefined> => {
      const step = await pieces.next().catch((error: unknown) => {
        // The request stream failed (cut off, malformed): the client's doing, not ours.
        throw error instanceof AppError ? error : new AppError(400, 'bad_request', 'The upload ended before the file had arrived, or its multipart body is malformed.');
      });
      if (step.done) {
        if (incoming.truncated()) throw fileTooLarge(limits);
        return undefined;
      }
      received += step.value.length;
      metrics?.fileBytesReceived(step.value.length);
      if (received > allowed) throw received > limits.maxBytes ? fileTooLarge(limits) : quotaExceeded(limits, used);
      return step.value;
    };

    // The type comes from the first bytes, gathered before anything is written.
    const head: Buffer[] = [];
    let ended = false;
    while (received < SNIFF_BYTES) {
      const piece = await next();
      if (!piece) {
        ended = true;
        break;
      }
      head.push(piece);
    }
    const first = Buffer.concat(head);
    const mime = await detectType(first);
    async function* everything(): AsyncGenerator<Buffer> {
      yield first;
      for (let piece = ended ? undefined : await next(); piece; piece = await next()) yield piece;
    }

    const id = randomUUID();
    const name = sanitiseFileName(incoming.name);
    const storage = storages.current;
    const initial = seal({ name, mime });
    await files.insert(db, {
      id,
      room_id: roomId,
      uploader_id: user.id,
      state: 'uploading',
      storage: storage.kind,
      size: 0,
      chunk_count: 0,
      chunk_size: CHUNK,
      content_key_id: keyring.primaryKeyId,
      meta_ciphertext: initial.ciphertext,
      meta_key_id: initial.keyId,
      thumbnail_chunks: 0,
      message_seq: null,
      created_at: clock.now(),
    });
    try {
      let meta: FileMeta = { name, mime };
      let size = 0;
      let chunkCount: number;
      let thumbnailChunks = 0;
      if (isInlineImage(mime)) {
        const original = Buffer.concat(await collect(everything()));
        let prepared: PreparedImage | undefined;
        try {
          prepared = await prepareImage(original, mime, { keepMetadata: incoming.keepMetadata });
        } catch (error) {
          // Its metadata could not be stripped: better refused than stored with a location in it.
          const message = error instanceof ImageRefusedError ? error.message : 'This image could not be read; it may be damaged. Send it as another format, or zipped.';
          throw errors.validation(message, 'file');
        }
        const bytes = prepared?.bytes ?? original;
        // Kept as it came (metadata kept, but unreadable or too large to decode): a plain download, never decoded inline.
        if (!prepared) meta = { name, mime: OCTET_STREAM };
        if (prepared) {
          const { thumbnail } = prepared;
          meta = { name, mime: prepared.mime, width: prepared.width, height: prepared.height, thumbnail: { width: thumbnail.width, height: thumbnail.height, mime: thumbnail.mime, size: thumbnail.bytes.length } };
          thumbnailChunks = await store(storage, thumbnailBlobId(id), once(thumbnail.bytes));
        }
        chunkCount = await store(storage, id, once(bytes));
        size = bytes.length;
      } else {
        chunkCount = await store(storage, id, everything());
        size = received;
      }
      const sealed = seal(meta);
      const stored = await files.markStored(db, id, {
        size,
        chunk_count: chunkCount,
        chunk_size: CHUNK,
        thumbnail_chunks: thumbnailChunks,
        meta_ciphertext: sealed.ciphertext,
        meta_key_id: sealed.keyId,
      });
      // Its row went while the bytes arrived: the room was deleted meanwhile (the cascade).
      if (!stored) throw roomNotFound();
      // Uploads running side by side each checked the quota before the others were counted.
      const usedNow = await files.usedBy(db, user.id);
      if (usedNow > limits.quotaBytes) throw quotaExceeded(limits, usedNow - size);
      metrics?.fileBytesStored(await files.storedBytes(db));
      return presentFile(id, meta, size);
    } catch (error) {
      await discard(id, storage);
      throw error;
    }
  };
}
