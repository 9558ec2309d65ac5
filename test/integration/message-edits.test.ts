/**
 * Edits and deletes over HTTP (api.md "Messages: … edits, deletes"), on SQLite and
 * PostgreSQL: who may, what is checked, what the pages show, the earlier versions, and the
 * change counter a client catches up with (`changedAfter`).
 */
import { describe, expect, it } from 'vitest';
import { signUp, useTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, joinRoom, sendMessage } from '../support/factories.js';
import { messageChanges, roomOfFour } from '../support/message-changes.js';

describe.each(DIALECTS)('message edits and deletes on %s', (dialect) => {
  const t = useTestApp(dialect);
  const api = messageChanges(() => t.app);
  const world = () => roomOfFour(() => t.app);

  describe('editing', () => {
    it('lets the author edit: 200 with the trimmed body and editedAt, and keeps the earlier versions, newest first', async () => {
      const { alice, bob, room, message } = await world();
      t.clock.advance(1000);
      const first = await api.edited(alice, room.id, message.seq, '  the second version \n');
      expect(first).toMatchObject({ seq: message.seq, body: 'the second version', editedAt: expect.any(String), reactions: [] });
      expect(first.changeSeq).toBeGreaterThan(0);
      t.clock.advance(1000);
      const second = await api.edited(alice, room.id, message.seq, 'the third version');
      expect(second.changeSeq).toBeGreaterThan(first.changeSeq!);

      const versions = await api.history(bob, room.id, message.seq);
      expect(versions.map((v) => v.body)).toEqual(['the second version', 'the first version']);
      expect(versions[0]!.editedAt).toBe(second.editedAt);
      expect(versions[1]!.editedAt).toBe(first.editedAt);

      const page = await api.page(bob, room.id);
      expect(page.messages.find((m) => m.seq === message.seq)).toMatchObject({ body: 'the third version', editedAt: second.editedAt });
    });

    it('checks the body as a send does: empty after trimming or too long is a 400 and changes nothing', async () => {
      const { alice, room, message } = await world();
      const empty = await api.edit(alice, room.id, message.seq, '   ');
      expect(empty.status).toBe(400);
      expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'body' });
      const long = await api.edit(alice, room.id, message.seq, 'x'.repeat(t.config.messageMaxLength + 1));
      expect(long.status).toBe(400);
      expect(long.body.error.message).toContain(String(t.config.messageMaxLength));
      const notText = await api.edit(alice, room.id, message.seq, 42);
      expect(notText.status).toBe(400);
      expect((await api.history(alice, room.id, message.seq))).toEqual([]);
      expect((await api.page(alice, room.id)).messages.at(-1)).toMatchObject({ body: 'the first version' });
    });

    it('keeps no version for an edit to the same text', async () => {
      const { alice, room, message } = await world();
      const same = await api.edited(alice, room.id, message.seq, 'the first version');
      expect(same.editedAt).toBeUndefined();
      expect(await api.history(alice, room.id, message.seq)).toEqual([]);
    });

    it('refuses anyone else: another member and the owner 403, an outsider 404, signed out 401', async () => {
      const { owner, moderator, bob, room, message } = await world();
      for (const other of [bob, moderator, owner]) {
        const answer = await api.edit(other, room.id, message.seq, 'hijacked');
        expect(answer.status).toBe(403);
        expect(answer.body.error.message).toBe('Only its author can edit a message.');
      }
      const outsider = await signUp(t.app);
      expect((await api.edit(outsider, room.id, message.seq, 'hijacked')).status).toBe(404);
      expect((await api.edits(outsider, room.id, message.seq)).status).toBe(404);
      expect((await api.edit(null, room.id, message.seq, 'hijacked')).status).toBe(401);
      expect((await api.page(bob, room.id)).messages.at(-1)!.body).toBe('the first version');
    });

    it('answers 404 for a seq that does not exist', async () => {
      const { alice, room } = await world();
      const answer = await api.edit(alice, room.id, 999, 'nothing there');
      expect(answer.status).toBe(404);
      expect(answer.body.error.message).toBe('That message was not found.');
    });

    it('refuses a non-member of a public room 403 not_member (they can see it)', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(t.app, owner, { isPrivate: false });
      const message = await sendMessage(t.app, owner, room.id, 'public words');
      const passer = await signUp(t.app);
      const answer = await api.edit(passer, room.id, message.seq, 'mine now');
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('not_member');
      await joinRoom(t.app, passer, room.id);
      expect((await api.edit(passer, room.id, message.seq, 'mine now')).status).toBe(403);
    });
  });

  describe('deleting', () => {
    it('lets the author delete: 204, a tombstone at the same seq, no earlier versions; a second delete is 404', async () => {
      const { alice, bob, room, message } = await world();
      await api.edited(alice, room.id, message.seq, 'the second version');
      expect((await api.react(bob, room.id, message.seq, '👍')).status).toBe(204);
      expect((await api.remove(alice, room.id, message.seq)).status).toBe(204);

      const tombstone = (await api.page(bob, room.id)).messages.find((m) => m.seq === message.seq)!;
      expect(tombstone).toMatchObject({ id: message.id, seq: message.seq, body: '', deletedAt: expect.any(String), reactions: [] });
      const history = await api.edits(bob, room.id, message.seq);
      expect(history.status).toBe(404);
      expect(history.body.error.message).toBe('That message was deleted.');
      const again = await api.remove(alice, room.id, message.seq);
      expect(again.status).toBe(404);
      expect(again.body.error.message).toBe('That message was deleted.');
      expect((await api.edit(alice, room.id, message.seq, 'back')).status).toBe(404);

      const stored = await t.database.db.selectFrom('messages').selectAll().where('id', '=', message.id).executeTakeFirstOrThrow();
      expect(stored.body_ciphertext).toBe('');
      expect(stored.body_key_id).toBeNull();
      const versions = await t.database.db.selectFrom('message_edits').select('id').where('room_id', '=', room.id).execute();
      expect(versions).toEqual([]);
    });

    it('lets the moderator and the owner delete another’s message, and not a plain member', async () => {
      const { owner, moderator, alice, bob, room, message } = await world();
      const byMember = await api.remove(bob, room.id, message.seq);
      expect(byMember.status).toBe(403);
      expect(byMember.body.error.message).toBe('Only its author, a moderator or the owner can delete a message.');
      expect((await api.remove(moderator, room.id, message.seq)).status).toBe(204);
      const second = await sendMessage(t.app, alice, room.id, 'another');
      expect((await api.remove(owner, room.id, second.seq)).status).toBe(204);
      const outsider = await signUp(t.app);
      const third = await sendMessage(t.app, alice, room.id, 'a third');
      expect((await api.remove(outsider, room.id, third.seq)).status).toBe(404);
      expect((await api.page(alice, room.id)).messages.map((m) => m.body)).toEqual(['', '', 'a third']);
    });
  });

  describe('catching up', () => {
    it('answers the messages changed after a change number, in change order, with the room’s lastChange', async () => {
      const { alice, bob, room, message } = await world();
      const other = await sendMessage(t.app, alice, room.id, 'second message');
      const start = (await api.page(bob, room.id, '?changedAfter=0')).lastChange!;
      await api.edited(alice, room.id, other.seq, 'second message, edited');
      expect((await api.react(bob, room.id, message.seq, '🎉')).status).toBe(204);
      const changed = await api.page(bob, room.id, `?changedAfter=${start}`);
      expect(changed.messages.map((m) => m.seq)).toEqual([other.seq, message.seq]);
      expect(changed.messages[1]!.reactions).toEqual([{ emoji: '🎉', userIds: [bob.user.id] }]);
      expect(changed.lastChange).toBe(start + 2);
      expect(changed.hasMore).toBe(false);

      const paged = await api.page(bob, room.id, `?changedAfter=${start}&limit=1`);
      expect(paged).toMatchObject({ hasMore: true, messages: [{ seq: other.seq }] });
      expect((await api.page(bob, room.id, `?changedAfter=${start + 2}`)).messages).toEqual([]);
      // A later change moves the message to the end of the change order.
      await api.edited(alice, room.id, other.seq, 'edited again');
      expect((await api.page(bob, room.id, `?changedAfter=${start}`)).messages.map((m) => m.seq)).toEqual([message.seq, other.seq]);
    });

    it('refuses changedAfter with before or after, and a non-member', async () => {
      const { bob, room } = await world();
      expect((await api.call(bob, 'GET', `/api/v1/rooms/${room.id}/messages?changedAfter=0&after=1`)).status).toBe(400);
      expect((await api.call(bob, 'GET', `/api/v1/rooms/${room.id}/messages?changedAfter=-1`)).status).toBe(400);
      const outsider = await signUp(t.app);
      expect((await api.call(outsider, 'GET', `/api/v1/rooms/${room.id}/messages?changedAfter=0`)).status).toBe(404);
    });
  });
});
