/**
 * What a file is, from its bytes (never from the name or the type a client claims), and
 * how it is served. A browser must never be handed something it would run or render as a
 * page: only raster images are shown inline; a short list of passive types keeps its
 * type on download; everything else — HTML, SVG, XML, JavaScript, PDF (its viewer runs
 * scripts), anything unknown — is served as application/octet-stream, as an attachment.
 */
import { isUtf8 } from 'node:buffer';
import { fileTypeFromBuffer } from 'file-type';

/** Bytes gathered before detecting: what file-type reads of a file's start. */
export const SNIFF_BYTES = 4100;

/** Raster images a browser shows inline (and the image step makes thumbnails of). */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

/** Passive types served with their own Content-Type, as a download. */
const PASSIVE = new Set([
  'text/plain',
  'application/zip',
  'application/gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/x-bzip2',
  'application/x-xz',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/flac',
  'audio/mp4',
  'video/mp4',
  'video/webm',
  'video/quicktime',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
]);

export const OCTET_STREAM = 'application/octet-stream';

/**
 * Markup a browser would sniff as a page (the HTML and XML signatures of the WHATWG MIME
 * sniffing standard, and SVG): plain text that starts like this is not called text/plain.
 */
const HTML_START = /^<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]/i;
const SVG_START = /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!doctype[^>]*>\s*)*<svg[\s>]/i;

/** The type of a file from its first bytes (at least SNIFF_BYTES of them, or the whole file). */
export async function detectType(head: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime;
  if (head.includes(0) || !isUtf8(withoutCutCharacter(head))) return OCTET_STREAM;
  const text = head.toString('utf8').replace(/^\ufeff/, '').trimStart();
  if (SVG_START.test(text)) return 'image/svg+xml';
  if (HTML_START.test(text) || /^<\?xml/i.test(text)) return text.startsWith('<?') ? 'application/xml' : 'text/html';
  return 'text/plain';
}

/** The head without a last character the cut split (up to 3 bytes of an unfinished UTF-8 sequence). */
function withoutCutCharacter(head: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, head.length); back += 1) {
    const byte = head[head.length - back]!;
    if ((byte & 0xc0) !== 0x80) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? head.subarray(0, head.length - back) : head;
    }
  }
  return head;
}

/** Whether the type is a raster image shown inline (and given to the image step). */
export const isInlineImage = (mime: string): boolean => INLINE_IMAGE_TYPES.has(mime);

/** How a file of that type is served: its Content-Type and whether it is shown inline. */
export function servingOf(mime: string): { contentType: string; inline: boolean } {
  if (INLINE_IMAGE_TYPES.has(mime)) return { contentType: mime, inline: true };
  if (mime === 'text/plain') return { contentType: 'text/plain; charset=utf-8', inline: false };
  if (PASSIVE.has(mime)) return { contentType: mime, inline: false };
  return { contentType: OCTET_STREAM, inline: false };
}
