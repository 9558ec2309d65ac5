/**
 * Scale-out: three instances of the real app on ONE PostgreSQL database, each with its
 * own pool and bus connections, as three processes behind a load balancer would be — once
 * fanning out over LISTEN/NOTIFY, once over Redis. The members of a room sit on different
 * instances; every message reaches every member exactly once and in order; presence is
 * shared (online while a socket is open anywhere, one announcement per transition, a dead
 * instance's users go offline when its entries expire); and when an instance dies while
 * messages flow, its clients reconnect elsewhere, catch up with `after=`, and end with
 * every message exactly once, in order.
 *
 * The test clients behave like the browser client: they keep a timeline keyed by seq,
 * take the frames of every socket they opened, and fill gaps from `GET …?after=`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Member, Message, MessagePage, Room } from '../../src/shared/protocol.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { connectCluster, type PresenceTiming, type Cluster } from '../../src/server/platform/cluster/connect.js';
import type { PresenceStore } from '../../src/server/platform/cluster/presence.js';
import { createPostgresPresenceStore } from '../../src/server/platform/cluster/presence-postgres.js';
import { createRedisPresenceStore } from '../../src/server/platform/cluster/presence-redis.js';
import { as, listenOnLoopback, prepareDatabase, signUp, testServices, type Session } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { BUS_KINDS, clusterConfig, type BusKind } from '../support/cluster-config.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { connectWs, sendWs as sendOverWs, type WsClient } from '../support/ws-client.js';
import { isHello, isMessage, isMessageId, isPong, isPresence, type Frame } from '../support/frames.js';

const redis = await redisForTests();

/** Short, so a dead instance's users go offline within the test's patience. */
const TIMING: PresenceTiming = { heartbeatMs: 100, ttlMs: 1_000 };
const SESSION_SECRET = 'multi-instance-session-secret-0123456789abcdef';
const WAIT = { timeout: 8_000, interval: 20 };

interface Instance {
  name: string;
  app: FastifyInstance;
  base: string;
  realtime: Cluster;
  close(): Promise<void>;
  /** Dies abruptly: sockets and connections cut without a goodbye, then the rest stopped. */
  kill(): Promise<void>;
}

