/** The one definition of a search word and of the query language (src/shared/search-words.ts). */
import { describe, expect, it } from 'vitest';
import {
  matchesQueryWord,
  normalizeWord,
  parseSearchQuery,
  SEARCH_WORD_MAX,
  SEARCH_WORDS_MAX,
  SearchQueryError,
  searchWords,
  wordSpans,
} from '../../src/shared/search-words.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('normalizeWord', () => {
  it('drops accents and case: café, CAFÉ and cafe compare as one', () => {
    expect(normalizeWord('café')).toBe('cafe');
    expect(normalizeWord('CAFÉ')).toBe('cafe');
    expect(normalizeWord('Ærøskøbing')).toBe('ærøskøbing'); // letters, not accents: kept
    expect(normalizeWord('Crème Brûlée'.split(' ')[1]!)).toBe('brulee');
  });

  it('treats a precomposed letter and a letter with a combining mark alike', () => {
    expect(normalizeWord('e\u0301')).toBe(normalizeWord('\u00e9'));
    expect(normalizeWord('n\u0303o')).toBe('no');
  });

  it('folds compatibility forms (NFKD): full-width letters, ligatures, circled digits', () => {
    expect(normalizeWord('Ａｄｍｉｎ')).toBe('admin');
    expect(normalizeWord('ﬁle')).toBe('file');
    expect(normalizeWord('①')).toBe('1');
    expect(normalizeWord('İstanbul')).toBe('istanbul');
  });

  it(`cuts a long word to ${SEARCH_WORD_MAX} characters, after folding`, () => {
    expect(normalizeWord('a'.repeat(100))).toBe('a'.repeat(SEARCH_WORD_MAX));
    // The accents are dropped first, so they do not count towards the maximum.
    expect(normalizeWord('é'.repeat(SEARCH_WORD_MAX + 5))).toBe('e'.repeat(SEARCH_WORD_MAX));
    expect(normalizeWord('e\u0301'.repeat(SEARCH_WORD_MAX))).toBe('e'.repeat(SEARCH_WORD_MAX));
  });

  it('never cuts a character in two (a letter outside the BMP at the cut keeps both halves or neither)', () => {
    const word = normalizeWord(`${'a'.repeat(SEARCH_WORD_MAX - 1)}\u{10400}`);
    expect(word.isWellFormed()).toBe(true);
  });

  it('folds the Greek final sigma: an upper-case prefix ending in Σ finds the word it begins', () => {
    // 'ΟΔΟΣ'.toLowerCase() is 'οδος' (final ς) but 'ΟΔΟΣΤΡΩΜΑ' lower-cases to 'οδοστρωμα' (σ).
    const query = parseSearchQuery('ΟΔΟΣ');
    expect(matchesQueryWord(normalizeWord('ΟΔΟΣΤΡΩΜΑ'), query)).toBe(true);
    expect(matchesQueryWord(normalizeWord('οδόστρωμα'), query)).toBe(true);
  });

  it('makes nothing of marks alone', () => {
    expect(normalizeWord('\u0301\u0302')).toBe('');
  });
});

describe('wordSpans and searchWords', () => {
  it('finds runs of letters and digits, with their places in the text as written', () => {
    const text = 'Hi, Zoë! Room 42-b: naïve—ok';
    const spans = wordSpans(text);
    expect(spans.map((s) => s.word)).toEqual(['hi', 'zoe', 'room', '42', 'b', 'naive', 'ok']);
    for (const span of spans) expect(normalizeWord(text.slice(span.start, span.end))).toBe(span.word);
    expect(spans[1]).toEqual({ start: 4, end: 7, word: 'zoe' });
    expect(spans[5]).toEqual({ start: 20, end: 25, word: 'naive' });
  });

  it('keeps the original length of a decomposed word in its span', () => {
    const text = 'x cafe\u0301 y';
    expect(wordSpans(text)).toEqual([
      { start: 0, end: 1, word: 'x' },
      { start: 2, end: 7, word: 'cafe' },
      { start: 8, end: 9, word: 'y' },
    ]);
  });

  it('skips a run of marks alone (nothing left to compare)', () => {
    expect(wordSpans('\u0301 a')).toEqual([{ start: 2, end: 3, word: 'a' }]);
  });

  it('reads CJK, Cyrillic and emoji text: letters are words, emoji are not', () => {
    expect(searchWords('Привет мир 😀 東京')).toEqual(['привет', 'мир', '東京']);
  });

  it('gives each word once', () => {
    expect(searchWords('Go go GO gö')).toEqual(['go']);
    expect(searchWords('')).toEqual([]);
    expect(searchWords('!!! ... ---')).toEqual([]);
  });
});

