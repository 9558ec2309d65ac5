/**
 * File names as people will see them: whatever a client sends, what is kept is a bare
 * name (no folders), with nothing invisible or direction-changing in it, so "report‮fdp.exe"
 * cannot pose as a PDF and "../../etc/passwd" names no path.
 */
import { FILE_LIMITS } from '../../shared/file-shapes.js';

// C0, DEL and C1 controls; the Arabic letter mark, zero-width and direction marks (U+200B–U+200F),
// line and paragraph separators, bidi embeddings and overrides (U+202A–U+202E), word joiner and
// invisible operators (U+2060–U+2064), bidi isolates (U+2066–U+2069) and the BOM / zero-width no-break space.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const EDGES = /^[.\s]+|[.\s]+$/g;
/** An extension worth keeping when a long name is shortened: a dot and up to 16 letters or digits. */
const EXTENSION = /\.[\p{L}\p{N}]{1,16}$/u;

/** The name to store for what a client called its file; never empty ("file"). */
export function sanitiseFileName(raw: string, maxLength: number = FILE_LIMITS.nameMax): string {
  // Basename first: both separators, since Windows clients send C:\Users\…\name.
  const base = raw.split(/[/\\]/).pop() ?? '';
  let name = base.replace(INVISIBLE, '').normalize('NFC').replace(EDGES, '');
  if (name.length > maxLength) name = shorten(name, maxLength);
  return name === '' ? 'file' : name;
}

function shorten(name: string, maxLength: number): string {
  const extension = EXTENSION.exec(name)?.[0] ?? '';
  let stem = name.slice(0, maxLength - extension.length);
  // Never cut a surrogate pair in half.
  if (/[\ud800-\udbff]$/.test(stem)) stem = stem.slice(0, -1);
  return `${stem.replace(EDGES, '')}${extension}`;
}

/**
 * `Content-Disposition` for the name: an ASCII fallback in `filename` and the exact name in
 * `filename*` (RFC 6266 / RFC 8187), which every current browser prefers.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
