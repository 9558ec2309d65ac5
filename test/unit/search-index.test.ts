/**
 * The in-memory search index (src/server/search/search-index.ts) on its own: upserts, edits,
 * deletes, rooms removed, every filter, cursor paging, and the bulk load — checked against a
 * brute-force scan of a random corpus from a seeded PRNG. And the posting lists' merge.
 */
import { describe, expect, it } from 'vitest';
import { newestFirst, Posting } from '../../src/server/search/postings.js';
import { createSearchIndex, type IndexedMessage, type IndexHit, type IndexQuery, type SearchIndex } from '../../src/server/search/search-index.js';
import { createRandom, type Random } from '../support/random.js';

const ROOM_A = 'room-a';
const ROOM_B = 'room-b';
const ROOM_C = 'room-c';

function message(fields: Partial<IndexedMessage> & Pick<IndexedMessage, 'seq'>): IndexedMessage {
  return { roomId: ROOM_A, senderId: 'alice', createdAt: 1_000 + fields.seq, changeSeq: 0, hasFile: false, deleted: false, words: [], ...fields };
}

const ask = (index: SearchIndex, query: Partial<IndexQuery>): IndexHit[] =>
  index.search({ words: [], roomIds: [ROOM_A, ROOM_B, ROOM_C], limit: 100, ...query });
const seqsOf = (hits: IndexHit[]) => hits.map((hit) => hit.seq);

