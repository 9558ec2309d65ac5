/**
 * Search across three instances on one PostgreSQL database, over the PostgreSQL and the
 * Redis bus: after sends, edits and deletes made on different instances, every instance
 * answers the same query the same way (each keeps its own index from the bus). And
 * `securechat search reindex`'s generation bump makes every running instance build again:
 * a message written behind the bus's back (straight into the table) becomes findable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { createSearchRepository } from '../../src/server/search/search.repository.js';
import { prepareDatabase, signUp, type Session } from '../support/app.js';
import { BUS_KINDS, clusterConfig, type BusKind } from '../support/cluster-config.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createRoom, inviteInto, sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';
import { waitUntil } from '../support/process.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { corpusEntry, expectedKeys, insertBehindTheBus, keyOf, searchKeys, type CorpusMessage } from '../support/search.js';
import { startClusterInstances, type ClusterInstance } from '../support/cluster-instances.js';

const redis = await redisForTests();
const SESSION_SECRET = 'search-cluster-session-secret-0123456789abcdef';
const QUERIES = ['apple', 'banana', 'cherry', 'apple banana', 'ch', 'b', 'has:file'];

describe.each(BUS_KINDS)('search across three instances on the %s bus', (kind: BusKind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let inspect: DatabaseHandle;
    let config: Config;
    let instances: ClusterInstance[] = [];

    beforeAll(async () => {
      testDatabase = await createTestDatabase('postgres');
      config = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
      inspect = openDatabase(testDatabase.target);
      await prepareDatabase(inspect, keyring);
      instances = await startClusterInstances(3, config, keyring, SESSION_SECRET, { searchGenerationPollMs: 50 });
    }, 30_000);

    afterAll(async () => {
      for (const instance of instances) await instance.close();
      await inspect?.close();
      if (kind === 'redis') await dropRedisPrefix(redis.url, prefix);
      await testDatabase?.drop();
    });

    /** Polls until every instance answers every query as the scan of `corpus` does; then asserts it. */
    async function expectAllAgree(viewer: Session, corpus: Map<string, CorpusMessage>, roomIds: string[], queries = QUERIES) {
      const answers = async () => Promise.all(instances.map((instance) => Promise.all(queries.map((q) => searchKeys(instance.app, viewer, { q, limit: 3 })))));
      const expected = queries.map((q) => expectedKeys(corpus.values(), q, roomIds));
      const agreed = await waitUntil('every instance answers as the scan does', 15_000, async () => {
        const now = await answers();
        return now.every((perInstance) => JSON.stringify(perInstance) === JSON.stringify(expected)) && now;
      });
      for (const perInstance of agreed) expect(perInstance).toEqual(expected);
    }

    it('answers the same on every instance after sends, edits and deletes made on different ones', async () => {
      const [a, b, c] = instances as [ClusterInstance, ClusterInstance, ClusterInstance];
      const alice = await signUp(a.app);
      const bob = await signUp(b.app);
      const room = await createRoom(a.app, alice);
      await inviteInto(a.app, alice, room.id, bob);
      const corpus = new Map<string, CorpusMessage>();
      const bodies = ['apple banana', 'banana cherry', 'Cherry, APPLE!', 'chestnut', 'apple pie', 'Bánana split', 'apple', 'cherry apple banana'];
      for (const [i, body] of bodies.entries()) {
        const message = await sendMessage([a, b, c][i % 3]!.app, i % 2 ? bob : alice, room.id, body);
        corpus.set(keyOf(message), corpusEntry(message));
      }
      await expectAllAgree(alice, corpus, [room.id]);

      // Edits on b and c, deletes on a and c, and another send on b.
      const entries = [...corpus.values()];
      for (const [target, entry, body] of [[b, entries[0]!, 'cherry only'], [c, entries[3]!, 'apple chestnut']] as const) {
        const author = entry.senderUsername === alice.user.username ? alice : bob;
        const edited = await messageChanges(target.app).edited(author, room.id, entry.seq, body);
        corpus.set(keyOf(edited), corpusEntry(edited));
      }
      for (const [target, entry] of [[a, entries[1]!], [c, entries[6]!]] as const) {
        const author = entry.senderUsername === alice.user.username ? alice : bob;
        expect((await messageChanges(target.app).remove(author, room.id, entry.seq)).status).toBe(204);
        corpus.delete(keyOf(entry));
      }
      const late = await sendMessage(b.app, bob, room.id, 'banana bread, late');
      corpus.set(keyOf(late), corpusEntry(late));
      await expectAllAgree(bob, corpus, [room.id]);
    });

    it('builds again on every instance when the reindex generation is bumped', async () => {
      const [a] = instances as [ClusterInstance];
      const alice = await signUp(a.app);
      const room = await createRoom(a.app, alice);
      const seen = await sendMessage(a.app, alice, room.id, 'durian heard on the bus');
      const corpus = new Map([[keyOf(seen), corpusEntry(seen)]]);
      await expectAllAgree(alice, corpus, [room.id], ['durian']);

      // Written straight into the table, as a restore or a repair would: no instance hears of it.
      const body = 'durian written behind the bus';
      const createdAt = Date.now();
      const key = await insertBehindTheBus(inspect.db, keyring, { roomId: room.id, senderId: alice.user.id, body, createdAt });
      corpus.set(key, { roomId: room.id, seq: Number(key.split('/')[1]), senderUsername: alice.user.username, body, createdAt, hasFile: false });
      for (const instance of instances) expect(await searchKeys(instance.app, alice, { q: 'behind' })).toEqual([]);

      await createSearchRepository().bumpGeneration(inspect.db);
      await expectAllAgree(alice, corpus, [room.id], ['durian', 'behind', 'bus']);
    });
  });
});