describe('parseSearchQuery', () => {
  it('reads words, the last one as a prefix, normalized like the index', () => {
    expect(parseSearchQuery('Launch  CODÉ pro')).toEqual({ words: ['launch', 'code'], prefix: 'pro', hasFile: false });
    expect(parseSearchQuery('one')).toEqual({ words: [], prefix: 'one', hasFile: false });
  });

  it('splits a written word as the index does (hyphens, punctuation)', () => {
    expect(parseSearchQuery('e-mail')).toMatchObject({ words: ['e'], prefix: 'mail' });
  });

  it('reads the filters, case-insensitively, anywhere in the query', () => {
    const query = parseSearchQuery('FROM:@Alice budget has:FILE after:2026-03-01 before:2026-04-01');
    expect(query).toEqual({
      words: [],
      prefix: 'budget',
      from: 'Alice',
      hasFile: true,
      since: Date.UTC(2026, 2, 1) + DAY_MS,
      until: Date.UTC(2026, 3, 1),
    });
  });

  it('starts after: on the next UTC day and ends before: at the start of its day', () => {
    expect(parseSearchQuery('after:2026-12-31').since).toBe(Date.UTC(2027, 0, 1));
    expect(parseSearchQuery('before:2024-02-29').until).toBe(Date.UTC(2024, 1, 29));
  });

  it('has only filters: no prefix', () => {
    expect(parseSearchQuery('has:file')).toEqual({ words: [], hasFile: true });
    expect(parseSearchQuery('from:bob').prefix).toBeUndefined();
  });

  it('reads an empty or word-less query as nothing (the service refuses it)', () => {
    expect(parseSearchQuery('')).toEqual({ words: [], hasFile: false });
    expect(parseSearchQuery('   ')).toEqual({ words: [], hasFile: false });
    expect(parseSearchQuery('!!! ???')).toEqual({ words: [], hasFile: false });
  });

  it.each([
    ['from:', 'from:'],
    ['from:@', 'from:'],
    ['has:photo', 'has:'],
    ['has:', 'has:'],
    ['after:', 'after:'],
    ['after:2026-02-30', 'after:'],
    ['before:2026-02-29', 'before:'],
    ['after:2026-04-31', 'after:'],
    ['after:2026-00-10', 'after:'],
    ['before:2026-13-01', 'before:'],
    ['after:2026-03-00', 'after:'],
    ['after:2026-3-1', 'after:'],
    ['before:yesterday', 'before:'],
    ['after:2026-03-01T00:00', 'after:'],
  ])('refuses %s with a message naming the filter', (q, filter) => {
    expect(() => parseSearchQuery(`hello ${q}`)).toThrow(SearchQueryError);
    expect(() => parseSearchQuery(`hello ${q}`)).toThrow(filter);
  });

  it('reads a year below 100 as that year, not as 19xx (or refuses it)', () => {
    let since: number | undefined;
    try {
      since = parseSearchQuery('after:0050-06-01').since;
    } catch (error) {
      expect(error).toBeInstanceOf(SearchQueryError);
      return;
    }
    expect(new Date(since! - DAY_MS).getUTCFullYear()).toBe(50);
  });

  it(`takes at most ${SEARCH_WORDS_MAX} distinct words (filters and repeats not counted)`, () => {
    const words = Array.from({ length: SEARCH_WORDS_MAX }, (_, i) => `w${i}`);
    // The last word (W1) is the prefix, and stays a whole word too: it was typed whole earlier.
    expect(parseSearchQuery(`${words.join(' ')} w0 W1 from:bob has:file`)).toMatchObject({ words, prefix: 'w1' });
    expect(() => parseSearchQuery([...words, 'one-more'].join(' '))).toThrow(SearchQueryError);
    // A written word that splits into many counts each part.
    expect(() => parseSearchQuery('a-b-c-d-e-f-g-h-i')).toThrow(SearchQueryError);
  });

  it('keeps a word typed whole earlier even when the last word repeats it ("foo foo" needs the whole word foo)', () => {
    // The last word is a prefix; an earlier copy of it was typed whole and must match whole.
    expect(parseSearchQuery('foo foo')).toEqual({ words: ['foo'], prefix: 'foo', hasFile: false });
  });
});

describe('matchesQueryWord', () => {
  it('matches a whole word or a word starting with the prefix', () => {
    const query = parseSearchQuery('launch co');
    expect(matchesQueryWord('launch', query)).toBe(true);
    expect(matchesQueryWord('code', query)).toBe(true);
    expect(matchesQueryWord('co', query)).toBe(true);
    expect(matchesQueryWord('launcher', query)).toBe(false);
    expect(matchesQueryWord('deco', query)).toBe(false);
    expect(matchesQueryWord('anything', { words: [] })).toBe(false);
  });
});
