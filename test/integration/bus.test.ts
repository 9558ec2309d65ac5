/**
 * The remote fan-out buses (PostgreSQL LISTEN/NOTIFY and Redis pub/sub), each between two
 * bus instances with connections of their own, as two server processes would have them:
 * delivery to both (the publisher included) in order, no plaintext on the wire, forged
 * payloads dropped, events too large for the wire sent as pointers and read back once per
 * instance, and a subscriber connection that is killed comes back by itself and says
 * `resync`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { BusEvent, FanOutEvent } from '../../src/server/platform/cluster/bus.js';
import { DEFAULT_CHANNEL, listenerName, NOTIFY_MAX_BYTES } from '../../src/server/platform/cluster/bus-postgres.js';
import { REDIS_MAX_BYTES, subscriberName } from '../../src/server/platform/cluster/bus-redis.js';
import { connectCluster, type Cluster } from '../../src/server/platform/cluster/connect.js';
import { openPayload } from '../../src/server/platform/cluster/bus-wire.js';
import { resolvingPointers } from '../../src/server/realtime/pointers.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { dropRedisPrefix, killRedisClient, redisForTests, uniqueRedisPrefix } from '../support/redis.js';

const redis = await redisForTests();
const BUS_KINDS = ['postgres', 'redis'] as const;
type BusKind = (typeof BUS_KINDS)[number];

const WAIT = { timeout: 5_000, interval: 10 };

/** A raw view of the wire: every payload as the database or Redis carries it. */
interface Wire {
  payloads: string[];
  /** Publishes a payload of our own, as anyone with access to the database or Redis could. */
  inject(payload: string): Promise<void>;
  close(): Promise<void>;
}

describe('choosing the bus', () => {
  it('validates REDIS_URL and REDIS_PREFIX, never repeating the URL (it may hold a password)', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'rediss://user:pw@cache.internal:6380/2' })).toMatchObject({
      redisUrl: 'rediss://user:pw@cache.internal:6380/2',
      redisPrefix: 'securechat',
    });
    for (const bad of ['http://cache.internal:6379', 'cache.internal:6379', 'redis://user:secret pw@cache.internal']) {
      expect(() => loadConfig({ REDIS_URL: bad })).toThrow(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
      try {
        loadConfig({ REDIS_URL: bad });
      } catch (error) {
        expect((error as Error).message).not.toContain(bad);
      }
    }
    expect(() => loadConfig({ REDIS_PREFIX: 'has space' })).toThrow(/^REDIS_PREFIX must be/);
  });

  it('is in-process on SQLite without REDIS_URL', async () => {
    const testDatabase = await createTestDatabase('sqlite');
    const database = openDatabase(testDatabase.target);
    try {
      const realtime = await connectCluster({ ...loadConfig({}), database: testDatabase.target }, { database, keyring: createKeyring(generateFernetKey()) });
      expect(realtime.kind).toBe('memory');
      await realtime.close();
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });

  it('refuses to start with a clear message when Redis cannot be reached', async () => {
    const testDatabase = await createTestDatabase('sqlite');
    const database = openDatabase(testDatabase.target);
    try {
      // Port 1 on loopback: nothing listens there.
      const config = { ...loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), database: testDatabase.target };
      await expect(connectCluster(config, { database, keyring: createKeyring(generateFernetKey()) })).rejects.toThrow(/^Cannot connect to Redis \(REDIS_URL\): /);
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });
});

