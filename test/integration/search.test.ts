/**
 * Message search on a fixed corpus, on SQLite and PostgreSQL: a seeded generator writes
 * messages (accented words, mixed case, punctuation, digits; some with a file) into rooms
 * and a DM at different clock times, and every query's answer is held to a brute-force scan
 * of that corpus with the same definitions (src/shared/search-words.ts): exactly the
 * matching messages of the caller's rooms (precision and recall 1), newest first, and the
 * pages of a small limit join up with no duplicate and no gap.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message, Room } from '../../src/shared/protocol.js';
import { signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, inviteInto, joinRoom } from '../support/factories.js';
import { uploadFile } from '../support/files.js';
import { call } from '../support/http.js';
import { corpusEntry, expectedKeys, keyOf, search, searchKeys, type CorpusMessage } from '../support/search.js';
import { createRandom } from '../support/random.js';

const WORDS = [
  'apple', 'application', 'apply', 'banana', 'band', 'café', 'cafe', 'résumé', 'naïve', 'crème', 'brûlée', 'Straße',
  'über', 'Ångström', 'niño', 'zebra', 'zephyr', 'hello', 'world', '42', '2026', 'r2d2', 'x1', 'déjà', 'vu',
];
const DECORATIONS: ReadonlyArray<(word: string) => string> = [
  (w) => w,
  (w) => w,
  (w) => w.toUpperCase(),
  (w) => w[0]!.toUpperCase() + w.slice(1),
  (w) => `${w},`,
  (w) => `${w}!`,
  (w) => `(${w})`,
  (w) => `"${w}."`,
  (w) => `${w}-${w.length}`,
];
const MESSAGES = 150;
const DAY = 24 * 60 * 60 * 1000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe.each(DIALECTS)('search on a fixed corpus on %s', (dialect) => {
  const t = useTestApp(dialect, { RATE_LIMIT_SEARCH_PER_MINUTE: '1000000', SESSION_IDLE_HOURS: '87600', SESSION_TTL_DAYS: '3650' });
  const corpus = new Map<string, CorpusMessage>();
  let viewer: Session;
  let senders: Session[];
  let rooms: { mine: Room; joined: Room; elsewhere: Room; dm: Room };
  let viewerRooms: string[];
  let firstDay: number;

  const send = async (who: Session, roomId: string, body: string, attachments?: string[]): Promise<Message> => {
    const answer = await call<{ message: Message }>(t.app, 'POST', `/api/v1/rooms/${roomId}/messages`, {
      session: who,
      body: { body, clientId: randomUUID(), ...(attachments ? { attachments } : {}) },
    });
    expect(answer.status, answer.text).toBe(201);
    return answer.body.message;
  };

  beforeAll(async () => {
    // Remembered sessions: the clock moves weeks on while the corpus is written.
    const member = () => signUp(t.app, undefined, { rememberMe: true });
    viewer = await member();
    senders = [await member(), await member(), await member()];
    const [a, b, c] = senders as [Session, Session, Session];
    const mine = await createRoom(t.app, viewer, { isPrivate: true });
    for (const member of senders) await inviteInto(t.app, viewer, mine.id, member);
    const joined = await createRoom(t.app, a, { isPrivate: false });
    for (const member of [viewer, c]) await joinRoom(t.app, member, joined.id);
    // The viewer is not in this one: its messages must never be found by the viewer.
    const elsewhere = await createRoom(t.app, b, { isPrivate: true });
    await inviteInto(t.app, b, elsewhere.id, c);
    const dm = (await call<{ room: Room }>(t.app, 'POST', '/api/v1/dms', { session: viewer, body: { userIds: [a.user.id] } })).body.room;
    rooms = { mine, joined, elsewhere, dm };
    viewerRooms = [mine.id, joined.id, dm.id];
    const membersOf = new Map([
      [mine.id, [viewer, a, b, c]],
      [joined.id, [a, viewer, c]],
      [elsewhere.id, [b, c]],
      [dm.id, [viewer, a]],
    ]);

    const random = createRandom(17);
    firstDay = t.clock.now();
    for (let i = 0; i < MESSAGES; i += 1) {
      // Some at the same instant (the order then falls to the room id and the seq), most minutes apart, a few a day apart.
      const gap = random.next();
      t.clock.advance(gap < 0.25 ? 0 : gap < 0.9 ? Math.floor(random.next() * 600_000) : DAY + Math.floor(random.next() * DAY));
      const room = random.pick([mine, mine, joined, elsewhere, dm]);
      const sender = random.pick(membersOf.get(room.id)!);
      const length = 1 + Math.floor(random.next() * 7);
      const body = Array.from({ length }, () => random.pick(DECORATIONS)(random.pick(WORDS))).join(' ');
      const withFile = i % 12 === 5;
      const attachments = withFile ? [(await uploadFile(t.app, sender, room.id, { name: `notes-${i}.txt`, data: Buffer.from(body) })).id] : undefined;
      const message = await send(sender, room.id, body, attachments);
      corpus.set(keyOf(message), corpusEntry(message));
    }
  }, 60_000);

  const compare = async (q: string, options: { roomId?: string; limit?: number; expectSome?: boolean } = {}) => {
    const expected = expectedKeys(corpus.values(), q, options.roomId ? [options.roomId] : viewerRooms);
    if (options.expectSome ?? true) expect(expected.length, `the corpus has no match for ${q}`).toBeGreaterThan(0);
    const found = await searchKeys(t.app, viewer, { q, roomId: options.roomId, limit: options.limit ?? 7 });
    expect(found, `q=${q}`).toEqual(expected);
  };

  it('finds a single word exactly where the scan does, newest first, across pages', async () => {
    for (const q of ['apple', 'banana', 'zebra', 'world', '42', '2026', 'r2d2', 'x1', 'vu']) await compare(q);
  });

  it('finds words case- and accent-insensitively', async () => {
    for (const q of ['CAFÉ', 'Cafe', 'cafe', 'RESUME', 'résumé', 'naive', 'NAÏVE', 'creme', 'brulee', 'uber', 'ÜBER', 'angstrom', 'nino', 'DEJA', 'straße']) await compare(q);
  });

  it('needs every word, the last one as a prefix', async () => {
    for (const q of ['apple banana', 'hello world', 'zebra 42', 'appl', 'ba', 'z', 'apple ba', 'cafe zeph', 'hello, WORLD!', 'r2', '20']) await compare(q);
    // "app" is a prefix of three words; as a word not last it must match whole, and no message has "app".
    await compare('app zebra', { expectSome: false });
    expect(await searchKeys(t.app, viewer, { q: 'app zebra' })).toEqual([]);
  });

  it('filters by sender (case-insensitive, with or without @), files and days', async () => {
    const [a, , c] = senders as [Session, Session, Session];
    const middle = isoDay(firstDay + 2 * DAY);
    const later = isoDay(firstDay + 4 * DAY);
    for (const q of [
      `from:${a.user.username}`,
      `from:${a.user.username.toUpperCase()} apple`,
      `from:@${c.user.username}`,
      'has:file',
      'HAS:FILE a',
      `after:${middle}`,
      `before:${middle}`,
      `after:${isoDay(firstDay)} before:${later} b`,
      `has:file from:${viewer.user.username}`,
    ]) {
      await compare(q, { expectSome: !q.startsWith('has:file from:') });
    }
    expect(await searchKeys(t.app, viewer, { q: 'from:nobody_by_that_name apple' })).toEqual([]);
  });

  it('looks in one room when asked (a DM too), and never in a room the caller is not in', async () => {
    await compare('a', { roomId: rooms.mine.id });
    await compare('b', { roomId: rooms.dm.id });
    await compare('has:file', { roomId: rooms.joined.id, expectSome: false });
    const everything = [...corpus.values()].filter((m) => m.roomId === rooms.elsewhere.id);
    expect(everything.length).toBeGreaterThan(0);
    for (const word of ['apple', 'a', 'z', 'has:file']) {
      const found = await searchKeys(t.app, viewer, { q: word, limit: 100 });
      expect(found.filter((key) => key.startsWith(`${rooms.elsewhere.id}/`))).toEqual([]);
    }
  });

  it('answers the default page of 20 and the largest of 100 with the same order as the small pages', async () => {
    const expected = expectedKeys(corpus.values(), 'a', viewerRooms);
    expect(expected.length).toBeGreaterThan(20);
    const first = await search(t.app, viewer, { q: 'a' });
    expect(first.status).toBe(200);
    expect(first.body.results.map((r) => keyOf(r.message))).toEqual(expected.slice(0, 20));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const big = await search(t.app, viewer, { q: 'a', limit: 100 });
    expect(big.body.results.map((r) => keyOf(r.message))).toEqual(expected.slice(0, 100));
    // What a result carries: the message as history shows it, and its room.
    const hit = first.body.results[0]!;
    expect(hit.message.body).toBe(corpus.get(keyOf(hit.message))!.body);
    const named = Object.values(rooms).find((room) => room.id === hit.room.id)!;
    expect(hit.room).toMatchObject({ id: named.id, kind: named.id === rooms.dm.id ? 'dm' : 'room' });
  });

  it('names a DM result as the caller sees the DM, with kind dm', async () => {
    const [a] = senders as [Session];
    const listed = (await call<Room[]>(t.app, 'GET', '/api/v1/rooms', { session: viewer })).body.find((room) => room.id === rooms.dm.id)!;
    expect(listed.name).toBe(a.user.username);
    const page = await search(t.app, viewer, { q: 'a', roomId: rooms.dm.id, limit: 5 });
    expect(page.body.results.length).toBeGreaterThan(0);
    for (const result of page.body.results) expect(result.room).toEqual({ id: rooms.dm.id, name: listed.name, kind: 'dm' });
    const theirs = await search(t.app, a, { q: 'a', roomId: rooms.dm.id, limit: 5 });
    for (const result of theirs.body.results) expect(result.room).toEqual({ id: rooms.dm.id, name: viewer.user.username, kind: 'dm' });
  });
});
