/**
 * Files as the upload route leaves them, for the suites about what messages do with them:
 * a 'stored' row (meta encrypted with the app's keyring) and its blob of real encrypted
 * chunks in the app's current storage. (Until the upload route is merged; then this can
 * call POST /api/v1/rooms/:roomId/files instead.)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { createFileStorages } from '../../src/server/files/storages.js';
import { FILE_LIMITS, type FileInfo } from '../../src/shared/file-shapes.js';
import type { TestApp } from './app.js';

export interface UploadFields {
  roomId: string;
  uploaderId: string;
  name?: string;
  mime?: string;
  size?: number;
  width?: number;
  height?: number;
}

/** A data folder of its own for a suite's local storage (FILES_DIR), so no test writes under ./data. */
export function testFilesDir(): string {
  return path.join(os.tmpdir(), `securechat-files-${randomUUID()}`);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** A stored, unattached upload by `uploaderId` to `roomId`; the file as a message will show it. */
export async function storedUpload(t: Pick<TestApp, 'database' | 'keyring' | 'config' | 'clock'>, fields: UploadFields): Promise<FileInfo> {
  const id = randomUUID();
  const name = fields.name ?? `notes-${id.slice(0, 8)}.txt`;
  const mime = fields.mime ?? 'text/plain';
  const size = fields.size ?? 1000;
  const bytes = randomBytes(size);
  const storage = createFileStorages(t.config.files, t.database.db).current;
  const chunkCount = await storage.write(id, encryptChunks(t.keyring, rechunk(once(bytes), FILE_LIMITS.chunkBytes)));
  const dimensions = fields.width !== undefined && fields.height !== undefined ? { width: fields.width, height: fields.height } : {};
  const meta = t.keyring.encrypt(JSON.stringify({ name, mime, ...dimensions }));
  // Later uploads sort after earlier ones (messages list their files in upload order).
  t.clock.advance(1);
  await t.database.db
    .insertInto('files')
    .values({
      id,
      room_id: fields.roomId,
      uploader_id: fields.uploaderId,
      state: 'stored',
      storage: storage.kind,
      size,
      chunk_count: chunkCount,
      chunk_size: FILE_LIMITS.chunkBytes,
      content_key_id: meta.keyId,
      meta_ciphertext: meta.ciphertext,
      meta_key_id: meta.keyId,
      message_seq: null,
      created_at: t.clock.now(),
    })
    .execute();
  return { id, name, size, mime, ...dimensions };
}

/** The file's row as the database has it now (state, message_seq), or undefined once purged. */
export async function fileRow(t: Pick<TestApp, 'database'>, fileId: string): Promise<{ state: string; message_seq: number | null } | undefined> {
  const row = await t.database.db.selectFrom('files').select(['state', 'message_seq']).where('id', '=', fileId).executeTakeFirst();
  return row ? { state: row.state, message_seq: row.message_seq === null ? null : Number(row.message_seq) } : undefined;
}
