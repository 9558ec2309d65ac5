/**
 * HTTP surface of files (the Files part of api.md): the upload, streamed from a multipart
 * body, and downloads, streamed with Range support and headers that keep a browser from
 * running anything it is handed.
 */
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifySchemaCompiler } from 'fastify';
import { Type } from 'typebox';
import { ErrorSchema, FileSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import { AppError, errors } from '../http/errors.js';
import { createValidatorCompiler } from '../http/validation.js';
import { contentDisposition } from './file-names.js';
import { servingOf } from './file-types.js';
import type { FilesService, IncomingFile, OpenedFile } from './files.service.js';

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const FileParams = Type.Object({ fileId: Type.String({ minLength: 1, maxLength: 64 }) });
/** The bytes, in whatever type the serving policy gives them (file-types.ts). */
const bytes = (description: string) => ({ description, content: { '*/*': { schema: Type.String({ format: 'binary' }) } } });

/** Headers of every file answer: never sniffed, never run, never kept in a cache (a shared computer keeps nothing). */
const FILE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
  'cache-control': 'no-store',
  'accept-ranges': 'bytes',
};

/** The multipart parser's errors (its limits, a malformed body) as the API's. */
function multipartError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return errors.validation('Send one file per upload, in a part named "file" (with at most a keepMetadata field before it).', 'file');
  }
  if (code === 'FST_MP_PREMATURE_CLOSE') return new AppError(400, 'bad_request', 'The upload ended before the file had arrived.');
  return errors.validation('The multipart/form-data body is malformed.', 'file');
}

/**
 * A single range of `size` bytes from a Range header: undefined means the whole file (no
 * header, another unit, several ranges or a malformed one: RFC 9110 §14.2 lets a server
 * ignore those), 'unsatisfiable' a range that starts past the end.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

export const filesRoutes: FastifyPluginAsyncTypebox<{ files: FilesService; guard: AuthGuard; maxBytes: number }> = async (app, { files, guard, maxBytes }) => {
  // Only here: no other route takes multipart. The file is at most FILE_MAX_MB (past that the stream is cut and marked truncated).
  await app.register(multipart, { limits: { files: 1, fields: 2, parts: 3, fieldSize: 256, headerPairs: 50, fileSize: maxBytes } });
  app.addHook('onRequest', guard.requireUser);

  // The body is a stream the handler reads; its schema only documents it.
  const compile = createValidatorCompiler();
  const unvalidatedBody: FastifySchemaCompiler<unknown> = (route) => (route.httpPart === 'body' ? () => true : compile(route));

  app.post(
    '/rooms/:roomId/files',
    {
      validatorCompiler: unvalidatedBody,
      schema: {
        tags: ['files'],
        summary: 'Upload a file to the room (members only); a message names it in `attachments` to show it to the room',
        description:
          'multipart/form-data with one part `file` (optionally preceded by a field `keepMetadata=true` to keep an image’s EXIF metadata). ' +
          'The type is detected from the bytes. 413 `file_too_large` over FILE_MAX_MB, 413 `quota_exceeded` past FILE_QUOTA_MB; rate-limited per user.',
        consumes: ['multipart/form-data'],
        params: RoomParams,
        body: Type.Object({
          keepMetadata: Type.Optional(Type.String({ enum: ['true', 'false'], description: 'Keep EXIF and other image metadata (default: stripped).' })),
          file: Type.String({ format: 'binary' }),
        }),
        response: { 201: Type.Object({ file: FileSchema }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError(415, 'unsupported_media_type', 'Send the file as multipart/form-data, in a part named "file".');
      const length = Number(request.headers['content-length']);
      const receive = async (): Promise<IncomingFile | undefined> => {
        const part = await request.file().catch((error: unknown) => Promise.reject(multipartError(error)));
        if (!part) return undefined;
        if (part.fieldname !== 'file') throw errors.validation('The file goes in a part named "file".', 'file');
        const keep = part.fields.keepMetadata;
        const keepMetadata = keep !== undefined && !Array.isArray(keep) && keep.type === 'field' && keep.value === 'true';
        return { name: part.filename, stream: part.file, keepMetadata, truncated: () => part.file.truncated };
      };
      try {
        const file = await files.upload(callerOf(request).user, request.params.roomId, { contentLength: Number.isFinite(length) ? length : undefined, receive });
        return await reply.status(201).send({ file });
      } catch (error) {
        // Refused before the body ended: close the connection after the answer rather than read the rest of it.
        if (!request.raw.complete) reply.header('connection', 'close');
        throw error;
      }
    },
  );

  async function serve(reply: FastifyReply, file: OpenedFile, rangeHeader: string | undefined): Promise<FastifyReply> {
    const range = parseRange(rangeHeader, file.size);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${file.size}`);
      throw new AppError(416, 'range_not_satisfiable', `The file has ${file.size} bytes: ask for a range that starts inside it.`);
    }
    const { contentType, inline } = servingOf(file.mime);
    reply.headers({ ...FILE_HEADERS, 'content-type': contentType, 'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', file.name) });
    const { start, end } = range ?? { start: 0, end: file.size - 1 };
    if (range) reply.status(206).header('content-range', `bytes ${start}-${end}/${file.size}`);
    reply.header('content-length', String(end - start + 1));
    return reply.send(Readable.from(files.read(file, start, end), { objectMode: false }));
  }

  const downloadSchema = (summary: string) => ({
    tags: ['files'],
    summary,
    params: FileParams,
    headers: Type.Object({ range: Type.Optional(Type.String({ description: 'One range, `bytes=a-b`, `bytes=a-` or `bytes=-n` (several ranges: the whole file).' })) }),
    response: { 200: bytes('The file’s bytes.'), 206: bytes('The asked range of them, with Content-Range.'), 401: ErrorSchema, 404: ErrorSchema, 416: ErrorSchema },
  });

  app.get(
    '/files/:fileId',
    {
      schema: {
        ...downloadSchema('Download a file: its uploader before a message names it, then the room’s members (404 to anyone else, as for an unknown id)'),
        description:
          'Raster images are shown inline; everything else is an attachment, and HTML, SVG and other active types are served as application/octet-stream. ' +
          "Every answer has X-Content-Type-Options: nosniff and Content-Security-Policy: sandbox; default-src 'none'.",
      },
    },
    async (request, reply) => serve(reply, await files.open(callerOf(request).user.id, request.params.fileId, 'file'), request.headers.range),
  );

  app.get(
    '/files/:fileId/thumbnail',
    { schema: downloadSchema('A small image of an image file (404 when it has none), to whoever may download the file') },
    async (request, reply) => serve(reply, await files.open(callerOf(request).user.id, request.params.fileId, 'thumbnail'), request.headers.range),
  );
};
