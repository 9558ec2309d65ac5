/**
 * What a search word is, for the server's index and the client's highlighting alike: runs
 * of letters and digits, compared case- and accent-insensitively. And the query language:
 * words (all must match; the last one as a prefix, as one types) and filters
 * `from:username`, `has:file`, `after:YYYY-MM-DD`, `before:YYYY-MM-DD` (UTC days, both
 * exclusive: `after:2026-03-01` starts on 2 March).
 */

/** Longer words are cut to this many characters (in the index and in queries alike). */
export const SEARCH_WORD_MAX = 40;
/** The most words a query may hold (filters not counted). */
export const SEARCH_WORDS_MAX = 8;
export const SEARCH_QUERY_MAX = 300;

const WORD_RUN = /[\p{L}\p{M}\p{N}]+/gu;
const MARKS = /\p{M}/gu;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The compared form of one word: no accents (NFKD, marks dropped), lower case with a Greek
 * final sigma as σ (so a prefix typed in capitals still finds the word it begins), cut to
 * the maximum without splitting a character.
 */
export function normalizeWord(word: string): string {
  const folded = word.normalize('NFKD').replace(MARKS, '').toLowerCase().replaceAll('ς', 'σ');
  if (folded.length <= SEARCH_WORD_MAX) return folded;
  const last = folded.charCodeAt(SEARCH_WORD_MAX - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? SEARCH_WORD_MAX - 1 : SEARCH_WORD_MAX;
  return folded.slice(0, cut);
}

/** A word of a text: where it is in the text, and its compared form. */
export interface WordSpan {
  start: number;
  end: number;
  word: string;
}

export function wordSpans(text: string): WordSpan[] {
  const spans: WordSpan[] = [];
  for (const match of text.matchAll(WORD_RUN)) {
    const word = normalizeWord(match[0]);
    if (word.length > 0) spans.push({ start: match.index, end: match.index + match[0].length, word });
  }
  return spans;
}

/** The distinct compared words of a text. */
export function searchWords(text: string): string[] {
  return [...new Set(wordSpans(text).map((span) => span.word))];
}

export interface SearchQuery {
  /** Words that must appear whole. */
  words: string[];
  /** The last word typed: some word must start with it. Absent when the query has only filters. */
  prefix?: string;
  from?: string;
  hasFile: boolean;
  /** Times in ms: created at or after `since`, before `until`. */
  since?: number;
  until?: number;
}

/** A query that cannot be read; the message says which filter and how to write it. */
export class SearchQueryError extends Error {}

/** The start of a UTC day written YYYY-MM-DD, refused unless it is a real day from 1970 on. */
function dayStart(text: string, filter: string): number {
  const [, year, month, day] = (DAY.exec(text) ?? []).map(Number) as [unknown, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (!(year >= 1970) || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new SearchQueryError(`${filter}: takes a day as YYYY-MM-DD (from 1970 on), such as ${filter}:2026-03-01.`);
  }
  return date.getTime();
}

export function parseSearchQuery(q: string): SearchQuery {
  const query: SearchQuery = { words: [], hasFile: false };
  const words: string[] = [];
  for (const part of q.split(/\s+/u).filter(Boolean)) {
    const filter = /^(from|has|after|before):(.*)$/iu.exec(part);
    if (!filter) {
      words.push(...wordSpans(part).map((span) => span.word));
      continue;
    }
    const [, name, value] = filter as unknown as [string, string, string];
    switch (name.toLowerCase()) {
      case 'from':
        if (!value.replace(/^@/u, '')) throw new SearchQueryError('from: takes a username, such as from:alice.');
        query.from = value.replace(/^@/u, '');
        break;
      case 'has':
        if (value.toLowerCase() !== 'file') throw new SearchQueryError('has: takes only "file" (has:file).');
        query.hasFile = true;
        break;
      case 'after':
        query.since = dayStart(value, 'after') + DAY_MS;
        break;
      case 'before':
        query.until = dayStart(value, 'before');
        break;
    }
  }
  const distinct = [...new Set(words)];
  if (distinct.length > SEARCH_WORDS_MAX) throw new SearchQueryError(`A search may hold at most ${SEARCH_WORDS_MAX} words.`);
  query.prefix = words.at(-1);
  // A word typed whole earlier stays whole, even when it is also the last one (`foo foo`).
  query.words = distinct.filter((word) => word !== query.prefix || words.indexOf(word) < words.length - 1);
  return query;
}

/** Whether a text's word is one the query looks for (a whole word, or one starting with the prefix). */
export function matchesQueryWord(word: string, query: Pick<SearchQuery, 'words' | 'prefix'>): boolean {
  return query.words.includes(word) || (query.prefix !== undefined && word.startsWith(query.prefix));
}
