/**
 * Edits, deletes and reactions across three instances on one PostgreSQL database, over the
 * PostgreSQL and the Redis bus: each change made on any instance reaches every member's
 * socket on every instance as `message_updated`, all in the same order (the change
 * order), and a body too large for the bus travels as a pointer and is read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import { prepareDatabase, signUp, type Session } from '../support/app.js';
import { BUS_KINDS, clusterConfig, type BusKind } from '../support/cluster-config.js';
import { startClusterInstances, type ClusterInstance } from '../support/cluster-instances.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createInvite, createRoom, sendMessage } from '../support/factories.js';
import { httpClient } from '../support/http.js';
import { messageChanges } from '../support/message-changes.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { closedAfterEach, connectWs, type WsClient } from '../support/ws-client.js';
import type { Frame } from '../support/frames.js';

const redis = await redisForTests();
const SESSION_SECRET = 'message-changes-cluster-secret-0123456789abcdef';
const updates = (socket: WsClient, seq: number) =>
  socket.frames.filter((f): f is Frame<'message_updated'> => f.type === 'message_updated' && f.message.seq === seq).map((f) => f.message);

describe.each(BUS_KINDS)('message changes across three instances on the %s bus', (kind: BusKind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let config: Config;
    const instances: ClusterInstance[] = [];
    const sockets = closedAfterEach();

    beforeAll(async () => {
      testDatabase = await createTestDatabase('postgres');
      const base = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
      // Long enough that an edit does not fit a NOTIFY (8000 bytes): it goes as a pointer.
      config = { ...base, messageMaxLength: 20_000 };
      const setUp = openDatabase(testDatabase.target);
      await prepareDatabase(setUp, keyring);
      await setUp.close();
      instances.push(...(await startClusterInstances(3, config, keyring, SESSION_SECRET)));
    }, 30_000);

    afterAll(async () => {
      for (const instance of instances) await instance.close();
      if (kind === 'redis') await dropRedisPrefix(redis.url, prefix);
      await testDatabase?.drop();
    });

    it('delivers every edit, reaction and delete to every instance, in the same (change) order', async () => {
      const [a, b, c] = instances as [(typeof instances)[0], (typeof instances)[0], (typeof instances)[0]];
      const alice = await signUp(a.app);
      const bob = await signUp(b.app);
      const carol = await signUp(c.app);
      const room = await createRoom(a.app, alice, { isPrivate: true });
      const invite = await createInvite(a.app, alice, room.id);
      for (const [person, instance] of [[bob, b], [carol, c]] as Array<[Session, typeof a]>) {
        expect((await httpClient(instance.app).request('POST', `/api/v1/invites/${invite.code}/accept`, { session: person })).status).toBe(200);
      }
      const watchers: WsClient[] = [];
      for (const [person, instance] of [[alice, a], [bob, b], [carol, c], [alice, c]] as Array<[Session, typeof a]>) {
        const socket = await connectWs(instance.base, { cookie: person.cookie });
        sockets.push(socket);
        watchers.push(socket);
      }
      const message = await sendMessage(a.app, alice, room.id, 'first');
      const [onA, onB, onC] = [messageChanges(a.app), messageChanges(b.app), messageChanges(c.app)];

      const big = `big ${'x'.repeat(12_000)}`;
      const steps: Array<() => Promise<unknown>> = [
        () => onA.edited(alice, room.id, message.seq, 'second'),
        () => onB.react(bob, room.id, message.seq, '👍'),
        () => onC.react(carol, room.id, message.seq, '👍'),
        () => onC.react(carol, room.id, message.seq, '🎉'),
        () => onB.react(bob, room.id, message.seq, '👍', false),
        () => onA.edited(alice, room.id, message.seq, 'third'),
      ];
      // Not awaited one by one: the changes race from three instances; the database orders them.
      await Promise.all(steps.map((step) => step()));
      // The big edit travels as a pointer, read back on delivery: every socket must see it
      // before the delete, or the read would find the tombstone instead.
      await onA.edited(alice, room.id, message.seq, big);
      for (const socket of watchers) {
        await socket.waitFor((f) => f.type === 'message_updated' && f.message.seq === message.seq && f.message.body === big, { timeoutMs: 8_000 });
      }
      await onB.remove(alice, room.id, message.seq);

      for (const socket of watchers) {
        await socket.waitFor((f) => f.type === 'message_updated' && f.message.seq === message.seq && f.message.deletedAt !== undefined, { timeoutMs: 8_000 });
      }
      const seen = watchers.map((socket) => updates(socket, message.seq));
      for (const list of seen) {
        expect(list).toHaveLength(steps.length + 2);
        // Pointers are read back when delivered, so a state may be newer than its event; the order never goes back.
        const order = list.map((m) => m.changeSeq!);
        expect(order).toEqual([...order].sort((x, y) => x - y));
        expect(list.at(-1)).toMatchObject({ body: '', deletedAt: expect.any(String), reactions: [] });
      }
      // Every instance saw the same states in the same order (a pointer read back may show a newer state than its event).
      const state = (m: Message) => ({ changeSeq: m.changeSeq, body: m.body, reactions: m.reactions, deletedAt: m.deletedAt });
      for (const list of seen.slice(1)) {
        list.forEach((m, i) => {
          if (m.changeSeq === seen[0]![i]!.changeSeq) expect(state(m)).toEqual(state(seen[0]![i]!));
        });
      }
      const states: Message[] = seen[0]!;
      expect(states.some((m) => m.body === big)).toBe(true);
      expect(states.some((m) => m.reactions.some((r) => r.emoji === '🎉' && r.userIds.includes(carol.user.id)))).toBe(true);
    }, 30_000);
  });
});
