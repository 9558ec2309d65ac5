/**
 * @mentions: one set of rules for the server (which members a message mentions) and the
 * client (what to highlight, what the composer autocompletes). `@` starts a mention at the
 * start of the text or after a character that cannot be in a username (so `a@b.example` is
 * an address, not a mention); the name runs over username characters, and trailing dots
 * end it ("@bob." and "@bob," mention bob). Names compare case-insensitively.
 */

const NAME_CHAR = /[A-Za-z0-9_.-]/;
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]+)/g;

export interface MentionSpan {
  /** Index of the `@`. */
  start: number;
  /** Index just past the name. */
  end: number;
  /** The name as typed (without `@`). */
  name: string;
}

/** Every `@name` in the text, in order, with its position. */
export function mentionSpans(text: string): MentionSpan[] {
  const spans: MentionSpan[] = [];
  for (const match of text.matchAll(MENTION)) {
    const name = match[2]!.replace(/\.+$/, '');
    if (name.length === 0) continue;
    const start = match.index! + match[1]!.length;
    spans.push({ start, end: start + 1 + name.length, name });
  }
  return spans;
}

/** The distinct names mentioned, lower-cased (the key they are looked up by). */
export function mentionedNames(text: string): string[] {
  return [...new Set(mentionSpans(text).map((span) => mentionKey(span.name)))];
}

/** How a username compares in a mention. */
export const mentionKey = (username: string): string => username.toLowerCase();

/** The text cut into plain parts and mentions, for highlighting (`known` decides which names count). */
export function splitMentions(text: string, known: (name: string) => boolean = () => true): Array<{ text: string; mention?: string }> {
  const parts: Array<{ text: string; mention?: string }> = [];
  let at = 0;
  for (const span of mentionSpans(text)) {
    if (!known(span.name)) continue;
    if (span.start > at) parts.push({ text: text.slice(at, span.start) });
    parts.push({ text: text.slice(span.start, span.end), mention: mentionKey(span.name) });
    at = span.end;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at) });
  return parts;
}

/**
 * The mention being typed at the caret, for the composer's autocomplete: the partial name
 * and where its `@` is; null when the caret is not in one.
 */
export function mentionAtCaret(text: string, caret: number): { start: number; query: string } | null {
  let start = caret;
  while (start > 0 && NAME_CHAR.test(text[start - 1]!)) start -= 1;
  if (start === 0 || text[start - 1] !== '@') return null;
  const before = start - 2;
  if (before >= 0 && /[A-Za-z0-9_.@-]/.test(text[before]!)) return null;
  return { start: start - 1, query: text.slice(start, caret) };
}

/** The excerpt of a replied-to message: its start, on one line. */
export const EXCERPT_MAX = 140;
export function excerptOf(body: string): string {
  const points = Array.from(body.replace(/\s+/g, ' ').trim());
  // Cut by code point, so an emoji is never split in half.
  return points.length <= EXCERPT_MAX ? points.join('') : `${points.slice(0, EXCERPT_MAX - 1).join('')}…`;
}