describe('the search index', () => {
  it('finds a new message by every word, the last one as a prefix', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, words: ['launch', 'code', 'tomorrow'] }));
    index.upsert(message({ seq: 2, words: ['launch', 'party'] }));
    expect(seqsOf(ask(index, { words: ['launch'] }))).toEqual([2, 1]);
    expect(seqsOf(ask(index, { words: ['launch'], prefix: 'tom' }))).toEqual([1]);
    expect(seqsOf(ask(index, { prefix: 'la' }))).toEqual([2, 1]);
    expect(seqsOf(ask(index, { words: ['launc'] }))).toEqual([]);
    expect(seqsOf(ask(index, { prefix: 'x' }))).toEqual([]);
    expect(ask(index, { prefix: 'par' })).toEqual([{ roomId: ROOM_A, seq: 2, createdAt: 1_002 }]);
    expect(index.stats()).toMatchObject({ messages: 2, words: 4 });
  });

  it('finds an edited message by its new words only: a stale posting never returns it', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, words: ['alpha', 'beta'] }));
    index.upsert(message({ seq: 2, words: ['alpha'] }));
    index.upsert(message({ seq: 1, changeSeq: 1, words: ['gamma', 'beta'] }));
    expect(seqsOf(ask(index, { words: ['alpha'] }))).toEqual([2]);
    expect(seqsOf(ask(index, { prefix: 'al' }))).toEqual([2]);
    expect(seqsOf(ask(index, { words: ['beta'], prefix: 'alp' }))).toEqual([]);
    expect(seqsOf(ask(index, { words: ['gamma'] }))).toEqual([1]);
    expect(seqsOf(ask(index, { prefix: 'gam' }))).toEqual([1]);
    expect(seqsOf(ask(index, { words: ['beta'] }))).toEqual([1]);
    // Back to an earlier text, and away again: found once each time, by the current words only.
    index.upsert(message({ seq: 1, changeSeq: 2, words: ['alpha'] }));
    expect(seqsOf(ask(index, { words: ['alpha'] }))).toEqual([2, 1]);
    index.upsert(message({ seq: 1, changeSeq: 3, words: ['delta'] }));
    expect(seqsOf(ask(index, { words: ['alpha'] }))).toEqual([2]);
    expect(seqsOf(ask(index, { prefix: '' }))).toEqual([2, 1]);
    expect(seqsOf(ask(index, {}))).toEqual([2, 1]);
  });

  it('ignores a state older than (or the same as) the one it holds', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, changeSeq: 5, words: ['current'] }));
    index.upsert(message({ seq: 1, changeSeq: 4, words: ['stale'] }));
    index.upsert(message({ seq: 1, changeSeq: 5, words: ['same'] }));
    expect(seqsOf(ask(index, { words: ['stale'] }))).toEqual([]);
    expect(seqsOf(ask(index, { words: ['same'] }))).toEqual([]);
    expect(seqsOf(ask(index, { words: ['current'] }))).toEqual([1]);
    // Nor does an older non-deleted state bring a deleted message back.
    index.upsert(message({ seq: 1, changeSeq: 6, deleted: true, words: [] }));
    index.upsert(message({ seq: 1, changeSeq: 7, words: ['current'] }));
    expect(seqsOf(ask(index, { words: ['current'] }))).toEqual([]);
  });

  it('never finds a deleted message, and does not add one it never held', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, words: ['secret'] }));
    index.upsert(message({ seq: 2, words: ['secret'] }));
    index.upsert(message({ seq: 2, changeSeq: 1, deleted: true, words: ['secret'] }));
    index.upsert(message({ seq: 3, changeSeq: 1, deleted: true, words: ['secret'] }));
    expect(seqsOf(ask(index, { words: ['secret'] }))).toEqual([1]);
    expect(seqsOf(ask(index, {}))).toEqual([1]);
    expect(index.stats().messages).toBe(1);
  });

  it('forgets a removed room, and only that room', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, roomId: ROOM_A, words: ['shared'] }));
    index.upsert(message({ seq: 1, roomId: ROOM_B, words: ['shared'] }));
    index.upsert(message({ seq: 2, roomId: ROOM_B, words: ['shared'] }));
    index.removeRoom(ROOM_B);
    index.removeRoom('never-indexed');
    expect(ask(index, { words: ['shared'] })).toEqual([{ roomId: ROOM_A, seq: 1, createdAt: 1_001 }]);
    expect(index.stats().messages).toBe(1);
    // A late event for the removed room does not bring it back.
    index.upsert(message({ seq: 2, roomId: ROOM_B, changeSeq: 9, words: ['shared'] }));
    expect(seqsOf(ask(index, { words: ['shared'], roomIds: [ROOM_B] }))).toEqual([]);
  });

  it('looks only in the rooms asked for (unknown rooms are no rooms)', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, roomId: ROOM_A, words: ['w'] }));
    index.upsert(message({ seq: 1, roomId: ROOM_B, words: ['w'] }));
    expect(ask(index, { words: ['w'], roomIds: [ROOM_B] }).map((hit) => hit.roomId)).toEqual([ROOM_B]);
    expect(ask(index, { words: ['w'], roomIds: [] })).toEqual([]);
    expect(ask(index, { words: ['w'], roomIds: ['nowhere'] })).toEqual([]);
  });

  it('filters by sender, file and time (since inclusive, until exclusive)', () => {
    const index = createSearchIndex();
    index.upsert(message({ seq: 1, senderId: 'alice', createdAt: 100, words: ['x'] }));
    index.upsert(message({ seq: 2, senderId: 'bob', createdAt: 200, hasFile: true, words: ['x'] }));
    index.upsert(message({ seq: 3, senderId: 'alice', createdAt: 300, hasFile: true, words: ['x'] }));
    expect(seqsOf(ask(index, { prefix: 'x', senderId: 'alice' }))).toEqual([3, 1]);
    expect(seqsOf(ask(index, { prefix: 'x', senderId: 'nobody' }))).toEqual([]);
    expect(seqsOf(ask(index, { hasFile: true }))).toEqual([3, 2]);
    expect(seqsOf(ask(index, { since: 200 }))).toEqual([3, 2]);
    expect(seqsOf(ask(index, { until: 300 }))).toEqual([2, 1]);
    expect(seqsOf(ask(index, { since: 200, until: 300 }))).toEqual([2]);
    expect(seqsOf(ask(index, { since: 301 }))).toEqual([]);
    // A file attached later (a new state) is seen; one removed too.
    index.upsert(message({ seq: 1, senderId: 'alice', createdAt: 100, changeSeq: 1, hasFile: true, words: ['x'] }));
    index.upsert(message({ seq: 3, senderId: 'alice', createdAt: 300, changeSeq: 1, hasFile: false, words: ['x'] }));
    expect(seqsOf(ask(index, { hasFile: true }))).toEqual([2, 1]);
  });

  it('pages with a cursor across equal creation times, breaking ties by room id then seq', () => {
    const index = createSearchIndex();
    // Inserted out of order: the index keeps its own order.
    for (const [roomId, seq] of [[ROOM_B, 2], [ROOM_A, 7], [ROOM_C, 1], [ROOM_A, 3], [ROOM_B, 1], [ROOM_C, 9]] as const) {
      index.upsert(message({ roomId, seq, createdAt: 5_000, words: ['tie'] }));
    }
    index.upsert(message({ roomId: ROOM_A, seq: 1, createdAt: 4_000, words: ['tie'] }));
    index.upsert(message({ roomId: ROOM_C, seq: 10, createdAt: 6_000, words: ['tie'] }));
    const order = ['room-c 10', 'room-c 9', 'room-c 1', 'room-b 2', 'room-b 1', 'room-a 7', 'room-a 3', 'room-a 1'];
    const label = (hit: IndexHit) => `${hit.roomId} ${hit.seq}`;
    expect(ask(index, { words: ['tie'] }).map(label)).toEqual(order);
    const walked: string[] = [];
    let before: IndexHit | undefined;
    for (let page = 0; page < 10; page += 1) {
      const hits = ask(index, { prefix: 'ti', limit: 3, before });
      walked.push(...hits.map(label));
      if (hits.length < 3) break;
      before = hits.at(-1);
    }
    expect(walked).toEqual(order);
    // A cursor naming a message the index does not hold still cuts in the same order.
    expect(ask(index, { words: ['tie'], before: { createdAt: 5_000, roomId: 'room-b', seq: 0 } }).map(label)).toEqual(order.slice(5));
  });

  it('matches a prefix shared by many words, each message once', () => {
    const index = createSearchIndex();
    const words = Array.from({ length: 300 }, (_, i) => `pre${i.toString(36)}`);
    for (let seq = 1; seq <= 100; seq += 1) index.upsert(message({ seq, words: [words[seq]!, words[seq + 1]!, words[seq * 2]!, 'other'] }));
    const hits = ask(index, { prefix: 'pre' });
    expect(seqsOf(hits)).toEqual(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(seqsOf(ask(index, { prefix: 'pre1', words: ['other'], limit: 5 }))).toEqual(
      Array.from({ length: 100 }, (_, i) => 100 - i)
        .filter((seq) => [words[seq]!, words[seq + 1]!, words[seq * 2]!].some((w) => w.startsWith('pre1')))
        .slice(0, 5),
    );
  });
});

