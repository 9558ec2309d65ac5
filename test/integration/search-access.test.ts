/**
 * Who finds what, and the refusals of GET /api/v1/search, on SQLite and PostgreSQL:
 * membership read at every search (a removed or leaving member stops finding a room's
 * messages at once, a newcomer finds its older ones), deleted messages and rooms never
 * found, an edited message found by its current words only; 400s that say what is wrong,
 * 404 for a room the caller is not in, 401 signed out, 429 past the limit, 503 when off.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, inviteInto, joinRoom, sendMessage } from '../support/factories.js';
import { call } from '../support/http.js';
import { messageChanges } from '../support/message-changes.js';
import { keyOf, search, searchKeys, type SearchParams } from '../support/search.js';

/** A word no other test writes: letters only, so it is one search word. */
const token = () => `tok${randomBytes(6).toString('hex').replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;
const UNLIMITED = { RATE_LIMIT_SEARCH_PER_MINUTE: '1000000' };

describe.each(DIALECTS)('search access and refusals on %s', (dialect) => {
  const t = useTestApp(dialect, UNLIMITED);
  const api = messageChanges(() => t.app);
  const found = (session: Session, q: string, roomId?: string) => searchKeys(t.app, session, { q, roomId });

  it('stops finding a room’s messages at once for a member removed or leaving', async () => {
    const owner = await signUp(t.app);
    const removed = await signUp(t.app);
    const leaver = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: true });
    for (const member of [removed, leaver]) await inviteInto(t.app, owner, room.id, member);
    const word = token();
    const message = await sendMessage(t.app, owner, room.id, `the plan: ${word}`);
    for (const member of [removed, leaver]) expect(await found(member, word)).toEqual([keyOf(message)]);

    expect((await call(t.app, 'POST', `/api/v1/rooms/${room.id}/members/${removed.user.id}/remove`, { session: owner })).status).toBe(204);
    expect((await call(t.app, 'POST', `/api/v1/rooms/${room.id}/leave`, { session: leaver })).status).toBe(204);
    for (const member of [removed, leaver]) {
      expect(await found(member, word)).toEqual([]);
      expect((await search(t.app, member, { q: word, roomId: room.id })).status).toBe(404);
    }
    expect(await found(owner, word)).toEqual([keyOf(message)]);
  });

  it('lets a new member find the room’s older messages', async () => {
    const owner = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: false });
    const word = token();
    const older = await sendMessage(t.app, owner, room.id, `written before you came: ${word}`);
    const newcomer = await signUp(t.app);
    expect(await found(newcomer, word)).toEqual([]);
    await joinRoom(t.app, newcomer, room.id);
    expect(await found(newcomer, word)).toEqual([keyOf(older)]);
    expect(await found(newcomer, word, room.id)).toEqual([keyOf(older)]);
  });

  it('never finds a deleted message', async () => {
    const owner = await signUp(t.app);
    const room = await createRoom(t.app, owner);
    const word = token();
    const kept = await sendMessage(t.app, owner, room.id, `${word} stays`);
    const gone = await sendMessage(t.app, owner, room.id, `${word} goes`);
    expect(await found(owner, word)).toEqual([keyOf(gone), keyOf(kept)]);
    expect((await api.remove(owner, room.id, gone.seq)).status).toBe(204);
    expect(await found(owner, word)).toEqual([keyOf(kept)]);
    expect(await found(owner, `${word} goes`)).toEqual([]);
    expect(await found(owner, 'has:file')).not.toContain(keyOf(gone));
  });

  it('finds an edited message by its new words and not by words only its old version had', async () => {
    const owner = await signUp(t.app);
    const room = await createRoom(t.app, owner);
    const [old, fresh, both] = [token(), token(), token()];
    const message = await sendMessage(t.app, owner, room.id, `${old} and ${both}`);
    expect(await found(owner, old)).toEqual([keyOf(message)]);
    await api.edited(owner, room.id, message.seq, `${fresh} and ${both}`);
    expect(await found(owner, old)).toEqual([]);
    expect(await found(owner, `${old.slice(0, 6)}`)).not.toContain(keyOf(message));
    expect(await found(owner, fresh)).toEqual([keyOf(message)]);
    const page = await search(t.app, owner, { q: both });
    expect(page.body.results.map((r) => [keyOf(r.message), r.message.body])).toEqual([[keyOf(message), `${fresh} and ${both}`]]);
    // Edited back: the first words count again.
    await api.edited(owner, room.id, message.seq, `${old} and ${both}`);
    expect(await found(owner, old)).toEqual([keyOf(message)]);
    expect(await found(owner, fresh)).toEqual([]);
  });

  it('finds nothing of a deleted room', async () => {
    const owner = await signUp(t.app);
    const room = await createRoom(t.app, owner);
    const word = token();
    await sendMessage(t.app, owner, room.id, `${word} in a room about to go`);
    expect(await found(owner, word)).toHaveLength(1);
    expect((await call(t.app, 'DELETE', `/api/v1/rooms/${room.id}`, { session: owner })).status).toBe(204);
    expect(await found(owner, word)).toEqual([]);
    expect((await search(t.app, owner, { q: word, roomId: room.id })).status).toBe(404);
  });

  it('answers 400 with the field and a message that says how to write it', async () => {
    const user = await signUp(t.app);
    const refusals: Array<[SearchParams, string, RegExp]> = [
      [{ q: '' }, 'q', /Type a word/],
      [{ q: '   ' }, 'q', /Type a word/],
      [{ q: '!!! ?' }, 'q', /Type a word/],
      [{ q: 'has:image' }, 'q', /has: takes only "file"/],
      [{ q: 'before:2026-02-30' }, 'q', /before: takes a day as YYYY-MM-DD/],
      [{ q: 'after:yesterday' }, 'q', /after: takes a day/],
      [{ q: 'from:' }, 'q', /from: takes a username/],
      [{ q: 'a b c d e f g h i' }, 'q', /at most 8 words/],
      [{ q: 'x'.repeat(301) }, 'q', /300/],
      [{ q: 'apple', before: 'not-a-cursor' }, 'before', /nextCursor/],
      [{ q: 'apple', before: Buffer.from('["x","r",1]').toString('base64url') }, 'before', /nextCursor/],
      [{ q: 'apple', limit: '0' }, 'limit', /1/],
      [{ q: 'apple', limit: '101' }, 'limit', /100/],
      [{ q: 'apple', limit: 'many' }, 'limit', /integer|number/i],
    ];
    for (const [params, field, message] of refusals) {
      const answer = await search(t.app, user, params);
      expect(answer.status, `${JSON.stringify(params)}: ${answer.text}`).toBe(400);
      expect(answer.body.error, JSON.stringify(params)).toMatchObject({ code: 'validation_failed', field });
      expect(answer.body.error!.message, JSON.stringify(params)).toMatch(message);
    }
    const missing = await call(t.app, 'GET', '/api/v1/search', { session: user });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'validation_failed', field: 'q' });
  });

  it('answers 400 for a day whose month does not exist (13, 00), as for a day that does not', async () => {
    const user = await signUp(t.app);
    for (const q of ['apple after:2026-13-01', 'before:2026-00-15']) {
      const answer = await search(t.app, user, { q });
      expect(answer.status, `${q}: ${answer.text}`).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'validation_failed', field: 'q', message: expect.stringContaining('takes a day as YYYY-MM-DD') });
    }
  });

  it('answers 404 for a room the caller is not in: private, public not joined, or none at all', async () => {
    const owner = await signUp(t.app);
    const outsider = await signUp(t.app);
    const hidden = await createRoom(t.app, owner, { isPrivate: true });
    const open = await createRoom(t.app, owner, { isPrivate: false });
    for (const room of [hidden, open]) await sendMessage(t.app, owner, room.id, 'apple');
    for (const roomId of [hidden.id, open.id, 'no-such-room']) {
      const answer = await search(t.app, outsider, { q: 'apple', roomId });
      expect(answer.status, roomId).toBe(404);
      expect(answer.body.error).toMatchObject({ code: 'not_found' });
    }
    expect(await found(outsider, 'apple')).toEqual([]);
  });

  it('answers 401 signed out', async () => {
    const answer = await search(t.app, null, { q: 'apple' });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 'auth_required' });
  });
});

describe.each(DIALECTS)('search rate limit on %s', (dialect) => {
  const t = useTestApp(dialect, { RATE_LIMIT_SEARCH_PER_MINUTE: '3' });

  it('answers 429 with Retry-After past RATE_LIMIT_SEARCH_PER_MINUTE, per user', async () => {
    const user = await signUp(t.app);
    const other = await signUp(t.app);
    for (let i = 0; i < 3; i += 1) expect((await search(t.app, user, { q: 'apple' })).status).toBe(200);
    const refused = await search(t.app, user, { q: 'apple' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await search(t.app, other, { q: 'apple' })).status).toBe(200);
    t.clock.advance(61_000);
    expect((await search(t.app, user, { q: 'apple' })).status).toBe(200);
  });
});

describe.each(DIALECTS)('search turned off on %s', (dialect) => {
  const t = useTestApp(dialect, { ...UNLIMITED, SEARCH_INDEX: 'off' });

  it('answers 503 search_off saying search is off', async () => {
    const user = await signUp(t.app);
    const room = await createRoom(t.app, user);
    await sendMessage(t.app, user, room.id, 'apple');
    const answer = await search(t.app, user, { q: 'apple' });
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'search_off', message: expect.stringContaining('SEARCH_INDEX=off') });
  });
});
