/**
 * Reactions over HTTP (PUT · DELETE …/messages/:seq/reactions/:emoji), on SQLite and
 * PostgreSQL: one per user and emoji, the emoji checked, the per-message cap, members only.
 */
import { describe, expect, it } from 'vitest';
import { signUp, useTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { httpClient } from '../support/http.js';
import { messageChanges, roomOfFour } from '../support/message-changes.js';

const MANY = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊', '😋', '😎', '😍', '😘', '🥰', '😗', '😙', '🥲', '😚', '🙂', '🤗'];

describe.each(DIALECTS)('reactions on %s', (dialect) => {
  const t = useTestApp(dialect);
  const api = messageChanges(() => t.app);
  const world = () => roomOfFour(() => t.app);
  const reactionsOf = async (session: Parameters<typeof api.page>[0], roomId: string, seq: number) =>
    (await api.page(session, roomId)).messages.find((m) => m.seq === seq)!.reactions;

  it('adds one reaction per user and emoji, lists who reacted in order, and takes it back', async () => {
    const { alice, bob, moderator, room, message } = await world();
    expect(await reactionsOf(bob, room.id, message.seq)).toEqual([]);
    expect((await api.react(bob, room.id, message.seq, '👍')).status).toBe(204);
    t.clock.advance(10);
    expect((await api.react(bob, room.id, message.seq, '👍')).status).toBe(204);
    expect((await api.react(alice, room.id, message.seq, '👍')).status).toBe(204);
    t.clock.advance(10);
    expect((await api.react(moderator, room.id, message.seq, '❤️')).status).toBe(204);
    expect(await reactionsOf(bob, room.id, message.seq)).toEqual([
      { emoji: '👍', userIds: [bob.user.id, alice.user.id] },
      { emoji: '❤️', userIds: [moderator.user.id] },
    ]);
    expect((await api.react(bob, room.id, message.seq, '👍', false)).status).toBe(204);
    expect((await api.react(bob, room.id, message.seq, '👍', false)).status).toBe(204);
    expect(await reactionsOf(alice, room.id, message.seq)).toEqual([
      { emoji: '👍', userIds: [alice.user.id] },
      { emoji: '❤️', userIds: [moderator.user.id] },
    ]);
  });

  it('takes emoji with skin tones, joiners and flags, and refuses text, two emoji, hidden tag text or a long one with 400', async () => {
    const { bob, room, message } = await world();
    const scotland = '\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}';
    // Tag characters spelling "hi" hidden behind a thumbs-up, and a flag's tags with a capital letter.
    const smuggled = ['👍\u{e0068}\u{e0069}', '\u{1f3f4}\u{e0047}\u{e0042}\u{e007f}'];
    for (const emoji of ['👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '1️⃣', scotland]) {
      t.clock.advance(10);
      expect((await api.react(bob, room.id, message.seq, emoji)).status, emoji).toBe(204);
    }
    for (const emoji of ['a', 'ok', '1', '👍👍', '<b>', '👍a', '%E2', '🏳️‍🌈'.repeat(6), ...smuggled]) {
      const answer = await api.react(bob, room.id, message.seq, emoji);
      expect(answer.status, emoji).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'validation_failed', field: 'emoji' });
    }
    expect((await reactionsOf(bob, room.id, message.seq)).map((r) => r.emoji)).toEqual(['👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '1️⃣', scotland]);
  });

  it(`caps a message at 20 different emoji with a 409, and still takes one already there`, async () => {
    const { alice, bob, room, message } = await world();
    for (const emoji of MANY.slice(0, 20)) expect((await api.react(bob, room.id, message.seq, emoji)).status).toBe(204);
    const over = await api.react(bob, room.id, message.seq, MANY[20]!);
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('too_many_reactions');
    expect(over.body.error.message).toContain('20');
    expect((await api.react(alice, room.id, message.seq, MANY[0]!)).status).toBe(204);
    expect(await reactionsOf(bob, room.id, message.seq)).toHaveLength(20);
  });

  it('is for members only: a removed member and an outsider get 404, signed out 401', async () => {
    const { owner, bob, room, message } = await world();
    const http = httpClient(t.app);
    const removed = await http.request('POST', `/api/v1/rooms/${room.id}/members/${bob.user.id}/remove`, { session: owner });
    expect(removed.status).toBe(204);
    expect((await api.react(bob, room.id, message.seq, '👍')).status).toBe(404);
    expect((await api.react(bob, room.id, message.seq, '👍', false)).status).toBe(404);
    const outsider = await signUp(t.app);
    expect((await api.react(outsider, room.id, message.seq, '👍')).status).toBe(404);
    expect((await api.react(null, room.id, message.seq, '👍')).status).toBe(401);
    expect(await reactionsOf(owner, room.id, message.seq)).toEqual([]);
  });

  it('answers 404 on a deleted or missing message', async () => {
    const { alice, bob, room, message } = await world();
    expect((await api.remove(alice, room.id, message.seq)).status).toBe(204);
    const onDeleted = await api.react(bob, room.id, message.seq, '👍');
    expect(onDeleted.status).toBe(404);
    expect(onDeleted.body.error.message).toBe('That message was deleted.');
    expect((await api.react(bob, room.id, 999, '👍')).status).toBe(404);
    const stored = await t.database.db.selectFrom('message_reactions').select('emoji').where('room_id', '=', room.id).execute();
    expect(stored).toEqual([]);
  });
});
