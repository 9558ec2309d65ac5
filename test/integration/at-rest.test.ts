/**
 * What an attacker holding a copy of the SQLite files would find: no plaintext email,
 * password, room description or message body — in the database file or its WAL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { as, signUp, startTestApp, TEST_PASSWORD } from '../support/app.js';
import { myRooms, sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';

describe('data at rest on SQLite', () => {
  it('stores no plaintext email, password, description or message body', async () => {
    const t = await startTestApp('sqlite');
    const file = t.testDatabase.target.dialect === 'sqlite' ? t.testDatabase.target.file : '';
    const secrets: string[] = [TEST_PASSWORD];
    try {
      const alice = await signUp(t.app, 'plaintext_probe_alice');
      const bob = await signUp(t.app, 'plaintext_probe_bob');
      secrets.push('plaintext_probe_alice@example.com', 'plaintext_probe_bob@example.com');

      const description = 'Quarterly numbers nobody may read: QZX-DESCRIPTION-7731';
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/rooms',
        headers: as(alice),
        payload: { name: 'Finance', description, isPrivate: true },
      });
      expect(created.statusCode).toBe(201);
      secrets.push(description);
      const roomId = created.json().room.id as string;

      for (let i = 0; i < 20; i += 1) {
        const body = `The launch code is QZX-MESSAGE-${i}-${'x'.repeat(i * 10)}`;
        const sent = await t.app.inject({
          method: 'POST',
          url: `/api/v1/rooms/${roomId}/messages`,
          headers: as(alice),
          payload: { body, clientId: `m${i}` },
        });
        expect(sent.statusCode).toBe(201);
        secrets.push(body);
      }
      const general = (await myRooms(t.app, bob))[0]!;
      const hello = 'QZX-GENERAL-HELLO from bob';
      await sendMessage(t.app, bob, general.id, hello, 'g1');
      secrets.push(hello);
    } finally {
      await t.app.close();
      await t.database.close();
    }

    const bytes = [file, `${file}-wal`].filter(existsSync).map((path) => readFileSync(path).toString('latin1')).join('\n');
    expect(bytes.length).toBeGreaterThan(0);
    // The files do hold the data — as Fernet tokens.
    expect(bytes).toMatch(/gAAAAA[A-Za-z0-9_-]{40,}/);
    for (const secret of secrets) expect(bytes).not.toContain(secret);
    expect(bytes).not.toContain('QZX-');
    await t.testDatabase.drop();
  });
});

describe('edit history at rest on SQLite', () => {
  it('keeps earlier versions as Fernet tokens, and after a delete leaves no trace of the body or its versions', async () => {
    const t = await startTestApp('sqlite');
    const file = t.testDatabase.target.dialect === 'sqlite' ? t.testDatabase.target.file : '';
    const api = messageChanges(t.app);
    const versions = ['QZX-VERSION-ONE keep me secret', 'QZX-VERSION-TWO keep me secret', 'QZX-VERSION-THREE keep me secret'];
    const kept = ['QZX-KEPT-ONE survives', 'QZX-KEPT-TWO survives'];
    let deletedTokens: string[] = [];
    let keptTokens: string[] = [];
    try {
      const alice = await signUp(t.app, 'history_probe_alice');
      const roomId = (await myRooms(t.app, alice))[0]!.id;
      const doomed = await sendMessage(t.app, alice, roomId, versions[0]!, 'doomed');
      for (const body of versions.slice(1)) await api.edited(alice, roomId, doomed.seq, body);
      const survivor = await sendMessage(t.app, alice, roomId, kept[0]!, 'survivor');
      await api.edited(alice, roomId, survivor.seq, kept[1]!);

      const tokensOf = async (seq: number) => [
        ...(await t.database.db.selectFrom('messages').select('body_ciphertext as token').where('room_id', '=', roomId).where('seq', '=', seq).execute()),
        ...(await t.database.db.selectFrom('message_edits').select('body_ciphertext as token').where('room_id', '=', roomId).where('seq', '=', seq).execute()),
      ].map((row) => row.token);
      deletedTokens = await tokensOf(doomed.seq);
      keptTokens = await tokensOf(survivor.seq);
      expect(deletedTokens).toHaveLength(3);
      for (const token of [...deletedTokens, ...keptTokens]) expect(token).toMatch(/^gAAAAA/);
      expect((await api.history(alice, roomId, survivor.seq)).map((v) => v.body)).toEqual([kept[0]]);

      expect((await api.remove(alice, roomId, doomed.seq)).status).toBe(204);
      expect(await tokensOf(doomed.seq)).toEqual(['']);
    } finally {
      await t.app.close();
      await t.database.close();
    }

    const bytes = [file, `${file}-wal`].filter(existsSync).map((path) => readFileSync(path).toString('latin1')).join('\n');
    expect(bytes).not.toContain('QZX-');
    // The surviving message's tokens are there; the deleted one's are not, not even in freed pages.
    for (const token of keptTokens) expect(bytes).toContain(token);
    for (const token of deletedTokens) expect(bytes).not.toContain(token.slice(0, 60));
    await t.testDatabase.drop();
  });
});