/** The answers a correct index gives: a scan of the messages as they are now. */
function bruteForce(messages: Map<string, IndexedMessage>, query: IndexQuery): IndexHit[] {
  const after = (m: IndexedMessage, c: { createdAt: number; roomId: string; seq: number }) =>
    m.createdAt !== c.createdAt ? m.createdAt < c.createdAt : m.roomId !== c.roomId ? m.roomId < c.roomId : m.seq < c.seq;
  return [...messages.values()]
    .filter((m) => !m.deleted && query.roomIds.includes(m.roomId))
    .filter((m) => query.senderId === undefined || m.senderId === query.senderId)
    .filter((m) => !query.hasFile || m.hasFile)
    .filter((m) => (query.since === undefined || m.createdAt >= query.since) && (query.until === undefined || m.createdAt < query.until))
    .filter((m) => query.before === undefined || after(m, query.before))
    .filter((m) => query.words.every((w) => m.words.includes(w)) && (query.prefix === undefined || m.words.some((w) => w.startsWith(query.prefix!))))
    .sort((a, b) => (after(a, b) ? 1 : after(b, a) ? -1 : 0))
    .slice(0, query.limit)
    .map((m) => ({ roomId: m.roomId, seq: m.seq, createdAt: m.createdAt }));
}

describe('the search index against a brute-force scan (seeded random corpus)', () => {
  const VOCABULARY = ['apple', 'apply', 'apricot', 'banana', 'band', 'bandit', 'cherry', 'chess', 'date', 'data', 'zeta', 'é', 'a', 'ab'];
  const ROOMS = [ROOM_A, ROOM_B, ROOM_C, 'room-d'];
  const SENDERS = ['alice', 'bob', 'carol'];

  /** Messages with few distinct times (many ties), then edits and deletes of some of them. */
  function corpus(seed: number) {
    const random = createRandom(seed);
    const creates: IndexedMessage[] = [];
    const seqs = new Map<string, number>();
    for (let i = 0; i < 400; i += 1) {
      const roomId = random.pick(ROOMS);
      const seq = (seqs.get(roomId) ?? 0) + 1;
      seqs.set(roomId, seq);
      const words = [...new Set(Array.from({ length: random.int(0, 4) }, () => random.pick(VOCABULARY)))];
      creates.push({ roomId, seq, senderId: random.pick(SENDERS), createdAt: random.int(1, 40) * 1_000, changeSeq: 0, hasFile: random.next() < 0.2, deleted: false, words });
    }
    const changes: IndexedMessage[] = [];
    for (let i = 0; i < 200; i += 1) {
      const target = random.pick(creates);
      const roll = random.next();
      const words = [...new Set(Array.from({ length: random.int(1, 3) }, () => random.pick(VOCABULARY)))];
      changes.push({ ...target, changeSeq: i + 1, deleted: roll < 0.15, hasFile: roll > 0.9 ? !target.hasFile : target.hasFile, words: roll < 0.15 ? [] : words });
    }
    return { creates, changes, random };
  }

  function queries(random: Random): IndexQuery[] {
    const list: IndexQuery[] = [];
    for (let i = 0; i < 300; i += 1) {
      const words = random.next() < 0.5 ? [random.pick(VOCABULARY)] : [];
      const prefix = random.next() < 0.7 ? random.pick(['a', 'ap', 'app', 'ban', 'band', 'c', 'ch', 'd', 'dat', 'z', 'é', 'q']) : undefined;
      const since = random.next() < 0.2 ? random.int(1, 40) * 1_000 : undefined;
      const until = random.next() < 0.2 ? random.int(1, 40) * 1_000 : undefined;
      const roomIds = ROOMS.filter(() => random.next() < 0.7);
      const before = random.next() < 0.3 ? { createdAt: random.int(1, 40) * 1_000, roomId: random.pick(ROOMS), seq: random.int(0, 120) } : undefined;
      const senderId = random.next() < 0.2 ? random.pick([...SENDERS, 'nobody']) : undefined;
      list.push({ words, prefix, roomIds, since, until, before, senderId, hasFile: random.next() < 0.15, limit: random.int(1, 30) });
    }
    return list;
  }

  it.each([0x5eed, 0xc0ffee, 17])('answers like the scan, one upsert at a time and bulk-loaded alike (seed %i)', (seed) => {
    const { creates, changes, random } = corpus(seed);
    const truth = new Map<string, IndexedMessage>();
    const key = (m: IndexedMessage) => `${m.roomId} ${m.seq}`;
    for (const m of creates) truth.set(key(m), m);

    // One at a time, in arrival order: the creates, then the changes.
    const oneByOne = createSearchIndex();
    for (const m of creates) oneByOne.upsert(m);
    // Bulk: the creates in another order (the build reads room by room), the postings built at the end.
    const bulk = createSearchIndex();
    bulk.startLoading();
    for (const m of [...creates].sort((a, b) => (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : a.seq - b.seq))) bulk.upsert(m);
    bulk.finishLoading();

    const problems: string[] = [];
    const check = (phase: string) => {
      for (const query of queries(random)) {
        const expected = bruteForce(truth, query);
        for (const [name, index] of [['one by one', oneByOne], ['bulk', bulk]] as const) {
          const actual = index.search(query);
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            problems.push(`${phase}, ${name}: ${JSON.stringify(query)} gave ${JSON.stringify(seqsOf(actual))}, expected ${JSON.stringify(seqsOf(expected))}`);
          }
        }
      }
    };
    check('after the creates');
    for (const change of changes) {
      oneByOne.upsert(change);
      bulk.upsert(change);
      const held = truth.get(key(change))!;
      if (!held.deleted && change.changeSeq > held.changeSeq) truth.set(key(change), change);
    }
    check('after the edits and deletes');
    expect(problems.slice(0, 5)).toEqual([]);
    expect(oneByOne.stats().messages).toBe([...truth.values()].filter((m) => !m.deleted).length);
    expect(bulk.stats()).toMatchObject({ messages: oneByOne.stats().messages, words: oneByOne.stats().words });
  });

  it('bulk-loads a dictionary of 200,000 distinct words (a large room history: numbers, names, typos)', () => {
    const index = createSearchIndex();
    index.startLoading();
    for (let seq = 1; seq <= 20_000; seq += 1) {
      index.upsert(message({ seq, words: Array.from({ length: 10 }, (_, at) => `w${seq * 10 + at}`) }));
    }
    expect(() => index.finishLoading()).not.toThrow();
    expect(index.stats().words).toBe(200_000);
    expect(seqsOf(ask(index, { words: ['w100005'] }))).toEqual([10_000]);
    expect(seqsOf(ask(index, { prefix: 'w19999' }))).toEqual([19_999, 1_999]);
  });

  it('takes changes heard while loading (edits and deletes before the postings are built)', () => {
    const index = createSearchIndex();
    index.startLoading();
    index.upsert(message({ seq: 1, words: ['old'] }));
    index.upsert(message({ seq: 2, words: ['old'] }));
    index.upsert(message({ seq: 1, changeSeq: 1, words: ['new'] }));
    index.upsert(message({ seq: 2, changeSeq: 1, deleted: true }));
    index.finishLoading();
    expect(seqsOf(ask(index, { words: ['old'] }))).toEqual([]);
    expect(seqsOf(ask(index, { prefix: 'ne' }))).toEqual([1]);
    expect(seqsOf(ask(index, {}))).toEqual([1]);
  });
});

