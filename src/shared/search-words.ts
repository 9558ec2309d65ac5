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

/** The compared form of one word: no accents (NFKD, marks dropped), lower case, cut to the maximum. */
export function normalizeWord(word: string): string {
  return word.normalize('NFKD').replace(MARKS, '').toLowerCase().slice(0, SEARCH_WORD_MAX);
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

function dayStart(text: string, filter: string): number {
  const parts = DAY.exec(text);
  const time = parts ? Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])) : Number.NaN;
  const date = new Date(time);
  if (!parts || Number.isNaN(time) || date.getUTCDate() !== Number(parts[3])) {
    throw new SearchQueryError(`${filter}: takes a day as YYYY-MM-DD, such as ${filter}:2026-03-01.`);
  }
  return time;
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
  query.words = distinct.filter((word) => word !== query.prefix);
  return query;
}

/** Whether a text's word is one the query looks for (a whole word, or one starting with the prefix). */
export function matchesQueryWord(word: string, query: Pick<SearchQuery, 'words' | 'prefix'>): boolean {
  return query.words.includes(word) || (query.prefix !== undefined && word.startsWith(query.prefix));
}
