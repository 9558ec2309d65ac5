/**
 * Files for tests: a multipart/form-data body built by hand (what a browser's FormData
 * sends), uploads and downloads over `inject`, and a few small real files.
 *
 *   const file = await uploadFile(t.app, alice, roomId, { name: 'notes.txt', data: Buffer.from('hi') });
 *   const answer = await downloadFile(t.app, alice, file.id, { range: 'bytes=0-1' });
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { FileInfo } from '../../src/shared/protocol.js';
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
