/** The search bench's text and queries: the same for every run, Zipf-shaped, and each query finds the message it came from. */
import { describe, expect, it } from 'vitest';
import { createCorpus, searchQueries, seededRandom, vocabulary, zipfSampler, type SampledMessage } from '../../bench/lib/search-corpus.js';
import { matchesQueryWord, parseSearchQuery, searchWords } from '../../src/shared/search-words.js';

describe('seededRandom', () => {
  it('gives the same stream for the same seed, another for another seed, all in [0, 1)', () => {
    const a = Array.from({ length: 5 }, seededRandom(7));
    const b = Array.from({ length: 5 }, seededRandom(7));
    const c = Array.from({ length: 5 }, seededRandom(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('vocabulary', () => {
  it('holds distinct lower-case words, the common ones first', () => {
    const words = vocabulary(5_000, seededRandom(1));
    expect(words).toHaveLength(5_000);
    expect(new Set(words).size).toBe(5_000);
    expect(words.slice(0, 3)).toEqual(['the', 'i', 'to']);
    expect(words.every((word) => /^[a-z]+$/.test(word))).toBe(true);
  });
});

describe('zipfSampler', () => {
  it('draws rank 1 about twice as often as rank 2 and ten times as often as rank 10', () => {
    const draw = zipfSampler(1_000, 1, seededRandom(3));
    const counts = new Array<number>(1_000).fill(0);
    for (let i = 0; i < 200_000; i += 1) counts[draw()]! += 1;
    expect(counts[0]! / counts[1]!).toBeGreaterThan(1.8);
    expect(counts[0]! / counts[1]!).toBeLessThan(2.2);
    expect(counts[0]! / counts[9]!).toBeGreaterThan(8.5);
    expect(counts[0]! / counts[9]!).toBeLessThan(11.5);
    expect(Math.max(...counts.slice(500))).toBeLessThan(counts[9]!);
  });
});

describe('createCorpus', () => {
  it('writes the same bodies every time, of 5 to 30 words, as sentences', () => {
    const first = createCorpus();
    const again = createCorpus();
    const bodies = Array.from({ length: 2_000 }, () => first.body());
    expect(Array.from({ length: 2_000 }, () => again.body())).toEqual(bodies);
    const lengths = bodies.map((body) => body.slice(0, -1).split(' ').length);
    expect(Math.min(...lengths)).toBe(5);
    expect(Math.max(...lengths)).toBe(30);
    expect(bodies.every((body) => /^[A-Z][a-z]*( [a-z]+)*\.$/.test(body))).toBe(true);
  });
});

describe('searchQueries', () => {
  const corpus = createCorpus();
  const samples: SampledMessage[] = Array.from({ length: 300 }, (_, i) => ({ roomId: `room-${i % 7}`, body: corpus.body() }));
  /** Whether the query (read as the server reads it) finds the sample's body. */
  const finds = (q: string, body: string) => {
    const query = parseSearchQuery(q);
    const words = searchWords(body);
    return query.words.every((word) => words.includes(word)) && words.some((word) => matchesQueryWord(word, { words: [], prefix: query.prefix }));
  };

  it('takes one word, three distinct words, or a 2–3 letter prefix of a longer word, each found in its message', () => {
    const one = searchQueries('one-word', samples, 200, false, seededRandom(5));
    const three = searchQueries('three-words', samples, 200, false, seededRandom(5));
    const prefix = searchQueries('prefix', samples, 200, false, seededRandom(5));
    for (const list of [one, three, prefix]) expect(list).toHaveLength(200);
    expect(one.every((query, i) => query.q.split(' ').length === 1 && finds(query.q, samples[i]!.body))).toBe(true);
    expect(three.every((query) => new Set(query.q.split(' ')).size === 3)).toBe(true);
    expect(prefix.map((query) => query.q.length)).toEqual(prefix.map((_, i) => 2 + (i % 2)));
    expect(prefix.every((query) => samples.some((sample) => finds(query.q, sample.body)))).toBe(true);
    expect(three.every((query) => samples.some((sample) => finds(query.q, sample.body)))).toBe(true);
  });

  it('names the room of the message in one-room queries, and none otherwise', () => {
    const inRoom = searchQueries('one-word', samples, 50, true, seededRandom(9));
    expect(inRoom.map((query) => query.roomId)).toEqual(samples.slice(0, 50).map((sample) => sample.roomId));
    expect(searchQueries('one-word', samples, 50, false, seededRandom(9)).every((query) => query.roomId === undefined)).toBe(true);
  });
});
