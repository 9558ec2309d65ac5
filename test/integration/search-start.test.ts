/**
 * The index is built at start, on SQLite and PostgreSQL: a second app started later on the
 * same database (and the same in-process bus) finds what was written before it started,
 * then keeps current from the bus — new messages, edits and deletes made on the first app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import type { Services } from '../../src/server/compose.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { createMemoryBus } from '../../src/server/platform/cluster/bus.js';
import { prepareDatabase, signUp, testServices } from '../support/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { createRoom, sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';
import { waitUntil } from '../support/process.js';
import { insertBehindTheBus, keyOf, search, searchKeys } from '../support/search.js';
import { UNTHROTTLED } from '../support/unthrottled.js';

describe.each(DIALECTS)('an instance started later on %s', (dialect) => {
  const keyring = createKeyring(generateFernetKey());
  const bus = createMemoryBus();
  let testDatabase: TestDatabase;
  let config: Config;
  const started: Array<{ app: FastifyInstance; database: DatabaseHandle }> = [];
  /** The first app's connection, for writes behind the API. */
  const setUpDatabase = () => started[0]!.database;

  async function startApp(): Promise<{ app: FastifyInstance; services: Services }> {
    const database = openDatabase(testDatabase.target);
    const services = testServices({ config, database, keyring, bus });
    const app = await buildApp(services);
    started.push({ app, database });
    await app.ready();
    await services.searchReady;
    return { app, services };
  }

  beforeAll(async () => {
    testDatabase = await createTestDatabase(dialect);
    config = { ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED, RATE_LIMIT_SEARCH_PER_MINUTE: '1000000' }), database: testDatabase.target };
    const setUp = openDatabase(testDatabase.target);
    await prepareDatabase(setUp, keyring);
    await setUp.close();
  });

  afterAll(async () => {
    for (const { app, database } of started.reverse()) {
      await app.close();
      await database.close();
    }
    await testDatabase?.drop();
  });

  it('finds the messages written before it started, and those it hears of afterwards', async () => {
    const first = (await startApp()).app;
    const alice = await signUp(first);
    const room = await createRoom(first, alice);
    const other = await createRoom(first, alice);
    const early = [
      await sendMessage(first, alice, room.id, 'Früh geschrieben: apfel'),
      await sendMessage(first, alice, other.id, 'APFEL und birne'),
      await sendMessage(first, alice, room.id, 'nur birne'),
    ];
    const edited = await sendMessage(first, alice, room.id, 'kirsche vorher');
    const changes = messageChanges(first);
    await changes.edited(alice, room.id, edited.seq, 'kirsche nachher');
    const deleted = await sendMessage(first, alice, room.id, 'apfel gelöscht');
    expect((await changes.remove(alice, room.id, deleted.seq)).status).toBe(204);

    const second = (await startApp()).app;
    for (const q of ['apfel', 'ÄPFEL']) expect(await searchKeys(second, alice, { q })).toEqual([keyOf(early[1]!), keyOf(early[0]!)]);
    expect(await searchKeys(second, alice, { q: 'birne' })).toEqual([keyOf(early[2]!), keyOf(early[1]!)]);
    expect(await searchKeys(second, alice, { q: 'vorher' })).toEqual([]);
    expect(await searchKeys(second, alice, { q: 'kirsche nach' })).toEqual([keyOf(edited)]);
    expect(await searchKeys(second, alice, { q: 'geloscht' })).toEqual([]);

    // Written on the first app after the second started: the second hears of it on the bus.
    const late = await sendMessage(first, alice, room.id, 'spät: apfel');
    await changes.edited(alice, room.id, early[2]!.seq, 'nur pflaume');
    expect((await changes.remove(alice, other.id, early[1]!.seq)).status).toBe(204);
    const agreed = await waitUntil('the second app hears of the changes', 10_000, async () => {
      const [apfel, birne, pflaume] = await Promise.all(['apfel', 'birne', 'pflaume'].map((q) => searchKeys(second, alice, { q })));
      const ok = apfel!.join() === [keyOf(late), keyOf(early[0]!)].join() && birne!.length === 0 && pflaume!.join() === keyOf(early[2]!);
      return ok && { apfel, birne, pflaume };
    });
    expect(agreed).toEqual({ apfel: [keyOf(late), keyOf(early[0]!)], birne: [], pflaume: [keyOf(early[2]!)] });
    expect(await searchKeys(first, alice, { q: 'apfel' })).toEqual(agreed.apfel);
  });

  it('builds at start an index of more distinct words than a call may take arguments (160 000)', async () => {
    const first = (await startApp()).app;
    const alice = await signUp(first);
    const room = await createRoom(first, alice);
    const keys: string[] = [];
    for (let m = 0; m < 16; m += 1) {
      const body = Array.from({ length: 10_000 }, (_, w) => `w${m}x${w}`).join(' ');
      keys.push(await insertBehindTheBus(setUpDatabase().db, keyring, { roomId: room.id, senderId: alice.user.id, body }));
    }
    const second = (await startApp()).app;
    const answer = await search(second, alice, { q: 'w7x1234' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.results.map((r) => keyOf(r.message))).toEqual([keys[7]]);
    expect(await searchKeys(second, alice, { q: 'w15x999' })).toEqual([keys[15]]);
  });
});