describe.each(BUS_KINDS)('three instances on the %s bus', (kind: BusKind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let inspect: DatabaseHandle;
    let config: Config;
    const instances = new Map<string, Instance>();
    const extraClosers: Array<() => Promise<unknown>> = [];

    let roomId: string;
    let generalId: string;
    /** What was committed in the room, by seq: the truth every member must end with. */
    const sent = new Map<number, Message>();

    async function startInstance(name: string): Promise<Instance> {
      const database = openDatabase(testDatabase.target);
      const log = createLogger(config);
      const metrics = createMetrics({ poolStats: database.poolStats });
      const realtime = await connectCluster(config, { database, keyring, presenceTiming: TIMING, log, observeLag: metrics.busReceived });
      const app = await buildApp(
        testServices({ config, database, keyring, bus: realtime.bus, presence: realtime.presence, sessionSecret: SESSION_SECRET, log, metrics }),
      );
      const base = await listenOnLoopback(app);
      let closing: Promise<void> | undefined;
      const close = () =>
        (closing ??= (async () => {
          await app.close();
          await realtime.close();
          await database.close();
        })());
      const instance: Instance = {
        name,
        app,
        base,
        realtime,
        close,
        async kill() {
          for (const socket of app.websocketServer.clients) socket.terminate();
          app.server.closeAllConnections();
          await close();
        },
      };
      instances.set(name, instance);
      return instance;
    }
    const at = (name: string) => instances.get(name)!;

    /** A person with the browser client's bookkeeping: a timeline by seq over all their sockets. */
    class Person {
      readonly sockets: WsClient[] = [];
      /** Messages fetched over HTTP (catch-up), by seq. */
      readonly fetched = new Map<number, Message>();
      constructor(
        readonly name: string,
        readonly session: Session,
      ) {}

      get socket(): WsClient {
        return this.sockets.at(-1)!;
      }

      /** Opens a socket on the instance; after hello, fetches `after=` what the timeline lacks, as the client does. */
      async connect(instance: Instance): Promise<WsClient> {
        const socket = await connectWs(instance.base, { cookie: this.session.cookie });
        this.sockets.push(socket);
        // Messages may be pushed before hello (the socket subscribes before it reads the seqs).
        const hello = socket.frames.find(isHello) as Frame<'hello'>;
        const lastSeq = hello.rooms.find((room) => room.id === roomId)?.lastSeq ?? 0;
        // Frames already pushed on the new socket may be ahead of a hole: fill from the hole.
        const held = this.contiguous();
        if (lastSeq > held) await this.catchUp(instance, held);
        return socket;
      }

      async catchUp(instance: Instance, after: number): Promise<void> {
        for (let page: MessagePage | undefined; !page || page.hasMore; ) {
          const response = await instance.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?after=${after}`, headers: as(this.session) });
          expect(response.statusCode, response.body).toBe(200);
          page = response.json() as MessagePage;
          for (const message of page.messages) this.fetched.set(message.seq, message);
          after = page.messages.at(-1)?.seq ?? after;
        }
      }

      /** Message frames of the room on one socket, in arrival order. */
      framesOn(socket: WsClient): Message[] {
        return (socket.received(isMessage(roomId)) as Array<Frame<'message'>>).map((f) => f.message);
      }

      /** The highest seq up to which nothing is missing. */
      contiguous(): number {
        const timeline = this.timeline();
        let seq = 0;
        while (timeline.has(seq + 1)) seq += 1;
        return seq;
      }

      /** Everything held, merged by seq as the client does (a seq seen twice must be the same message). */
      timeline(): Map<number, Message> {
        const bySeq = new Map<number, Message>();
        for (const message of [...this.fetched.values(), ...this.sockets.flatMap((socket) => this.framesOn(socket))]) {
          const held = bySeq.get(message.seq);
          if (held && held.id !== message.id) throw new Error(`${this.name}: two messages with seq ${message.seq}`);
          bySeq.set(message.seq, message);
        }
        return bySeq;
      }
    }

    const people: Person[] = [];
    let alice: Person, bob: Person, carol: Person, dave: Person;

    async function person(name: string, via: Instance): Promise<Person> {
      const p = new Person(name, await signUp(via.app));
      people.push(p);
      return p;
    }

    async function post(instance: Instance, who: Person, url: string, payload?: object) {
      return instance.app.inject({ method: 'POST', url, headers: as(who.session), ...(payload ? { payload } : {}) });
    }

    async function sendHttp(instance: Instance, who: Person, body: string, room = roomId): Promise<Message> {
      const response = await post(instance, who, `/api/v1/rooms/${room}/messages`, { body, clientId: randomUUID() });
      expect(response.statusCode, response.body).toBe(201);
      const message = response.json().message as Message;
      if (room === roomId) sent.set(message.seq, message);
      return message;
    }

    async function sendWs(who: Person, body: string): Promise<Message> {
      const message = await sendOverWs(who.socket, roomId, body);
      sent.set(message.seq, message);
      return message;
    }

    async function members(instance: Instance, who: Person, room: string): Promise<Member[]> {
      const response = await instance.app.inject({ method: 'GET', url: `/api/v1/rooms/${room}/members`, headers: as(who.session) });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as Member[];
    }
    const onlineVia = async (instance: Instance, who: Person, subject: Person) =>
      (await members(instance, who, generalId)).find((m) => m.user.id === subject.session.user.id)?.online;

    /**
     * A message in General from alice, awaited on the given sockets: whatever the bus
     * delivered to them before it has arrived by then.
     */
    async function barrier(...sockets: WsClient[]): Promise<void> {
      const marker = await sendHttp(at('A'), alice, `barrier ${randomUUID()}`, generalId);
      await Promise.all(sockets.map((socket) => socket.waitFor(isMessageId(marker.id), { timeoutMs: 5_000 })));
    }

    /** The instances holding a user in the shared presence store. */
    async function presenceHolders(userId: string): Promise<string[]> {
      if (kind === 'postgres') {
        const rows = await inspect.db.selectFrom('presence').select('instance_id').where('user_id', '=', userId).execute();
        return rows.map((row) => row.instance_id).sort();
      }
      const client = new Redis(redis.url);
      try {
        return (await client.smembers(`${prefix}:presence:user:${userId}`)).sort();
      } finally {
        client.disconnect();
      }
    }

    /** A presence store of an instance that will never heartbeat: it crashed. */
    function deadInstanceStore(): PresenceStore {
      const instanceId = `dead-${randomUUID()}`;
      if (kind === 'postgres') return createPostgresPresenceStore({ db: inspect.db, instanceId, ttlMs: TIMING.ttlMs });
      const client = new Redis(redis.url);
      extraClosers.push(async () => client.disconnect());
      return createRedisPresenceStore({ redis: client, prefix, instanceId, ttlMs: TIMING.ttlMs });
    }

    /** Every message committed so far, each exactly once and in seq order, for each person. */
    function expectEveryoneHasEverything(): void {
      const expected = [...sent.keys()].sort((a, b) => a - b);
      expect(expected).toEqual(Array.from({ length: expected.length }, (_, i) => i + 1));
      for (const p of people.filter((q) => [alice, bob, carol, dave].includes(q))) {
        const timeline = p.timeline();
        expect([...timeline.keys()].sort((a, b) => a - b), p.name).toEqual(expected);
        for (const seq of expected) expect(timeline.get(seq), `${p.name} seq ${seq}`).toEqual(sent.get(seq));
        // No socket got a message twice or out of order.
        for (const socket of p.sockets) {
          const seqs = p.framesOn(socket).map((m) => m.seq);
          expect(seqs, `${p.name}: frames in order, once`).toEqual([...seqs].sort((a, b) => a - b).filter((s, i, all) => all.indexOf(s) === i));
        }
      }
    }

    async function everyoneHas(seq: number, who: Person[] = [alice, bob, carol, dave]): Promise<void> {
      await vi.waitFor(() => {
        for (const p of who) expect(p.timeline().has(seq), `${p.name} has seq ${seq}`).toBe(true);
      }, WAIT);
    }

    beforeAll(async () => {
      if (kind === 'redis') redis.require();
      testDatabase = await createTestDatabase('postgres');
      inspect = openDatabase(testDatabase.target);
      await prepareDatabase(inspect, keyring);
      config = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
      for (const name of ['A', 'B', 'C']) await startInstance(name);
      expect(at('A').realtime.kind).toBe(kind);

      alice = await person('alice', at('A'));

      bob = await person('bob', at('B'));
      carol = await person('carol', at('C'));
      dave = await person('dave', at('A'));
      const created = await post(at('A'), alice, '/api/v1/rooms', { name: `Scale ${randomUUID().slice(0, 8)}` });
      expect(created.statusCode, created.body).toBe(201);
      roomId = (created.json().room as Room).id;
      for (const [who, via] of [[bob, 'B'], [carol, 'C'], [dave, 'A']] as const) {
        expect((await post(at(via), who, `/api/v1/rooms/${roomId}/join`)).statusCode).toBe(200);
      }
      const rooms = (await at('A').app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(alice.session) })).json() as Room[];
      generalId = rooms.find((room) => room.name === 'General')!.id;
    });

    afterAll(async () => {
      for (const p of people) await Promise.all(p.sockets.map((socket) => socket.close()));
      for (const instance of instances.values()) await instance.close();
      for (const close of extraClosers) await close();
      await inspect?.close();
      await testDatabase?.drop();
      if (kind === 'redis' && !redis.unavailable) await dropRedisPrefix(redis.url, prefix);
    });

    it('delivers every message to every member exactly once and in order, whichever instance took it', async () => {
      await alice.connect(at('A'));
      await bob.connect(at('B'));
      await carol.connect(at('C'));
      await dave.connect(at('C'));
      const aliceOnB = await alice.connect(at('B')); // the same person on a second instance

      // Senders rotate over instances and paths (socket or HTTP, on the socket's instance
      // or another); each send awaited, so there is one order to keep.
      const senders: Array<(body: string) => Promise<Message>> = [
        (body) => sendWs(alice, body),
        (body) => sendHttp(at('B'), bob, body),
        (body) => sendWs(carol, body),
        (body) => sendHttp(at('A'), dave, body),
        (body) => sendHttp(at('C'), alice, body),
      ];
      for (let i = 1; i <= 24; i += 1) await senders[i % senders.length]!(`message ${i}`);
      // Too large for a NOTIFY once encrypted: it crosses as a pointer and arrives whole.
      const long = await sendHttp(at('B'), bob, '€'.repeat(3_000));
      const last = await sendWs(carol, 'after the long one');

      await vi.waitFor(() => {
        for (const p of [alice, bob, carol, dave]) for (const socket of p.sockets) expect(p.framesOn(socket).at(-1)?.seq).toBe(last.seq);
      }, WAIT);
      expect(alice.sockets).toContain(aliceOnB);
      expectEveryoneHasEverything();
      for (const p of [alice, bob, carol, dave]) {
        // Live, not fetched: every socket got every message pushed.
        expect(p.fetched.size).toBe(0);
        for (const socket of p.sockets) expect(p.framesOn(socket).map((m) => m.seq)).toEqual([...sent.keys()]);
        expect(p.timeline().get(long.seq)?.body).toBe('€'.repeat(3_000));
      }
    });

    it('shares presence: online while a socket is open on any instance, announced once per transition', async () => {
      const eve = await person('eve', at('B'));
      const watcher = alice.sockets[0]!;
      expect(await onlineVia(at('A'), alice, eve)).toBe(false);

      // Two sockets at once, on two instances: one "online".
      const [onB, onC] = await Promise.all([connectWs(at('B').base, { cookie: eve.session.cookie }), connectWs(at('C').base, { cookie: eve.session.cookie })]);
      eve.sockets.push(onB, onC);
      // Frames are handled after set-up: a pong means its presence work is done.
      for (const socket of [onB, onC]) {
        socket.send({ type: 'ping' });
        await socket.waitFor(isPong);
      }
      await watcher.waitFor(isPresence(eve.session.user.id, true));
      for (const via of ['A', 'B', 'C']) expect(await onlineVia(at(via), bob, eve)).toBe(true);
      await barrier(watcher);
      expect(watcher.received(isPresence(eve.session.user.id))).toHaveLength(1);

      // The socket on B closes: still online through C, and nobody is told otherwise.
      await onB.close();
      await vi.waitFor(async () => expect(await presenceHolders(eve.session.user.id)).toHaveLength(1), WAIT);
      await barrier(watcher);
      expect(watcher.received(isPresence(eve.session.user.id))).toHaveLength(1);
      expect(await onlineVia(at('B'), alice, eve)).toBe(true);

      // The last one closes (on C): offline everywhere, announced once.
      await onC.close();
      await watcher.waitFor(isPresence(eve.session.user.id, false));
      await barrier(watcher);
      expect(watcher.received(isPresence(eve.session.user.id)).map((f) => (f as Frame<'presence'>).online)).toEqual([true, false]);
      for (const via of ['A', 'B', 'C']) expect(await onlineVia(at(via), bob, eve)).toBe(false);
      expect(await presenceHolders(eve.session.user.id)).toEqual([]);
    });

    it('takes the users of an instance that died without a word offline once its entries expire', async () => {
      const frank = await person('frank', at('C'));
      const watcher = alice.sockets[0]!;
      const dead = deadInstanceStore();
      expect(await dead.add(frank.session.user.id)).toBe(true);
      expect(await onlineVia(at('A'), alice, frank)).toBe(true);

      // The dead instance never heartbeats: a live one sweeps its entries and says so, once.
      await watcher.waitFor(isPresence(frank.session.user.id, false), { timeoutMs: TIMING.ttlMs * 5 });
      expect(await onlineVia(at('B'), alice, frank)).toBe(false);
      await barrier(watcher);
      expect(watcher.received(isPresence(frank.session.user.id))).toHaveLength(1);
    });

    it('when an instance dies while messages flow, its clients reconnect elsewhere and end with every message once, in order', async () => {
      const before = Math.max(...sent.keys());
      // Carol and dave are on C. Alice (socket, A) and bob (HTTP, B) keep sending. Their
      // sockets drop when C dies; they come back (to A and B) a few messages later.
      let backOff!: () => void;
      const reconnectTime = new Promise<void>((resolve) => (backOff = resolve));
      const carolBack = Promise.all([carol.socket.closed, reconnectTime]).then(() => carol.connect(at('A')));
      const daveBack = Promise.all([dave.socket.closed, reconnectTime]).then(() => dave.connect(at('B')));
      let killed: Promise<void> | undefined;
      for (let i = 1; i <= 30; i += 1) {
        if (i === 8) killed = at('C').kill();
        if (i === 12) backOff();
        if (i % 2 === 0) await sendWs(alice, `during ${i}`);
        else await sendHttp(at('B'), bob, `during ${i}`);
      }
      await killed;
      await Promise.all([carolBack, daveBack]);
      const last = Math.max(...sent.keys());
      expect(last).toBe(before + 30);
      await everyoneHas(last);
      expectEveryoneHasEverything();
      // They did miss some live: the catch-up filled it.
      expect(carol.fetched.size + dave.fetched.size).toBeGreaterThan(0);

      // C comes back (a new process); dave moves to it and the room goes on.
      const restarted = await startInstance('C2');
      await dave.socket.close();
      await dave.connect(restarted);
      const after = await sendWs(carol, 'after the restart');
      await everyoneHas(after.seq);
      expectEveryoneHasEverything();
    });
  });
});
