/**
 * Search queries that pass the schema and must still be refused by the service: a bad
 * filter, a query with no word, too many words, a forged cursor, a room the fuzzer is not
 * in (404, like one that does not exist). The fuzz world's `GET /api/v1/search` sends them.
 */
import { randomUUID } from 'node:crypto';
import { SEARCH_WORDS_MAX } from '../../../src/shared/search-words.js';
import type { FuzzWorld } from './world.js';

const cursor = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const q = (text: string) => `q=${encodeURIComponent(text)}`;

export function searchRefused(w: Pick<FuzzWorld, 'othersPrivate' | 'othersPublic'>): string[] {
  const filters = ['from:', 'from:@', 'has:photo', 'has:', 'after:', 'after:2026-02-30', 'before:2026-04-31', 'before:tomorrow', 'after:2026-3-1', 'after:99999-01-01'];
  const wordless = ['!!!', '...', '\u0301', '😀😀', ' '];
  const tooMany = Array.from({ length: SEARCH_WORDS_MAX + 1 }, (_, i) => `w${i}`).join(' ');
  const cursors = [
    'not-a-cursor',
    '%00',
    cursor('null'),
    cursor('{}'),
    cursor([]),
    cursor([1, 'room']),
    cursor(['1', 'room', 1]),
    cursor([1.5, 'room', 1]),
    cursor([1, 2, 3]),
    cursor('[1e400,"room",1]'),
    cursor([Number.MAX_SAFE_INTEGER + 2, 'room', 1]),
    cursor('{"__proto__":{"x":1}}'),
  ];
  return [
    ...filters.map((f) => q(`seed ${f}`)),
    ...wordless.map(q),
    q(tooMany),
    ...cursors.map((c) => `${q('seed')}&before=${c}`),
    ...[w.othersPrivate.id, w.othersPublic.id, randomUUID(), '__proto__', '..%2F'].map((id) => `${q('seed')}&roomId=${id}`),
    `${q('has:file')}&roomId=${w.othersPrivate.id}`,
  ];
}
