/**
 * What an attacker holding a copy of the SQLite files would find: no plaintext email,
 * password, room description or message body — in the database file or its WAL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { as, signUp, startTestApp, TEST_PASSWORD } from '../support/app.js';
import { myRooms, sendMessage } from '../support/factories.js';

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
