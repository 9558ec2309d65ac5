/**
 * multipart/form-data framing for a streamed upload of one file part: the bytes before
 * and after the file's contents, so a client can send a Content-Length and then write the
 * contents piece by piece without holding the whole file.
 */
import { randomBytes } from 'node:crypto';

export interface FilePart {
  /** The form field's name (`file` for POST /api/v1/rooms/:roomId/files). */
  field: string;
  fileName: string;
  contentType: string;
}

export interface MultipartFraming {
  /** The request's Content-Type header value. */
  contentType: string;
  /** Everything before the file's bytes: the boundary line and the part's headers. */
  head: Buffer;
  /** Everything after them: the closing boundary. */
  tail: Buffer;
  /** The whole body's length for `fileBytes` of contents. */
  bodyLength(fileBytes: number): number;
}

/** A name safe inside a quoted header parameter (no quotes, backslashes, or line breaks). */
function quotable(name: string, what: string): string {
  if (/["\\\r\n]/.test(name)) throw new Error(`multipart: the ${what} ${JSON.stringify(name)} cannot be quoted`);
  return name;
}

/** The framing of one file part; `boundary` defaults to a random one. */
export function multipartFraming(part: FilePart, boundary = `securechat-bench-${randomBytes(12).toString('hex')}`): MultipartFraming {
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${quotable(part.field, 'field')}"; filename="${quotable(part.fileName, 'file name')}"\r\n` +
      `Content-Type: ${part.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head,
    tail,
    bodyLength: (fileBytes) => head.length + fileBytes + tail.length,
  };
}

/**
 * The contents of bench file `label`: `size` bytes, written as pieces of at most
 * `pieceBytes`, taken from `block` (random bytes, reused) after a first line naming the
 * file, so no two files are alike and none looks like a known type (it is stored as
 * application/octet-stream, with no image step).
 */
export function* benchFileContents(label: string, size: number, block: Buffer, pieceBytes = 256 * 1024): Generator<Buffer> {
  if (block.length === 0) throw new Error('benchFileContents: an empty block');
  const first = Buffer.from(`securechat bench file ${label}\n`).subarray(0, size);
  if (first.length > 0) yield first;
  let offset = first.length;
  while (offset < size) {
    const at = offset % block.length;
    const take = Math.min(pieceBytes, size - offset, block.length - at);
    yield block.subarray(at, at + take);
    offset += take;
  }
}
