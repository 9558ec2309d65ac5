/**
 * Files written straight through the storages (no upload route): a row as the files
 * service writes it (encrypted meta, content key id) and the blobs of its chunks and
 * thumbnail. For the tests of rotation, the at-rest scan and reading a backup with the key.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Keyring } from '../../src/server/crypto/keyring.js';
import type { Db, FileState, FileStorageKind } from '../../src/server/db/schema.js';
import { decryptChunks, encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { thumbnailBlobId } from '../../src/server/files/file-storage.js';
import type { FileStorages } from '../../src/server/files/storages.js';
import { FILE_LIMITS } from '../../src/shared/file-shapes.js';

export async function* piecesOf(bytes: Buffer, size = 10_000): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  if (bytes.length === 0) yield bytes;
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** A user and a room they own (both with ciphertexts under `keyring`), for files to belong to. */
export async function seedOwner(db: Db, keyring: Keyring): Promise<{ userId: string; roomId: string }> {
  const userId = randomUUID();
  const roomId = randomUUID();
  const username = `files_${userId.slice(0, 8)}`;
  const email = keyring.encrypt(`${username}@example.com`);
  await db
    .insertInto('users')
    .values({ id: userId, username, username_key: username, email_ciphertext: email.ciphertext, email_key_id: email.keyId, email_index: keyring.blindIndex(`${username}@example.com`), password_hash: 'x', created_at: Date.now() })
    .execute();
  await db
    .insertInto('rooms')
    .values({ id: roomId, name: `files ${userId.slice(0, 8)}`, name_key: `files ${userId.slice(0, 8)}`, description_ciphertext: null, description_key_id: null, is_private: 1, owner_id: userId, last_seq: 0, created_at: Date.now() })
    .execute();
  return { userId, roomId };
}

export interface FileMeta {
  name: string;
  mime: string;
  width?: number;
  height?: number;
  thumbnail?: { width: number; height: number; mime: string };
}

export interface StoredFile {
  id: string;
  storage: FileStorageKind;
  bytes: Buffer;
  thumbnail?: Buffer;
  meta: FileMeta;
}

/** Writes the row ('uploading' first, as the service does), the blobs, then the final state. */
export async function storeFile(
  db: Db,
  storages: FileStorages,
  keyring: Keyring,
  file: { roomId: string; userId: string; bytes: Buffer; meta: FileMeta; thumbnail?: Buffer; state?: FileState; id?: string; storage?: FileStorageKind },
): Promise<StoredFile> {
  const id = file.id ?? randomUUID();
  const storage = file.storage ? storages.of(file.storage) : storages.current;
  const meta = keyring.encrypt(JSON.stringify(file.meta));
  const chunkBytes = FILE_LIMITS.chunkBytes;
  await db
    .insertInto('files')
    .values({
      id,
      room_id: file.roomId,
      uploader_id: file.userId,
      state: 'uploading',
      storage: storage.kind,
      size: file.bytes.length,
      chunk_count: Math.max(1, Math.ceil(file.bytes.length / chunkBytes)),
      chunk_size: chunkBytes,
      content_key_id: keyring.primaryKeyId,
      meta_ciphertext: meta.ciphertext,
      meta_key_id: meta.keyId,
      thumbnail_chunks: 0,
      message_seq: null,
      created_at: Date.now(),
    })
    .execute();
  const chunks = await storage.write(id, encryptChunks(keyring, rechunk(piecesOf(file.bytes), chunkBytes)));
  const thumbnailChunks = file.thumbnail ? await storage.write(thumbnailBlobId(id), encryptChunks(keyring, rechunk(piecesOf(file.thumbnail), chunkBytes))) : 0;
  await db
    .updateTable('files')
    .set({ state: file.state ?? 'stored', chunk_count: chunks, thumbnail_chunks: thumbnailChunks })
    .where('id', '=', id)
    .execute();
  return { id, storage: storage.kind, bytes: file.bytes, meta: file.meta, ...(file.thumbnail ? { thumbnail: file.thumbnail } : {}) };
}

/** The blob's bytes, decrypted by `keyring` (any of its keys). */
export async function readBlob(storages: FileStorages, keyring: Keyring, kind: FileStorageKind, blobId: string, chunks: number): Promise<Buffer> {
  return Buffer.concat(await collect(decryptChunks(keyring, storages.of(kind).read(blobId, 0, chunks - 1))));
}

/** The blob's tokens as stored: the lines of its file in the data folder, or its file_chunks rows. */
export async function rawTokens(db: Db, folder: string, kind: FileStorageKind, blobId: string): Promise<string[]> {
  if (kind === 'local') {
    const text = await readFile(path.join(folder, blobId.slice(0, 2), blobId), 'latin1');
    return text.split('\n').filter((line) => line !== '');
  }
  const rows = await db.selectFrom('file_chunks').select('token').where('blob_id', '=', blobId).orderBy('idx').execute();
  return rows.map((row) => row.token);
}

/** Random-looking bytes of a given length (deterministic per seed). */
export function bytesOfLength(length: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}
