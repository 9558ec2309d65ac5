import { describe, expect, it } from 'vitest';
import {
  composeQuery,
  excerptParts,
  highlightParts,
  highlightQuery,
  moveActive,
  type TextPart,
} from '../../src/client/search-view.js';
import { isTextEntry, opensSearch } from '../../src/client/search-keys.js';

const marked = (parts: TextPart[]) => parts.filter((part) => part.match).map((part) => part.text);
const joined = (parts: TextPart[]) => parts.map((part) => part.text).join('');

describe('the query the search dialog sends', () => {
  it('appends the person filter as from:<name>, dropping a leading @', () => {
    expect(composeQuery('  lunch plans ', '')).toBe('lunch plans');
    expect(composeQuery('lunch', ' @bob ')).toBe('lunch from:bob');
    expect(composeQuery('', 'bob')).toBe('from:bob');
    expect(composeQuery(' ', ' ')).toBe('');
    // Spaces and colons cannot make the name a second word or a filter.
    expect(composeQuery('lunch', 'bob smith')).toBe('lunch from:bobsmith');
    expect(composeQuery('lunch', 'has:file')).toBe('lunch from:hasfile');
  });

  it('highlights nothing for a query the server will refuse', () => {
    expect(highlightQuery('has:photo')).toBeNull();
    expect(highlightQuery('cafe from:bob')).toEqual({ words: [], prefix: 'cafe' });
  });
});

describe('marking the matched words', () => {
  it('marks whole words accent- and case-insensitively, the last query word as a prefix', () => {
    const parts = highlightParts('Lunch at the Café Zebrine, CAFE later', highlightQuery('cafe zeb'));
    expect(marked(parts)).toEqual(['Café', 'Zebrine', 'CAFE']);
    expect(joined(parts)).toBe('Lunch at the Café Zebrine, CAFE later');
  });

  it('marks a word only where it is whole, except the prefix', () => {
    // "cafe" is a whole word here (not the last): "cafeteria" does not match it.
    expect(marked(highlightParts('cafe or cafeteria', highlightQuery('cafe or')))).toEqual(['cafe', 'or']);
    expect(marked(highlightParts('cafe or cafeteria', highlightQuery('caf')))).toEqual(['cafe', 'cafeteria']);
  });

  it('marks nothing for filters alone', () => {
    expect(marked(highlightParts('from bob with a file', highlightQuery('from:bob has:file')))).toEqual([]);
    expect(highlightParts('plain', null)).toEqual([{ text: 'plain', match: false }]);
  });
});

describe('the excerpt of a long body', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

  it('keeps a short body whole, as one line', () => {
    expect(joined(excerptParts('one\n\ntwo   three', highlightQuery('two')))).toBe('one two three');
  });

  it('starts a little before the first match, cut at spaces, with ellipses where text was left out', () => {
    const body = `${filler(60)} the zebrine is here ${filler(60)}`;
    const parts = excerptParts(body, highlightQuery('zebrine'), 100);
    const text = joined(parts);
    expect(text.startsWith('…word')).toBe(true);
    expect(text.endsWith('…')).toBe(true);
    expect(marked(parts)).toEqual(['zebrine']);
    // No word is cut at either edge.
    expect(text.slice(1, -1).length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^…word\d+ .* word\d+…$/u);
    expect(text.indexOf('zebrine')).toBeGreaterThan(20);
  });

  it('starts at the beginning when the match is near it', () => {
    const parts = excerptParts(`A zebrine ${filler(80)}`, highlightQuery('zebrine'), 60);
    expect(joined(parts).startsWith('A zebrine')).toBe(true);
    expect(joined(parts).endsWith('…')).toBe(true);
  });
});

describe('the keyboard in the search dialog', () => {
  it('moves through the results with the arrow keys and stops at the ends', () => {
    expect(moveActive(-1, 3, 'ArrowDown')).toBe(0);
    expect(moveActive(2, 3, 'ArrowDown')).toBe(2);
    expect(moveActive(1, 3, 'ArrowUp')).toBe(0);
    expect(moveActive(0, 3, 'ArrowUp')).toBe(0);
    expect(moveActive(0, 0, 'ArrowDown')).toBeNull();
    expect(moveActive(0, 3, 'a')).toBeNull();
  });

  const key = (key: string, target: unknown = null, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
    key,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    target: target as EventTarget | null,
    ...mods,
  });

  it('opens search with Ctrl+K or Cmd+K anywhere, and with / outside text fields', () => {
    const composer = { tagName: 'TEXTAREA' };
    const list = { tagName: 'DIV', isContentEditable: false };
    expect(opensSearch(key('k', composer, { ctrlKey: true }))).toBe(true);
    expect(opensSearch(key('K', composer, { metaKey: true, shiftKey: true }))).toBe(true);
    expect(opensSearch(key('k', composer, { ctrlKey: true, altKey: true }))).toBe(false);
    expect(opensSearch(key('/', list))).toBe(true);
    expect(opensSearch(key('/', composer))).toBe(false);
    expect(opensSearch(key('/', list, { ctrlKey: true }))).toBe(false);
    expect(opensSearch(key('k', list))).toBe(false);
  });

  it('counts inputs that take text, selects, text areas and editable elements as text fields', () => {
    expect(isTextEntry({ tagName: 'INPUT', type: 'search' } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'INPUT', type: 'checkbox' } as unknown as EventTarget)).toBe(false);
    expect(isTextEntry({ tagName: 'SELECT' } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'DIV', isContentEditable: true } as unknown as EventTarget)).toBe(true);
    expect(isTextEntry({ tagName: 'BUTTON' } as unknown as EventTarget)).toBe(false);
    expect(isTextEntry(null)).toBe(false);
  });
});