describe.each(BUS_KINDS)('the %s bus', (kind: BusKind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'between two instances', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let config: Config;
    const open: Array<{ close(): Promise<void> }> = [];

    /** Messages the stub reader serves for pointers, by `roomId:seq`. */
    const stored = new Map<string, Message>();
    const roomIdsOf = new Map<string, string[]>();

    interface Node {
      realtime: Cluster;
      received: BusEvent[];
      loads: { messages: number; roomIds: number };
      warnings: string[];
    }

    async function node(): Promise<Node> {
      const database: DatabaseHandle = openDatabase(testDatabase.target);
      const warnings: string[] = [];
      const note = (_obj: unknown, msg?: string) => void warnings.push(String(msg ?? _obj));
      const log = { debug: () => undefined, info: () => undefined, warn: note, error: note };
      const realtime = await connectCluster(config, { database, keyring, log });
      open.push({ close: async () => (await realtime.close(), await database.close()) });
      const n: Node = { realtime, received: [], loads: { messages: 0, roomIds: 0 }, warnings };
      // Pointers are read back on the delivering side, as the gateway does.
      const reader = {
        async loadMessage(roomId: string, seq: number) {
          n.loads.messages += 1;
          return stored.get(`${roomId}:${seq}`);
        },
        async loadRoomIds(userId: string) {
          n.loads.roomIds += 1;
          return roomIdsOf.get(userId) ?? [];
        },
      };
      realtime.bus.subscribe(resolvingPointers(reader, (event) => n.received.push(event), log).receive);
      return n;
    }

    async function wire(): Promise<Wire> {
      const payloads: string[] = [];
      if (kind === 'postgres') {
        const client = new pg.Client({ connectionString: (testDatabase.target as { url: string }).url });
        await client.connect();
        client.on('notification', (n) => n.payload && payloads.push(n.payload));
        await client.query(`LISTEN ${DEFAULT_CHANNEL}`);
        const w = {
          payloads,
          inject: async (payload: string) => void (await client.query('select pg_notify($1, $2)', [DEFAULT_CHANNEL, payload])),
          close: () => client.end(),
        };
        open.push(w);
        return w;
      }
      const subscriber = new Redis(redis.url);
      const publisher = new Redis(redis.url);
      subscriber.on('message', (_channel: string, payload: string) => payloads.push(payload));
      await subscriber.subscribe(`${prefix}:events`);
      const w = {
        payloads,
        inject: async (payload: string) => void (await publisher.publish(`${prefix}:events`, payload)),
        close: async () => void (subscriber.disconnect(), publisher.disconnect()),
      };
      open.push(w);
      return w;
    }

    function message(body: string, seq = 1, roomId: string = randomUUID()): Message {
      return {
        id: randomUUID(),
        roomId,
        seq,
        sender: { id: randomUUID(), username: 'alice' },
        body,
        reactions: [],
        clientId: randomUUID(),
        mentions: [],
        attachments: [],
        createdAt: new Date().toISOString(),
      };
    }

    const fanOut = (events: BusEvent[]) => events.filter((event) => event.kind !== 'resync');

    beforeAll(async () => {
      if (kind === 'redis') redis.require();
      testDatabase = await createTestDatabase('postgres');
      const database = openDatabase(testDatabase.target);
      await migrateToLatest(database.db);
      await database.close();
      const env: Record<string, string> = kind === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: prefix } : {};
      config = { ...loadConfig({ LOG_LEVEL: 'silent', ...env }), database: testDatabase.target };
    });
    afterEach(async () => {
      for (const item of open.splice(0).reverse()) await item.close();
    });
    afterAll(async () => {
      await testDatabase?.drop();
      if (kind === 'redis' && !redis.unavailable) await dropRedisPrefix(redis.url, prefix);
    });

    it('is the bus the configuration asks for', async () => {
      const a = await node();
      expect(a.realtime.kind).toBe(kind);
    });

    it('delivers each event to both instances, the publisher included, once each and in publish order', async () => {
      const a = await node();
      const b = await node();
      const roomId = randomUUID();
      const events: FanOutEvent[] = [
        { kind: 'message', roomId, message: message('one', 1, roomId) },
        { kind: 'typing', roomId, userId: 'u1' },
        { kind: 'member', roomId, userId: 'u2', change: 'joined' },
        { kind: 'message', roomId, message: message('two', 2, roomId) },
        { kind: 'presence', userId: 'u2', online: true, roomIds: [roomId] },
        { kind: 'sessions-ended', userId: 'u2', sessionIds: ['s1'] },
        { kind: 'message', roomId, message: message('three', 3, roomId) },
      ];
      // Alternate publishers, each publish awaited: one global order.
      for (const [index, event] of events.entries()) await (index % 2 === 0 ? a : b).realtime.bus.publish(event);

      await vi.waitFor(() => expect(fanOut(a.received)).toHaveLength(events.length), WAIT);
      await vi.waitFor(() => expect(fanOut(b.received)).toHaveLength(events.length), WAIT);
      expect(fanOut(a.received)).toEqual(events);
      expect(fanOut(b.received)).toEqual(events);
      expect(a.received.filter((event) => event.kind === 'resync')).toEqual([]);
    });

    it('sends the events published in one turn together, as many per payload as fit, and delivers them all in order', async () => {
      const a = await node();
      const b = await node();
      const raw = await wire();
      const limit = kind === 'postgres' ? NOTIFY_MAX_BYTES : REDIS_MAX_BYTES;
      const roomId = randomUUID();
      // Enough ~1 KB messages to need several payloads on either transport.
      const count = Math.ceil((3 * limit) / 1000);
      const events: FanOutEvent[] = Array.from({ length: count }, (_, i) => ({
        kind: 'message',
        roomId,
        message: message(`${i}:${'x'.repeat(900)}`, i + 1, roomId),
      }));
      await Promise.all(events.map((event) => a.realtime.bus.publish(event)));

      for (const n of [a, b]) {
        await vi.waitFor(() => expect(fanOut(n.received)).toHaveLength(count), WAIT);
        expect(fanOut(n.received)).toEqual(events);
      }
      // The raw listener is a connection of its own and may hear the last payloads later.
      const eventsOnWire = () => raw.payloads.reduce((sum, payload) => sum + openPayload(keyring, payload).length, 0);
      await vi.waitFor(() => expect(eventsOnWire()).toBe(count), WAIT);
      const perPayload = raw.payloads.map((payload) => openPayload(keyring, payload).length);
      expect(perPayload.length).toBeGreaterThan(1);
      expect(perPayload.length).toBeLessThan(count / 2);
      for (const payload of raw.payloads) expect(payload.length).toBeLessThanOrEqual(limit);
    });

    it('puts no plaintext on the wire: each payload is a token that only the keyring opens', async () => {
      const a = await node();
      const b = await node();
      const raw = await wire();
      const secret = `the launch code is ${randomUUID()}`;
      const sent = message(secret);
      await a.realtime.bus.publish({ kind: 'message', roomId: sent.roomId, message: sent });
      await a.realtime.bus.publish({ kind: 'typing', roomId: sent.roomId, userId: sent.sender.id });

      await vi.waitFor(() => expect(raw.payloads).toHaveLength(2), WAIT);
      await vi.waitFor(() => expect(b.received).toHaveLength(2), WAIT);
      for (const payload of raw.payloads) {
        for (const plaintext of [secret, 'launch', sent.roomId, sent.sender.id, sent.id, 'alice', 'typing', 'message']) {
          expect(payload).not.toContain(plaintext);
        }
      }
      expect(openPayload(keyring, raw.payloads[0]!)).toEqual([{ kind: 'message', roomId: sent.roomId, message: sent }]);
      expect(() => openPayload(createKeyring(generateFernetKey()), raw.payloads[0]!)).toThrow();
    });

    it('drops payloads that do not open with its keyring: forged, or sealed under another key', async () => {
      const a = await node();
      const raw = await wire();
      const sent = message('genuine');
      const forged = { kind: 'message', roomId: sent.roomId, message: { ...sent, body: 'forged' } };
      const otherKey = createKeyring(generateFernetKey()).encrypt(JSON.stringify({ event: forged, sentAt: Date.now() }));
      await raw.inject(JSON.stringify(forged));
      await raw.inject(`1.${otherKey.keyId}.${otherKey.ciphertext}`);
      await raw.inject(`1.${keyring.primaryKeyId}.${otherKey.ciphertext}`);
      await a.realtime.bus.publish({ kind: 'message', roomId: sent.roomId, message: sent });

      await vi.waitFor(() => expect(a.received).toHaveLength(1), WAIT);
      expect(a.received).toEqual([{ kind: 'message', roomId: sent.roomId, message: sent }]);
      expect(a.warnings.filter((w) => /does not decrypt/.test(w))).toHaveLength(3);
    });

    it('sends a message too large for the wire as a pointer; each instance reads it once and delivers it whole', async () => {
      const a = await node();
      const b = await node();
      const raw = await wire();
      const limit = kind === 'postgres' ? NOTIFY_MAX_BYTES : REDIS_MAX_BYTES;
      // Multi-byte text: the limit is in bytes, and well past it once encrypted.
      const long = message('€'.repeat(Math.ceil(limit / 2)), 7);
      stored.set(`${long.roomId}:7`, long);
      const small = message('and a short one after it', 8, long.roomId);
      await a.realtime.bus.publish({ kind: 'message', roomId: long.roomId, message: long });
      await a.realtime.bus.publish({ kind: 'message', roomId: small.roomId, message: small });

      await vi.waitFor(() => expect(raw.payloads).toHaveLength(2), WAIT);
      expect(raw.payloads[0]!.length).toBeLessThanOrEqual(limit);
      expect(openPayload(keyring, raw.payloads[0]!)).toEqual([{ kind: 'message-ref', roomId: long.roomId, seq: 7 }]);
      expect(openPayload(keyring, raw.payloads[1]!).map((event) => event.kind)).toEqual(['message']);
      for (const n of [a, b]) {
        await vi.waitFor(() => expect(n.received).toHaveLength(2), WAIT);
        // Whole, and still before the message published after it.
        expect(n.received).toEqual([
          { kind: 'message', roomId: long.roomId, message: long },
          { kind: 'message', roomId: small.roomId, message: small },
        ]);
        expect(n.loads.messages).toBe(1);
      }
    });

    it('sends a presence event whose room list is too large for the wire as a pointer', async () => {
      const a = await node();
      const b = await node();
      const userId = randomUUID();
      const roomIds = Array.from({ length: 2_000 }, () => randomUUID());
      roomIdsOf.set(userId, roomIds);
      await a.realtime.bus.publish({ kind: 'presence', userId, online: false, roomIds });
      for (const n of [a, b]) {
        await vi.waitFor(() => expect(n.received).toHaveLength(1), WAIT);
        expect(n.received[0]).toEqual({ kind: 'presence', userId, online: false, roomIds });
        expect(n.loads.roomIds).toBe(1);
      }
    });

    it('reconnects by itself after its subscriber connection is killed, emits resync, then receives again', async () => {
      const a = await node();
      const b = await node();
      await b.realtime.bus.publish({ kind: 'typing', roomId: 'r', userId: 'before' });
      await vi.waitFor(() => expect(a.received).toHaveLength(1), WAIT);

      if (kind === 'postgres') {
        const admin = new pg.Client({ connectionString: (testDatabase.target as { url: string }).url });
        await admin.connect();
        try {
          const killed = await admin.query(
            'select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = current_database() and application_name = $1',
            [listenerName(a.realtime.instanceId)],
          );
          expect(killed.rows).toEqual([{ killed: true }]);
        } finally {
          await admin.end();
        }
      } else {
        expect(await killRedisClient(redis.url, subscriberName(prefix, a.realtime.instanceId))).toBe(1);
      }

      await vi.waitFor(() => expect(a.received.map((event) => event.kind)).toContain('resync'), WAIT);
      expect(b.received.filter((event) => event.kind === 'resync')).toEqual([]);
      await b.realtime.bus.publish({ kind: 'typing', roomId: 'r', userId: 'after' });
      await vi.waitFor(() => expect(a.received.at(-1)).toEqual({ kind: 'typing', roomId: 'r', userId: 'after' }), WAIT);
      expect(a.warnings.some((w) => /lost the (LISTEN|Redis) connection/.test(w))).toBe(true);
    });
  });
});
