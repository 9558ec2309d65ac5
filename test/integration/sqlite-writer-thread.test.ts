/**
 * The SQLite writer thread (messages/sqlite-message-store.ts): a thread that dies fails
 * the writes it held, never acknowledges them, and the next write starts a new thread.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import { createSqliteMessageStore } from '../../src/server/messages/sqlite-message-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { newMessageRow } from '../support/factories.js';

describe('the SQLite writer thread', () => {
  let testDatabase: TestDatabase | undefined;
  afterEach(async () => {
    await testDatabase?.drop();
  });

  const message = newMessageRow;

  it('fails the writes of a thread that could not start, then starts a new one for the next write', async () => {
    testDatabase = await createTestDatabase('sqlite');
    const target = testDatabase.target;
    if (target.dialect !== 'sqlite') throw new Error('expected SQLite');
    const store = createSqliteMessageStore(target.file);
    const roomId = randomUUID();
    const userId = randomUUID();

    // No tables yet: the thread cannot prepare its statements and dies.
    await expect(store.insertBatch([message(roomId, userId)])).rejects.toThrow(/message writer (failed|stopped)/);

    const database = openDatabase(target);
    try {
      await migrateToLatest(database.db);
      await database.db
        .insertInto('users')
        .values({ id: userId, username: 'w', username_key: 'w', email_ciphertext: 'x', email_key_id: 'k', email_index: 'i', password_hash: 'h', created_at: 0 })
        .execute();
      await database.db
        .insertInto('rooms')
        .values({ id: roomId, name: 'W', name_key: 'w', description_ciphertext: null, description_key_id: null, is_private: 0, owner_id: userId, last_seq: 0, created_at: 0 })
        .execute();

      expect(await store.insertBatch([message(roomId, userId), message(roomId, userId)])).toEqual([1, 2]);
      const stored = await database.db.selectFrom('messages').select('seq').where('room_id', '=', roomId).orderBy('seq').execute();
      expect(stored.map((row) => row.seq)).toEqual([1, 2]);
    } finally {
      await store.close();
      await database.close();
    }
  });
});
