/**
 * Message search for tests: the request (GET /api/v1/search), every page of an answer
 * followed through `nextCursor`, and the brute-force expectation a result list is held to —
 * a scan over what a test knows it wrote, with the one definition of a word and of the
 * query language (src/shared/search-words.ts).
 *
 *   const expected = expectedKeys(corpus, 'café from:alice', viewerRoomIds);
 *   expect(await searchKeys(t.app, viewer, { q: 'café from:alice' })).toEqual(expected);
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Keyring } from '../../src/server/crypto/keyring.js';
import type { Db } from '../../src/server/db/schema.js';
import type { Message } from '../../src/shared/protocol.js';
import type { SearchPage } from '../../src/shared/search-shapes.js';
import { parseSearchQuery, searchWords } from '../../src/shared/search-words.js';
import { call, type Answer, type HttpTarget, type Session } from './http.js';

export interface SearchParams {
  q: string;
  roomId?: string;
  before?: string;
  limit?: number | string;
}

/** `roomId/seq`: how a test names a message. */
export const keyOf = (message: Pick<Message, 'roomId' | 'seq'>) => `${message.roomId}/${message.seq}`;

export function searchUrl(params: SearchParams): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  return `/api/v1/search?${query.toString()}`;
}

/** One search, answered as it comes (any status). */
export function search(target: HttpTarget, session: Session | null, params: SearchParams): Promise<Answer<SearchPage & { error?: { code: string; message: string; field?: string } }>> {
  return call(target, 'GET', searchUrl(params), { session });
}

/**
 * Every page of a search, following `nextCursor` until it is absent; fails unless every page
 * is a 200 no longer than the limit, and no message comes twice. The results in order.
 */
export async function searchAllPages(target: HttpTarget, session: Session, params: Omit<SearchParams, 'before'>): Promise<SearchPage['results']> {
  const all: SearchPage['results'] = [];
  let before: string | undefined;
  for (let page = 0; ; page += 1) {
    const answer = await search(target, session, { ...params, before });
    expect(answer.status, answer.text).toBe(200);
    if (params.limit !== undefined) expect(answer.body.results.length).toBeLessThanOrEqual(Number(params.limit));
    all.push(...answer.body.results);
    before = answer.body.nextCursor;
    if (before === undefined) break;
    if (page > 10_000) throw new Error('search pages never end');
  }
  const keys = all.map((result) => keyOf(result.message));
  expect(new Set(keys).size, 'a message came twice').toBe(keys.length);
  return all;
}

/** The keys of every result of a search, through every page. */
export async function searchKeys(target: HttpTarget, session: Session, params: Omit<SearchParams, 'before'>): Promise<string[]> {
  return (await searchAllPages(target, session, params)).map((result) => keyOf(result.message));
}

/** A message as a test wrote it (its current body; deleted ones are left out of the corpus). */
export interface CorpusMessage {
  roomId: string;
  seq: number;
  senderUsername: string;
  body: string;
  /** ms */
  createdAt: number;
  hasFile: boolean;
}

export function corpusEntry(message: Message): CorpusMessage {
  return {
    roomId: message.roomId,
    seq: message.seq,
    senderUsername: message.sender.username,
    body: message.body,
    createdAt: Date.parse(message.createdAt),
    hasFile: message.attachments.length > 0,
  };
}

/** Newest first: creation time, then room id, then seq, all descending (the API's order). */
export function newestFirst(a: CorpusMessage, b: CorpusMessage): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  if (a.roomId !== b.roomId) return a.roomId < b.roomId ? 1 : -1;
  return b.seq - a.seq;
}

/** Whether the message matches the query, read the way the server reads it. */
export function matchesQuery(message: CorpusMessage, q: string): boolean {
  const query = parseSearchQuery(q);
  const words = searchWords(message.body);
  if (!query.words.every((word) => words.includes(word))) return false;
  if (query.prefix !== undefined && !words.some((word) => word.startsWith(query.prefix!))) return false;
  if (query.from !== undefined && message.senderUsername.toLowerCase() !== query.from.toLowerCase()) return false;
  if (query.hasFile && !message.hasFile) return false;
  if (query.since !== undefined && message.createdAt < query.since) return false;
  if (query.until !== undefined && message.createdAt >= query.until) return false;
  return true;
}

/** The keys a search must answer, newest first: every message of the corpus in `roomIds` that matches. */
export function expectedKeys(corpus: Iterable<CorpusMessage>, q: string, roomIds: readonly string[]): string[] {
  return [...corpus]
    .filter((message) => roomIds.includes(message.roomId) && matchesQuery(message, q))
    .sort(newestFirst)
    .map(keyOf);
}

/**
 * A message written straight into the table under the keyring, as a restore or a repair
 * would: no bus event, so only a build finds it. Its key, `roomId/seq`.
 */
export async function insertBehindTheBus(db: Db, keyring: Keyring, message: { roomId: string; senderId: string; body: string; createdAt?: number }): Promise<string> {
  const token = keyring.encrypt(message.body);
  return db.transaction().execute(async (trx) => {
    const { last_seq } = await trx.selectFrom('rooms').select('last_seq').where('id', '=', message.roomId).executeTakeFirstOrThrow();
    const seq = Number(last_seq) + 1;
    await trx
      .insertInto('messages')
      .values({
        id: randomUUID(),
        room_id: message.roomId,
        sender_id: message.senderId,
        seq,
        client_id: randomUUID(),
        body_format: 'fernet',
        body_ciphertext: token.ciphertext,
        body_key_id: token.keyId,
        created_at: message.createdAt ?? Date.now(),
        edited_at: null,
      })
      .execute();
    await trx.updateTable('rooms').set({ last_seq: seq }).where('id', '=', message.roomId).execute();
    return `${message.roomId}/${seq}`;
  });
}
