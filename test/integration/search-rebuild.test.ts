/**
 * The index built again while it answers: a bus event that cannot be read back becomes a
 * `resync` (events may have been lost), and the instance builds a new index from the
 * database — finding what was written behind the bus — while sends, edits and deletes go
 * on around it: whether heard before, during or after the build, each is in the new index.
 * On both databases.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import type { Services } from '../../src/server/compose.js';
import { loadConfig } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { noMetrics } from '../../src/server/http/metrics.js';
import { createLogger } from '../../src/server/logger.js';
import { createMemoryBus } from '../../src/server/platform/cluster/bus.js';
import type { ResolvedEvent } from '../../src/server/realtime/pointers.js';
import { createSearchIndexer, type SearchIndexer } from '../../src/server/search/search-indexer.js';
import { createSearchRepository } from '../../src/server/search/search.repository.js';
import type { FastifyInstance } from 'fastify';
import { prepareDatabase, signUp, testServices, type Session } from '../support/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { createRoom, sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';
import { insertBehindTheBus, searchKeys } from '../support/search.js';
import { UNTHROTTLED } from '../support/unthrottled.js';

describe.each(DIALECTS)('the search index rebuilt after a resync on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  let services: Services;
  let app: FastifyInstance;
  const bus = createMemoryBus();
  const keyring = createKeyring(generateFernetKey());

  beforeAll(async () => {
    testDatabase = await createTestDatabase(dialect);
    const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED }), database: testDatabase.target };
    database = openDatabase(testDatabase.target);
    await prepareDatabase(database, keyring);
    services = testServices({ config, database, keyring, bus });
    app = await buildApp(services);
    await app.ready();
    await services.searchReady;
  });

  /** As the gateway hands events on (this memory bus carries no pointers in these tests). */
  const hearTheBus = (indexer: SearchIndexer) => bus.subscribe((event) => indexer.hear(event as ResolvedEvent));

  afterAll(async () => {
    await app?.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('finds what was written behind the bus once a resync has rebuilt it, and keeps the changes made around the build', async () => {
    const alice: Session = await signUp(app);
    const room = await createRoom(app, alice);
    const changes = messageChanges(() => app);
    // Enough messages that the build takes several pages (each page yields to the event loop).
    await Promise.all(Array.from({ length: 60 }, (_, i) => sendMessage(app, alice, room.id, `filler number ${i} walrus`)));
    const toEdit = await sendMessage(app, alice, room.id, 'narwhal before the edit');
    const toDelete = await sendMessage(app, alice, room.id, 'narwhal to be deleted');
    const hidden = await insertBehindTheBus(database.db, keyring, { roomId: room.id, senderId: alice.user.id, body: 'narwhal restored from a backup' });
    expect(await searchKeys(app, alice, { q: 'restored' })).toEqual([]);

    // A pointer to a message that does not exist cannot be read back: the instance resyncs.
    await bus.publish({ kind: 'message-ref', roomId: room.id, seq: 1_000_000 } as never);
    const during = await sendMessage(app, alice, room.id, 'narwhal sent during the build', randomUUID());
    await changes.edited(alice, room.id, toEdit.seq, 'narwhal after the edit');
    expect((await changes.remove(alice, room.id, toDelete.seq)).status).toBe(204);

    await vi.waitFor(async () => expect(await searchKeys(app, alice, { q: 'restored' })).toEqual([hidden]), { timeout: 10_000, interval: 50 });
    const narwhals = await searchKeys(app, alice, { q: 'narwhal' });
    expect(narwhals).toEqual([`${room.id}/${during.seq}`, hidden, `${room.id}/${toEdit.seq}`].sort((a, b) => Number(b.split('/')[1]) - Number(a.split('/')[1])));
    expect(await searchKeys(app, alice, { q: 'before' })).toEqual([]);
    expect(await searchKeys(app, alice, { q: 'deleted' })).toEqual([]);
    expect(await searchKeys(app, alice, { q: 'walrus' })).toHaveLength(60);
  });

  it('tries a failed first build again (the database was away at start), answering "being built" until it has an index', async () => {
    const alice: Session = await signUp(app);
    const room = await createRoom(app, alice);
    await sendMessage(app, alice, room.id, 'an ocelot waits for the second build');
    const repository = createSearchRepository();
    let failures = 1;
    const indexer = createSearchIndexer({
      db: database.db,
      // The first build's first read fails, as with a database that is not up yet.
      repository: { ...repository, countMessages: async (db) => (failures-- > 0 ? Promise.reject(new Error('connection refused')) : repository.countMessages(db)) },
      keyring,
      log: createLogger({ ...services.config, logLevel: 'silent' }),
      metrics: noMetrics,
      retryMs: 50,
    });
    const stopHearing = hearTheBus(indexer);
    try {
      await indexer.start();
      expect('index' in indexer.ready()).toBe(false);
      await vi.waitFor(() => expect('index' in indexer.ready()).toBe(true), { timeout: 5_000, interval: 20 });
      const state = indexer.ready();
      const hits = 'index' in state ? state.index.search({ words: [], prefix: 'ocelot', roomIds: [room.id], limit: 5 }) : [];
      expect(hits.map((hit) => hit.seq)).toEqual([1]);
    } finally {
      stopHearing();
      await indexer.close();
    }
  });

  it('applies what it hears while a build runs: a page read before a send, an edit and a delete does not keep their old state', async () => {
    const alice: Session = await signUp(app);
    const room = await createRoom(app, alice);
    const changes = messageChanges(() => app);
    const toEdit = await sendMessage(app, alice, room.id, 'a gecko before the edit');
    const toDelete = await sendMessage(app, alice, room.id, 'a gecko to be deleted');
    // The build reads the room's page, then waits here, holding what it read, while the room changes.
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const repository = createSearchRepository();
    const indexer = createSearchIndexer({
      db: database.db,
      repository: {
        ...repository,
        roomPage: async (db, roomId, after, limit) => {
          const rows = await repository.roomPage(db, roomId, after, limit);
          if (roomId === room.id) {
            reached();
            await gate;
          }
          return rows;
        },
      },
      keyring,
      log: createLogger({ ...services.config, logLevel: 'silent' }),
      metrics: noMetrics,
    });
    const stopHearing = hearTheBus(indexer);
    try {
      const started = indexer.start();
      await atGate;
      const during = await sendMessage(app, alice, room.id, 'a gecko sent during the build');
      await changes.edited(alice, room.id, toEdit.seq, 'a gecko after the edit');
      expect((await changes.remove(alice, room.id, toDelete.seq)).status).toBe(204);
      release();
      await started;
      const state = indexer.ready();
      if (!('index' in state)) throw new Error('the build did not finish');
      const seqs = (q: { words: string[]; prefix?: string }) => state.index.search({ ...q, roomIds: [room.id], limit: 10 }).map((hit) => hit.seq);
      expect(seqs({ words: [], prefix: 'gecko' })).toEqual([during.seq, toEdit.seq]);
      expect(seqs({ words: ['gecko'], prefix: 'after' })).toEqual([toEdit.seq]);
      expect(seqs({ words: [], prefix: 'before' })).toEqual([]);
      expect(seqs({ words: [], prefix: 'deleted' })).toEqual([]);
    } finally {
      stopHearing();
      await indexer.close();
    }
  });
});
