/**
 * Search and key rotation: the index holds no ciphertext and no key, so an instance running
 * through `keys rotate` (with the new key and the old, as operations.md says) answers the
 * same, and one started afterwards with the new key alone builds the same index from the
 * re-encrypted bodies. On both databases.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import type { Services } from '../../src/server/compose.js';
import { loadConfig } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring, type Keyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { createKeysRepository } from '../../src/server/keys/keys.repository.js';
import { createKeysService } from '../../src/server/keys/keys.service.js';
import { createMemoryBus } from '../../src/server/platform/cluster/bus.js';
import { buildSearchIndex } from '../../src/server/search/search-indexer.js';
import { createSearchRepository } from '../../src/server/search/search.repository.js';
import { prepareDatabase, signUp, testServices, type Session } from '../support/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { createRoom, sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';
import { searchKeys } from '../support/search.js';
import { UNTHROTTLED } from '../support/unthrottled.js';

describe.each(DIALECTS)('search across a key rotation on %s', (dialect) => {
  const [keyA, keyB] = [generateFernetKey(), generateFernetKey()];
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  const apps: FastifyInstance[] = [];

  async function start(keyring: Keyring): Promise<{ app: FastifyInstance; services: Services }> {
    const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED }), database: testDatabase.target };
    await createKeysService({ db: database.db, keys: createKeysRepository(dialect), keyring, clock: { now: Date.now } }).verify();
    const services = testServices({ config, database, keyring, bus: createMemoryBus() });
    const app = await buildApp(services);
    await app.ready();
    await services.searchReady;
    apps.push(app);
    return { app, services };
  }

  beforeAll(async () => {
    testDatabase = await createTestDatabase(dialect);
    database = openDatabase(testDatabase.target);
    await prepareDatabase(database, createKeyring(keyA));
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('answers the same while the bodies are re-encrypted, and the same again from the new key alone', async () => {
    const before = await start(createKeyring(keyA));
    const alice: Session = await signUp(before.app);
    const room = await createRoom(before.app, alice);
    for (const body of ['the quokka smiles', 'a quokka and a wombat', 'wombats dig', 'a quokka named platypus']) await sendMessage(before.app, alice, room.id, body);
    await messageChanges(() => before.app).edited(alice, room.id, 4, 'the edited one names a numbat');
    const queries = ['quokka', 'wom', 'numbat', 'platypus', 'quokka wombat'];
    const answers = async (app: FastifyInstance) => Promise.all(queries.map((q) => searchKeys(app, alice, { q })));
    const expected = await answers(before.app);
    expect(expected.map((keys) => keys.length)).toEqual([2, 2, 1, 0, 1]);

    // Every instance gets the new key first and the old as a fallback; then the rotation runs.
    const during = await start(createKeyring(keyB, [keyA]));
    const rotated = await createKeysService({ db: database.db, keys: createKeysRepository(dialect), keyring: createKeyring(keyB, [keyA]), clock: { now: Date.now } }).rotate();
    expect(rotated.remaining).toBe(0);
    expect(rotated.reencrypted).toBeGreaterThan(0);
    expect(await answers(during.app)).toEqual(expected);

    // Started with the new key alone, an instance builds its index from the re-encrypted bodies; nothing is left undecryptable.
    const after = await start(createKeyring(keyB));
    expect(await answers(after.app)).toEqual(expected);
    const rebuilt = await buildSearchIndex({ db: database.db, repository: createSearchRepository(), keyring: createKeyring(keyB) });
    expect(rebuilt.undecryptable).toBe(0);
    const old = await buildSearchIndex({ db: database.db, repository: createSearchRepository(), keyring: createKeyring(keyA) });
    expect(old.undecryptable).toBe(rebuilt.index.stats().messages);
  });
});
