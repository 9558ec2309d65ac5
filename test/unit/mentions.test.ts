/** The shared @mention rules (src/shared/mentions.ts), used by the server and the client. */
import { describe, expect, it } from 'vitest';
import { excerptOf, mentionAtCaret, mentionedNames, mentionSpans, splitMentions } from '../../src/shared/mentions.js';

describe('mentions', () => {
  it('finds @names case-insensitively, once each, lower-cased', () => {
    expect(mentionedNames('@Bob and @bob and @ALICE_1')).toEqual(['bob', 'alice_1']);
  });

  it('ends a name at a trailing . or , but keeps dots and hyphens inside it', () => {
    expect(mentionedNames('thanks @bob. and @carol, and @dan.smith and @e-f')).toEqual(['bob', 'carol', 'dan.smith', 'e-f']);
    expect(mentionedNames('see @bob...')).toEqual(['bob']);
  });

  it('ignores an @ inside a word (an address) and a lone @', () => {
    expect(mentionedNames('mail bob@example.com or @ alone or a@@b')).toEqual([]);
    expect(mentionedNames('(@bob) "@carol"\n@dan')).toEqual(['bob', 'carol', 'dan']);
  });

  it('gives positions for highlighting, the name as typed', () => {
    expect(mentionSpans('hi @Bob.')).toEqual([{ start: 3, end: 7, name: 'Bob' }]);
  });

  it('splits text into plain parts and the known mentions only', () => {
    expect(splitMentions('hi @bob and @ghost!', (name) => name.toLowerCase() === 'bob')).toEqual([
      { text: 'hi ' },
      { text: '@bob', mention: 'bob' },
      { text: ' and @ghost!' },
    ]);
    expect(splitMentions('')).toEqual([{ text: '' }]);
  });

  it('finds the mention being typed at the caret', () => {
    expect(mentionAtCaret('hello @bo', 9)).toEqual({ start: 6, query: 'bo' });
    expect(mentionAtCaret('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAtCaret('mail a@bo', 9)).toBeNull();
    expect(mentionAtCaret('hello bob', 9)).toBeNull();
  });

  it('cuts an excerpt to 140 code points on one line, never inside an emoji', () => {
    expect(excerptOf('  two\n\nlines ')).toBe('two lines');
    const long = excerptOf('😀'.repeat(200));
    expect([...long]).toHaveLength(140);
    expect(long.endsWith('😀…')).toBe(true);
  });
});
