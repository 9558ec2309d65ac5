/**
 * Files for tests. Over HTTP: a multipart/form-data body built by hand (what a browser's
 * FormData sends), uploads and downloads over `inject`, and a few small real files.
 *
 *   const file = await uploadFile(t.app, alice, roomId, { name: 'notes.txt', data: Buffer.from('hi') });
 *   const answer = await downloadFile(t.app, alice, file.id, { range: 'bytes=0-1' });
 *
 * Directly: a 'stored' row (meta encrypted with the app's keyring) and its blob of real
 * encrypted chunks in the app's current storage, for the suites about what messages do with them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { createFileStorages } from '../../src/server/files/storages.js';
import { FILE_LIMITS, type FileInfo } from '../../src/shared/file-shapes.js';
import type { TestApp } from './app.js';
import { as, type Session } from './http.js';

export type Part = { name: string; value: string } | { name: string; filename: string; contentType?: string; data: Buffer };

/** A multipart/form-data body of the parts, in order, and its Content-Type header. */
export function multipart(parts: Part[]): { payload: Buffer; contentType: string } {
  const boundary = `----securechat${randomBytes(8).toString('hex')}`;
  const pieces: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`;
      pieces.push(Buffer.from(head, 'utf8'), part.data, Buffer.from('\r\n'));
    }
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface UploadInput {
  name: string;
  data: Buffer;
  /** What the client claims (the server ignores it). */
  contentType?: string;
  keepMetadata?: boolean;
}

type AppTarget = FastifyInstance | (() => FastifyInstance);
const appOf = (target: AppTarget) => ('inject' in target ? target : target());

/** POST /api/v1/rooms/:roomId/files as the session (null: signed out); the raw answer. */
export function postFile(target: AppTarget, session: Session | null, roomId: string, input: UploadInput): Promise<LightMyRequestResponse> {
  const parts: Part[] = [];
  if (input.keepMetadata !== undefined) parts.push({ name: 'keepMetadata', value: String(input.keepMetadata) });
  parts.push({ name: 'file', filename: input.name, contentType: input.contentType, data: input.data });
  const { payload, contentType } = multipart(parts);
  return appOf(target).inject({
    method: 'POST',
    url: `/api/v1/rooms/${roomId}/files`,
    headers: { ...(session ? as(session) : {}), 'content-type': contentType },
    payload,
  });
}

/** Uploads and returns the stored file; throws on anything but 201. */
export async function uploadFile(target: AppTarget, session: Session, roomId: string, input: UploadInput): Promise<FileInfo> {
  const answer = await postFile(target, session, roomId, input);
  if (answer.statusCode !== 201) throw new Error(`upload of ${input.name} failed: ${answer.statusCode} ${answer.body}`);
  return (answer.json() as { file: FileInfo }).file;
}

/** GET /api/v1/files/:fileId (or its thumbnail) as the session; the bytes are `rawPayload`. */
export function downloadFile(
  target: AppTarget,
  session: Session | null,
  fileId: string,
  options: { range?: string; thumbnail?: boolean; method?: 'GET' | 'HEAD' } = {},
): Promise<LightMyRequestResponse> {
  return appOf(target).inject({
    method: options.method ?? 'GET',
    url: `/api/v1/files/${fileId}${options.thumbnail ? '/thumbnail' : ''}`,
    headers: { ...(session ? { cookie: session.cookie } : {}), ...(options.range ? { range: options.range } : {}) },
  });
}

/** A 1×1 PNG. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** `bytes` bytes that repeat no pattern a chunk boundary could hide behind. */
export function randomFile(bytes: number): Buffer {
  return randomBytes(bytes);
}


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