describe('posting lists', () => {
  const byNumber = (a: number, b: number) => a < b;
  const list = (...slots: number[]) => {
    const posting = new Posting();
    for (const slot of slots) posting.insert(slot, byNumber);
    return posting;
  };

  it('keeps slots in order, each once, wherever they are inserted', () => {
    const posting = list(5, 1, 9, 5, 3, 9, 1);
    expect([...posting.slots.subarray(0, posting.length)]).toEqual([1, 3, 5, 9]);
    expect(posting.countBefore((slot) => slot < 5)).toBe(2);
    expect(posting.countBefore(() => true)).toBe(4);
    expect(posting.countBefore(() => false)).toBe(0);
  });

  it('merges several lists newest first, a slot in many lists once', () => {
    const merged = [...newestFirst([list(1, 4, 7, 10), list(2, 4, 8, 10), list(10), list()], byNumber, () => true)];
    expect(merged).toEqual([10, 8, 7, 4, 2, 1]);
  });

  it('starts strictly before the cursor', () => {
    expect([...newestFirst([list(1, 4, 7, 10), list(3, 7, 9)], byNumber, (slot) => slot < 7)]).toEqual([4, 3, 1]);
    expect([...newestFirst([list(1, 4)], byNumber, () => false)]).toEqual([]);
  });

  it('yields a slot pushed twice into one list (the bulk path) once', () => {
    const pushed = new Posting();
    for (const slot of [1, 2, 2, 3, 3, 3]) pushed.push(slot);
    expect([...newestFirst([pushed, list(2)], byNumber, () => true)]).toEqual([3, 2, 1]);
  });

  it('merges many random lists like a sorted union (seeded)', () => {
    const random = createRandom(42);
    for (let round = 0; round < 50; round += 1) {
      const lists = Array.from({ length: random.int(1, 12) }, () => list(...Array.from({ length: random.int(0, 30) }, () => random.int(0, 60))));
      const cut = random.int(0, 61);
      const union = [...new Set(lists.flatMap((p) => [...p.slots.subarray(0, p.length)]))].filter((slot) => slot < cut).sort((a, b) => b - a);
      expect([...newestFirst(lists, byNumber, (slot) => slot < cut)]).toEqual(union);
    }
  });
});
