/**
 * What the search dialog shows, worked out as plain data: the query sent (words plus the
 * person filter), a result's excerpt cut around its first match with the matched words
 * marked, and the keyboard's move through the results. The words are found with the same
 * definition the server's index uses (shared/search-words.ts), so what is marked is
 * exactly what matched; filters such as `from:x` mark nothing.
 */
import { matchesQueryWord, parseSearchQuery, wordSpans, type SearchQuery } from '../shared/search-words.js';

/** A run of an excerpt: plain text, or a word the query matched. */
export interface TextPart {
  text: string;
  match: boolean;
}

/** Characters of context kept before the first match when a body is cut. */
const LEAD = 40;
/** An excerpt's length at most (ellipses aside). */
export const EXCERPT_MAX = 180;

/** The `q` to send: the typed words, and `from:<person>` when a person is given. */
export function composeQuery(words: string, person: string): string {
  // A username has no spaces or colons: whatever else was typed cannot turn into words or filters.
  const name = person.trim().replace(/^@/u, '').replace(/[\s:]+/gu, '');
  return [words.trim(), name ? `from:${name}` : ''].filter(Boolean).join(' ');
}

/** The words a query highlights, or null when it cannot be read (the server says why). */
export function highlightQuery(q: string): Pick<SearchQuery, 'words' | 'prefix'> | null {
  try {
    const { words, prefix } = parseSearchQuery(q);
    return { words, prefix };
  } catch {
    return null;
  }
}

/** `text` split into plain runs and matched words. */
export function highlightParts(text: string, query: Pick<SearchQuery, 'words' | 'prefix'> | null): TextPart[] {
  return excerptParts(text, query, Number.POSITIVE_INFINITY);
}

/**
 * The part of `text` to show for a result: all of it when short, else a window of about
 * `max` characters starting a little before the first matched word, cut at spaces, with
 * "…" where text was left out. Newlines become spaces (the excerpt is one paragraph).
 */
export function excerptParts(text: string, query: Pick<SearchQuery, 'words' | 'prefix'> | null, max = EXCERPT_MAX): TextPart[] {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const matches = query ? wordSpans(flat).filter((span) => matchesQueryWord(span.word, query)) : [];
  let start = 0;
  let end = flat.length;
  if (flat.length > max) {
    const first = matches[0]?.start ?? 0;
    start = first - LEAD > 0 ? wordStart(flat, first - LEAD, first) : 0;
    end = Math.min(flat.length, start + max);
    if (end < flat.length) end = wordEnd(flat, start, end);
  }
  const parts: TextPart[] = [];
  const push = (part: string, match: boolean) => part && parts.push({ text: part, match });
  if (start > 0) push('…', false);
  let at = start;
  for (const span of matches) {
    if (span.end <= start || span.start >= end) continue;
    const from = Math.max(span.start, start);
    push(flat.slice(at, from), false);
    push(flat.slice(from, Math.min(span.end, end)), true);
    at = Math.min(span.end, end);
  }
  push(flat.slice(at, end), false);
  if (end < flat.length) push('…', false);
  return parts;
}

/** The first word start at or after `from` (a space before it), not past `limit`. */
function wordStart(text: string, from: number, limit: number): number {
  const space = text.indexOf(' ', from);
  return space === -1 || space + 1 > limit ? from : space + 1;
}

/** The last space before `end` (so no word is cut), unless that leaves nothing. */
function wordEnd(text: string, start: number, end: number): number {
  const space = text.lastIndexOf(' ', end);
  return space > start ? space : end;
}

/** Which result is active after a key (-1: none); null when the key does not move. */
export function moveActive(active: number, count: number, key: string): number | null {
  if (count === 0) return null;
  switch (key) {
    case 'ArrowDown':
      return Math.min(active + 1, count - 1);
    case 'ArrowUp':
      return Math.max(active - 1, 0);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
