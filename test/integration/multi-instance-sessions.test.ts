/**
 * Sessions end on every instance: two instances of the real app on ONE PostgreSQL
 * database, fanning out over LISTEN/NOTIFY and over Redis. A session ended on one
 * instance (logout, "end session", a password change) closes its sockets on the other,
 * and a frame its client sends there afterwards, ignoring the close frame, is not stored.
 * Typing is throttled per user and room across the user's sockets on both instances.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Room } from '../../src/shared/protocol.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics, type Metrics } from '../../src/server/http/metrics.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { connectCluster } from '../../src/server/platform/cluster/connect.js';
import { as, listenOnLoopback, logIn, prepareDatabase, signUp, TEST_PASSWORD, testServices, type Session } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { BUS_KINDS, clusterConfig } from '../support/cluster-config.js';
import { isMessage, isPong, isTyping } from '../support/frames.js';
import { parsePrometheus, value } from '../support/prometheus.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { connectWs, ignoreCloseFrame, type WsClient } from '../support/ws-client.js';

const redis = await redisForTests();
const SESSION_SECRET = 'multi-instance-session-secret-0123456789abcdef';
const WAIT = { timeout: 5_000, interval: 20 };

interface Instance {
  app: FastifyInstance;
  base: string;
  metrics: Metrics;
  close(): Promise<void>;
}

describe.each(BUS_KINDS)('sessions ended across two instances on the %s bus', (kind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let inspect: DatabaseHandle;
    let config: Config;
    let a: Instance;
    let b: Instance;
    const open: WsClient[] = [];

    async function startInstance(): Promise<Instance> {
      const database = openDatabase(testDatabase.target);
      const log = createLogger(config);
      const metrics = createMetrics({ poolStats: database.poolStats });
      const cluster = await connectCluster(config, { database, keyring, log, observeLag: metrics.busReceived });
      const app = await buildApp(testServices({ config, database, keyring, bus: cluster.bus, presence: cluster.presence, sessionSecret: SESSION_SECRET, log, metrics }));
      const base = await listenOnLoopback(app);
      return {
        app,
        base,
        metrics,
        async close() {
          await app.close();
          await cluster.close();
          await database.close();
        },
      };
    }

    beforeAll(async () => {
      if (kind === 'redis') redis.require();
      testDatabase = await createTestDatabase('postgres');
      inspect = openDatabase(testDatabase.target);
      await prepareDatabase(inspect, keyring);
      config = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
      a = await startInstance();
      b = await startInstance();
    });

    afterAll(async () => {
      await Promise.all(open.map((client) => client.close()));
      await a?.close();
      await b?.close();
      await inspect?.close();
      await testDatabase?.drop();
      if (kind === 'redis' && !redis.unavailable) await dropRedisPrefix(redis.url, prefix);
    });

    async function connect(instance: Instance, session: Session): Promise<WsClient> {
      const client = await connectWs(instance.base, { cookie: session.cookie });
      open.push(client);
      return client;
    }
    async function createRoom(owner: Session): Promise<Room> {
      const response = await a.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(owner), payload: { name: `Room ${randomUUID().slice(0, 8)}` } });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().room as Room;
    }
    const refusedOn = (instance: Instance) => {
      const families = parsePrometheus(instance.metrics.render());
      return families.has('securechat_websocket_frames_refused_total') ? value(families, 'securechat_websocket_frames_refused_total') : 0;
    };
    const storedClientIds = async (roomId: string) =>
      (await inspect.db.selectFrom('messages').select('client_id').where('room_id', '=', roomId).execute()).map((row) => row.client_id);

    const endings: Array<[string, (ended: Session, other: Session) => Promise<number>]> = [
      ['logout', async (ended) => (await b.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(ended) })).statusCode],
      [
        '"end session" from another device',
        async (ended, other) => {
          const list = await b.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: ended.cookie } });
          const id = (list.json() as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;
          return (await b.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${id}`, headers: as(other) })).statusCode;
        },
      ],
      [
        'a password change on another device',
        async (_ended, other) =>
          (
            await b.app.inject({
              method: 'POST',
              url: '/api/v1/auth/password',
              headers: as(other),
              payload: { currentPassword: TEST_PASSWORD, newPassword: `${TEST_PASSWORD} ${randomUUID()}` },
            })
          ).statusCode,
      ],
    ];

    it.each(endings)('a session ended by %s on one instance closes its sockets on the other, and stores nothing they send afterwards', async (_name, endSession) => {
      const alice = await signUp(a.app);
      const phone = await logIn(b.app, alice.user.username, TEST_PASSWORD);
      const room = await createRoom(phone);
      const polite = await connect(a, alice);
      const hostile = await connect(a, alice);
      ignoreCloseFrame(hostile);
      const phoneSocket = await connect(a, phone);
      const refusedBefore = refusedOn(a);

      expect(await endSession(alice, phone)).toBe(204);
      // Instance A heard of it over the bus: the socket that answers close frames is closed.
      expect((await polite.waitForClose()).code).toBe(4401);
      const clientId = randomUUID();
      hostile.send({ type: 'send', roomId: room.id, body: 'sent after the end', clientId });
      await vi.waitFor(async () => {
        const stored = (await storedClientIds(room.id)).includes(clientId);
        expect(stored || refusedOn(a) > refusedBefore).toBe(true);
      }, WAIT);
      expect(await storedClientIds(room.id)).not.toContain(clientId);
      expect((await hostile.waitForClose()).code).toBe(4401);
      // The phone's session lives on.
      phoneSocket.send({ type: 'ping' });
      await phoneSocket.waitFor(isPong);
    });

    it('throttles typing per user and room across the user’s sockets on both instances', async () => {
      const alice = await signUp(a.app);
      const bob = await signUp(b.app);
      const room = await createRoom(alice);
      expect((await b.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/join`, headers: as(bob) })).statusCode).toBe(200);
      const onA = await connect(a, alice);
      const onB = await connect(b, alice);
      const watcher = await connect(b, bob);
      onA.send({ type: 'typing', roomId: room.id });
      // B has heard A's typing event once bob, on B, has it.
      await watcher.waitFor(isTyping(room.id));
      onB.send({ type: 'typing', roomId: room.id });
      onB.send({ type: 'ping' });
      await onB.waitFor(isPong);
      const marker = await a.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/messages`, headers: as(alice), payload: { body: 'barrier', clientId: randomUUID() } });
      await watcher.waitFor(isMessage(room.id, (m) => m.id === marker.json().message.id));
      expect(watcher.received(isTyping(room.id))).toHaveLength(1);
    });
  });
});
