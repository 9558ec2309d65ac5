/**
 * Room management across two instances on one PostgreSQL database (LISTEN/NOTIFY and Redis
 * buses): a member added on A has their socket on B subscribed at once, with the timeline
 * event; a room deleted on A is announced to its members' sockets on B.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/shared/protocol.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { connectCluster } from '../../src/server/platform/cluster/connect.js';
import { as, listenOnLoopback, prepareDatabase, signUp, testServices, type Session } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { BUS_KINDS, clusterConfig } from '../support/cluster-config.js';
import { isMember, isMessage, type Frame } from '../support/frames.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { connectWs, type WsClient } from '../support/ws-client.js';

const redis = await redisForTests();
const SESSION_SECRET = 'multi-instance-session-secret-0123456789abcdef';

interface Instance {
  app: FastifyInstance;
  base: string;
  close(): Promise<void>;
}

describe.each(BUS_KINDS)('room management across two instances on the %s bus', (kind) => {
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
    const call = (instance: Instance, session: Session, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      instance.app.inject({ method, url: `/api/v1${url}`, headers: as(session), ...(payload ? { payload } : {}) });

    it('subscribes a member added on A on their socket on B, and deletes the room for B’s sockets too', async () => {
      const owner = await signUp(a.app);
      const guest = await signUp(a.app);
      const created = await call(a, owner, 'POST', '/rooms', { name: `Managed ${Date.now()}`, isPrivate: true });
      const room = created.json().room as Room;
      const socket = await connect(b, guest);

      expect((await call(a, owner, 'POST', `/rooms/${room.id}/members`, { username: guest.user.username })).statusCode).toBe(201);
      const joined = await socket.waitFor<Frame<'member'>>(isMember(room.id, guest.user.id, 'joined'));
      expect(joined.event).toMatchObject({ change: 'joined', actor: { id: owner.user.id } });
      // Subscribed: a message sent on A now reaches the guest's socket on B.
      const sent = await call(a, owner, 'POST', `/rooms/${room.id}/messages`, { body: 'welcome aboard', clientId: 'welcome' });
      expect(sent.statusCode).toBe(201);
      await socket.waitFor(isMessage(room.id));

      expect((await call(a, owner, 'DELETE', `/rooms/${room.id}`)).statusCode).toBe(204);
      await socket.waitFor((f) => f.type === 'room_deleted' && f.roomId === room.id);
      expect(await inspect.db.selectFrom('messages').select('id').where('room_id', '=', room.id).execute()).toEqual([]);
    });
  });
});
