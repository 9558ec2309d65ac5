/**
 * The message search bench's text: bodies of 5 to 30 words from a fixed vocabulary, word
 * of rank r drawn in proportion to 1/r (Zipf, as words are in chat), all from seeded PRNGs
 * so every run seeds the same messages; and the queries asked of them, taken from a sample
 * of the seeded messages (so each one finds at least the message it came from).
 */
import { searchWords } from '../../src/shared/search-words.js';
import { createRandom } from '../../test/support/random.js';

export type Random = () => number;

/** mulberry32 (test/support/random.ts): the same stream for a seed on every machine. */
export function seededRandom(seed: number): Random {
  return createRandom(seed).next;
}

/** The most frequent words of chat, most frequent first: the head of the vocabulary. */
const COMMON = (
  'the i to you a and it is that of in we for on this be have can just so not do are with but ' +
  'what if at will my me was all up get like know think ok yes no one can now there they your ' +
  'about out how good time thanks see from when here go need would should could today then some ' +
  'work new also did been more back make meeting tomorrow let us our please sure will right still ' +
  'want any them done fix build release test branch review deploy server client issue bug change ' +
  'looks great check working call later week yesterday team update problem error log file data ' +
  'user page room message search index query database migration config version master main merge ' +
  'push pull request comment ticket plan design doc notes lunch coffee morning night weekend'
).split(' ');
const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'st', 'th', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'io', 'ou'];
const CODAS = ['', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'st', 'ck'];

/** `size` distinct lower-case words: the common ones, then made-up words of 1 to 3 syllables. */
export function vocabulary(size: number, random: Random): string[] {
  const words = [...new Set(COMMON)].slice(0, size);
  const seen = new Set(words);
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)]!;
  while (words.length < size) {
    let word = '';
    for (let syllables = 1 + Math.floor(random() * 3); syllables > 0; syllables -= 1) word += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    if (!seen.has(word)) (seen.add(word), words.push(word));
  }
  return words;
}

/** Draws ranks 0..n-1, rank r in proportion to 1/(r+1)^exponent. */
export function zipfSampler(n: number, exponent: number, random: Random): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 0; rank < n; rank += 1) cumulative[rank] = sum += 1 / (rank + 1) ** exponent;
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

export interface CorpusOptions {
  seed: number;
  vocabularySize: number;
  minWords: number;
  maxWords: number;
  exponent: number;
}

export const SEARCH_CORPUS: CorpusOptions = { seed: 17, vocabularySize: 30_000, minWords: 5, maxWords: 30, exponent: 1 };

/** The stream of bodies: each call the next one, the same sequence for the same options. */
export function createCorpus(options: CorpusOptions = SEARCH_CORPUS) {
  const words = vocabulary(options.vocabularySize, seededRandom(options.seed));
  const random = seededRandom(options.seed + 1);
  const rank = zipfSampler(words.length, options.exponent, random);
  return {
    words,
    /** A sentence: the first word capitalised, a full stop at the end. */
    body(): string {
      const count = options.minWords + Math.floor(random() * (options.maxWords - options.minWords + 1));
      const parts = Array.from({ length: count }, () => words[rank()]!);
      parts[0] = parts[0]!.charAt(0).toUpperCase() + parts[0]!.slice(1);
      return `${parts.join(' ')}.`;
    },
  };
}

export type QueryShape = 'one-word' | 'three-words' | 'prefix';

export const QUERY_SHAPES: Record<QueryShape, string> = {
  'one-word': 'one word of a seeded message (as the last word, it is also a prefix)',
  'three-words': 'three distinct words of one seeded message (the last one a prefix)',
  prefix: 'the first 2 or 3 letters (alternately) of a longer word of a seeded message',
};

/** A message seeded, kept to take queries from. */
export interface SampledMessage {
  roomId: string;
  body: string;
}

export interface BenchQuery {
  q: string;
  /** Only this room: the room of the message the query was taken from. */
  roomId?: string;
}

/** `count` queries of one shape, each from the next sampled message (round the sample again if needed). */
export function searchQueries(shape: QueryShape, samples: readonly SampledMessage[], count: number, oneRoom: boolean, random: Random): BenchQuery[] {
  const queries: BenchQuery[] = [];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  for (let at = 0; queries.length < count && at < samples.length * 4; at += 1) {
    const sample = samples[at % samples.length]!;
    const words = searchWords(sample.body);
    let q: string | undefined;
    if (shape === 'one-word') q = pick(words);
    else if (shape === 'three-words') {
      if (words.length >= 3) {
        const rest = [...words];
        q = Array.from({ length: 3 }, () => rest.splice(Math.floor(random() * rest.length), 1)[0]!).join(' ');
      }
    } else {
      const letters = 2 + (queries.length % 2);
      const longer = words.filter((word) => word.length > letters);
      if (longer.length > 0) q = pick(longer).slice(0, letters);
    }
    if (q !== undefined) queries.push(oneRoom ? { q, roomId: sample.roomId } : { q });
  }
  return queries;
}
