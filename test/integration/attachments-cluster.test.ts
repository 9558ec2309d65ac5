/**
 * Attachments across two instances on one PostgreSQL database (files in the database
 * storage, which both share), over the PostgreSQL and the Redis bus: a message with files
 * sent on A reaches B's sockets with them — also when it is too large for a NOTIFY and
 * travels as a pointer that B reads back — and an edit made on B keeps them on A, a
 * delete on B releases them and A's sockets get the tombstone without files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { prepareDatabase, signUp, TestClock } from '../support/app.js';
import { BUS_KINDS, clusterConfig, type BusKind } from '../support/cluster-config.js';
import { startClusterInstances, type ClusterInstance } from '../support/cluster-instances.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createInvite, createRoom, readPage } from '../support/factories.js';
import { fileRow, storedUpload } from '../support/stored-uploads.js';
import type { Frame } from '../support/frames.js';
import { httpClient } from '../support/http.js';
import { messageChanges } from '../support/message-changes.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { closedAfterEach, connectWs } from '../support/ws-client.js';

const redis = await redisForTests();
const SESSION_SECRET = 'attachments-cluster-secret-0123456789abcdef';

describe.each(BUS_KINDS)('attachments across two instances on the %s bus', (kind: BusKind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const clock = new TestClock();
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let config: Config;
    let inspect: DatabaseHandle;
    const instances: ClusterInstance[] = [];
    const sockets = closedAfterEach();

    beforeAll(async () => {
      testDatabase = await createTestDatabase('postgres');
      const base = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
      // Long enough that a message does not fit a NOTIFY (8000 bytes): it goes as a pointer.
      config = { ...base, messageMaxLength: 20_000, files: { ...base.files, storage: 'database' } };
      inspect = openDatabase(testDatabase.target);
      await prepareDatabase(inspect, keyring);
      instances.push(...(await startClusterInstances(2, config, keyring, SESSION_SECRET)));
    }, 30_000);

    afterAll(async () => {
      for (const instance of instances) await instance.close();
      await inspect?.close();
      if (kind === 'redis') await dropRedisPrefix(redis.url, prefix);
      await testDatabase?.drop();
    });

    it('delivers a message’s files to the other instance, inline and as a pointer, and keeps them through an edit until a delete', async () => {
      const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
      const alice = await signUp(a.app);
      const bob = await signUp(b.app);
      const room = await createRoom(a.app, alice, { isPrivate: true });
      const invite = await createInvite(a.app, alice, room.id);
      expect((await httpClient(b.app).request('POST', `/api/v1/invites/${invite.code}/accept`, { session: bob })).status).toBe(200);
      const [aliceOnA, bobOnB] = [await connectWs(a.base, { cookie: alice.cookie }), await connectWs(b.base, { cookie: bob.cookie })];
      sockets.push(aliceOnA, bobOnB);
      const files = { database: inspect, keyring, config, clock };
      const upload = (name: string) => storedUpload(files, { roomId: room.id, uploaderId: alice.user.id, name, mime: 'image/png', width: 4, height: 3 });
      const sendOnA = async (body: string, attachments: string[]) => {
        const answer = await httpClient(a.app).request('POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body, clientId: `c-${body.length}-${attachments[0]}`, attachments } });
        expect(answer.status, answer.text).toBe(201);
        return answer.body.message as Message;
      };
      const arrivesOnB = (seq: number) => bobOnB.waitFor<Frame<'message'>>((f) => f.type === 'message' && f.message.seq === seq, { timeoutMs: 8_000 });

      const small = [await upload('one.png'), await upload('two.png')];
      const inline = await sendOnA('with two files', small.map((f) => f.id));
      expect((await arrivesOnB(inline.seq)).message).toEqual(inline);
      expect(inline.attachments).toEqual(small);

      // Ten files with long names and a long body: more than a NOTIFY carries.
      const many = [];
      for (let i = 0; i < 10; i += 1) many.push(await upload(`${String(i).padStart(2, '0')}-${'n'.repeat(190)}.png`));
      const big = await sendOnA(`big ${'x'.repeat(6_000)}`, many.map((f) => f.id));
      const bigOnB = (await arrivesOnB(big.seq)).message;
      expect(bigOnB).toEqual(big);
      expect(bigOnB.attachments.map((f) => f.name)).toEqual(many.map((f) => f.name));
      expect((await readPage(b.app, bob, room.id)).messages.map((m) => m.attachments.length)).toEqual([2, 10]);

      const isUpdate = (seq: number, where: (m: Message) => boolean) => (f: { type: string }) =>
        f.type === 'message_updated' && (f as Frame<'message_updated'>).message.seq === seq && where((f as Frame<'message_updated'>).message);
      await messageChanges(b.app).edited(alice, room.id, big.seq, `edited on B ${'y'.repeat(6_000)}`);
      const edited = await aliceOnA.waitFor<Frame<'message_updated'>>(isUpdate(big.seq, (m) => m.editedAt !== undefined), { timeoutMs: 8_000 });
      expect(edited.message.attachments).toEqual(big.attachments);

      expect((await messageChanges(b.app).remove(alice, room.id, big.seq)).status).toBe(204);
      const tombstone = await aliceOnA.waitFor<Frame<'message_updated'>>(isUpdate(big.seq, (m) => m.deletedAt !== undefined), { timeoutMs: 8_000 });
      expect(tombstone.message.attachments).toEqual([]);
      // Released with the delete, then purged (row and bytes) after its commit.
      for (const file of many) await expect.poll(() => fileRow({ database: inspect }, file.id)).toBeUndefined();
      expect(await fileRow({ database: inspect }, small[0]!.id)).toEqual({ state: 'stored', message_seq: inline.seq });
    }, 30_000);
  });
});
