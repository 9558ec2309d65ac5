/**
 * Direct messages and the people search (the Direct messages part of api.md), on SQLite
 * and PostgreSQL: one set of people has one DM (whatever the order, however many create it
 * at once), bad lists are refused with a clear message and change nothing, a DM is
 * invisible to everyone outside it on every path (HTTP, socket), has no invites or
 * moderation, and its members hear of it at once over the socket (`dm` frame) — across
 * instances too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room, ServerFrame, UserRef } from '../../src/shared/protocol.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import type { Config } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import { connectCluster } from '../../src/server/platform/cluster/connect.js';
import { apiClient, as, listenOnLoopback, prepareDatabase, signUp, testServices, uniqueName, useTestApp, type Session } from '../support/app.js';
import { BUS_KINDS, clusterConfig } from '../support/cluster-config.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { isMessage, isMessageId, mentions, type Frame } from '../support/frames.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { closedAfterEach, connectWs, sendWs } from '../support/ws-client.js';

const isDm = (roomId?: string) => (f: ServerFrame): f is Frame<'dm'> => f.type === 'dm' && (roomId === undefined || f.room.id === roomId);

describe.each(DIALECTS)('direct messages on %s', (dialect) => {
  const t = useTestApp(dialect);
  const { get, post, createRoom, send } = apiClient(() => t.app);
  const sockets = closedAfterEach();
  let base: string;

  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  const openDm = (session: Session, userIds: unknown) => post(session, '/api/v1/dms', { userIds });
  async function dmOf(session: Session, others: Session[]): Promise<Room> {
    const response = await openDm(session, others.map((o) => o.user.id));
    expect([200, 201], response.body).toContain(response.statusCode);
    return (response.json() as { room: Room }).room;
  }
  const countRooms = async () => Number((await t.database.db.selectFrom('rooms').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const myRooms = async (session: Session) => (await get(session, '/api/v1/rooms')).json() as Room[];
  const connect = async (session: Session) => {
    const client = await connectWs(base, { cookie: session.cookie });
    sockets.push(client);
    return client;
  };

  describe('the people search (GET /users?q=)', () => {
    it('finds users by username prefix, case-insensitively, in name order, with only id and username', async () => {
      const tag = `ps${randomUUID().slice(0, 6)}`;
      const carol = await signUp(t.app, `${tag}_Carol`);
      const cara = await signUp(t.app, `${tag}_cara`);
      await signUp(t.app, `x${tag}_carl`); // the prefix in the middle: no match
      const response = await get(carol, `/api/v1/users?q=${tag.toUpperCase()}_CAR`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        users: [
          { id: cara.user.id, username: cara.user.username },
          { id: carol.user.id, username: carol.user.username },
        ],
      });
    });

    it('limits the answer (default 10, `limit` up to 50) and refuses a limit over that', async () => {
      const tag = `lim${randomUUID().slice(0, 6)}`;
      const people = [];
      for (let i = 0; i < 12; i++) people.push(await signUp(t.app, `${tag}${String(i).padStart(2, '0')}`));
      const byDefault = (await get(people[0]!, `/api/v1/users?q=${tag}`)).json() as { users: UserRef[] };
      expect(byDefault.users.map((u) => u.username)).toEqual(people.slice(0, 10).map((p) => p.user.username));
      const three = (await get(people[0]!, `/api/v1/users?q=${tag}&limit=3`)).json() as { users: UserRef[] };
      expect(three.users).toHaveLength(3);
      const tooMany = await get(people[0]!, `/api/v1/users?q=${tag}&limit=51`);
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().error.code).toBe('validation_failed');
    });

    it('takes _ and % literally, and a character no username has matches nobody', async () => {
      const tag = `wc${randomUUID().slice(0, 6)}`;
      const under = await signUp(t.app, `${tag}_x`);
      await signUp(t.app, `${tag}ax`);
      expect(((await get(under, `/api/v1/users?q=${tag}_`)).json() as { users: UserRef[] }).users.map((u) => u.id)).toEqual([under.user.id]);
      for (const q of [`${tag}%`, '%', `${tag}é`, 'a b']) {
        const response = await get(under, `/api/v1/users?q=${encodeURIComponent(q)}`);
        expect(response.statusCode, q).toBe(200);
        expect(response.json(), q).toEqual({ users: [] });
      }
    });

    it('asks for at least one character, and for a signed-in caller', async () => {
      const alice = await signUp(t.app);
      for (const url of ['/api/v1/users?q=', '/api/v1/users?q=%20%20', '/api/v1/users']) {
        const response = await get(alice, url);
        expect(response.statusCode, url).toBe(400);
        expect(response.json().error.code).toBe('validation_failed');
        expect(response.json().error.field).toBe('q');
      }
      expect((await get(null, '/api/v1/users?q=a')).statusCode).toBe(401);
    });
  });

  describe('opening a DM (POST /dms)', () => {
    it('creates a private DM of kind "dm" named by the other people, listed for both and in no directory', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const response = await openDm(alice, [bob.user.id]);
      expect(response.statusCode).toBe(201);
      const { room } = response.json() as { room: Room };
      expect(room).toMatchObject({
        kind: 'dm',
        name: bob.user.username,
        isPrivate: true,
        role: 'member',
        lastSeq: 0,
        memberCount: 2,
        lastReadSeq: 0,
        description: '',
      });
      expect(room.dmMembers).toEqual(expect.arrayContaining([
        { id: alice.user.id, username: alice.user.username, online: false },
        { id: bob.user.id, username: bob.user.username, online: false },
      ]));
      const bobs = (await myRooms(bob)).find((r) => r.id === room.id);
      expect(bobs).toMatchObject({ kind: 'dm', name: alice.user.username, role: 'member' });
      expect((await myRooms(alice)).filter((r) => r.kind === 'room').map((r) => r.name)).toContain('General');
      const directory = (await get(alice, '/api/v1/rooms/directory')).json() as Room[];
      expect(directory.map((r) => r.id)).not.toContain(room.id);
      const members = (await get(bob, `/api/v1/rooms/${room.id}/members`)).json() as Array<{ user: { id: string }; role: string }>;
      expect(members.map((m) => [m.user.id, m.role]).sort()).toEqual([[alice.user.id, 'member'], [bob.user.id, 'member']].sort());
    });

    it('answers 200 with the same DM for the same set of people, whoever asks and in any order', async () => {
      const [alice, bob, carol] = [await signUp(t.app), await signUp(t.app), await signUp(t.app)];
      const first = await openDm(alice, [bob.user.id, carol.user.id]);
      expect(first.statusCode).toBe(201);
      const id = first.json().room.id as string;
      const rooms = await countRooms();
      for (const [who, others] of [
        [alice, [carol, bob]],
        [bob, [alice, carol]],
        [carol, [bob, alice]],
      ] as const) {
        const again = await openDm(who, others.map((o) => o.user.id));
        expect(again.statusCode).toBe(200);
        expect(again.json().room.id).toBe(id);
        // Named by the others, in the order they joined (all at once: then by name).
        expect(again.json().room.name).toBe(others.map((o) => o.user.username).sort().join(', '));
      }
      expect(await countRooms()).toBe(rooms);
      // A different set is a different DM: the 1:1 of two of them.
      const pair = await openDm(alice, [bob.user.id]);
      expect(pair.statusCode).toBe(201);
      expect(pair.json().room.id).not.toBe(id);
    });

    it('lands concurrent creations of one set in one DM (one 201, the rest 200)', async () => {
      const [alice, bob, carol] = [await signUp(t.app), await signUp(t.app), await signUp(t.app)];
      const attempts = [
        [alice, [bob, carol]],
        [bob, [carol, alice]],
        [carol, [alice, bob]],
      ] as const;
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => openDm(attempts[i % 3]![0], attempts[i % 3]![1].map((o) => o.user.id))));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      const ids = new Set(answers.map((a) => a.json().room.id as string));
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      const members = await t.database.db.selectFrom('room_members').select('user_id').where('room_id', '=', id!).execute();
      expect(members.map((m) => m.user_id).sort()).toEqual([alice, bob, carol].map((p) => p.user.id).sort());
      const dms = await t.database.db.selectFrom('rooms').select('id').where('kind', '=', 'dm').where('id', 'in', [...ids]).execute();
      expect(dms).toHaveLength(1);
    });

    it('refuses a bad list with a clear 400 naming userIds, and creates nothing', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const nine: string[] = [];
      for (let i = 0; i < 9; i++) nine.push((await signUp(t.app)).user.id);
      const rooms = await countRooms();
      const cases: Array<[unknown, RegExp]> = [
        [[], /at least one person/],
        [[alice.user.id], /Leave yourself out/],
        [[bob.user.id, alice.user.id], /Leave yourself out/],
        [[bob.user.id, bob.user.id], /more than once/],
        [[randomUUID()], /No account has the id/],
        [[bob.user.id, 'not-an-id'], /No account has the id "not-an-id"/],
        [nine, /at most 9 people: choose at most 8 others/],
      ];
      for (const [userIds, message] of cases) {
        const response = await openDm(alice, userIds);
        expect(response.statusCode, JSON.stringify(userIds)).toBe(400);
        const { error } = response.json() as { error: { code: string; message: string; field?: string } };
        expect(error.code).toBe('validation_failed');
        expect(error.field).toBe('userIds');
        expect(error.message).toMatch(message);
      }
      for (const body of [{}, { userIds: 'bob' }, { userIds: [1] }, { userIds: [''] }]) {
        const response = await post(alice, '/api/v1/dms', body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
      }
      expect(await countRooms()).toBe(rooms);
      // Eight others is the most, and fine.
      expect((await openDm(alice, nine.slice(0, 8))).statusCode).toBe(201);
    });
  });

  describe('who sees a DM', () => {
    it('is a 404 to an outsider on every path, exactly like a room that does not exist', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const eve = await signUp(t.app);
      const dm = await dmOf(alice, [bob]);
      await send(alice, dm.id, 'for bob only');
      const probes = (roomId: string) => [
        { method: 'GET', url: `/api/v1/rooms/${roomId}` },
        { method: 'GET', url: `/api/v1/rooms/${roomId}/messages` },
        { method: 'GET', url: `/api/v1/rooms/${roomId}/messages?after=0` },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, payload: { body: 'let me in', clientId: randomUUID() } },
        { method: 'GET', url: `/api/v1/rooms/${roomId}/members` },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/read`, payload: { seq: 1 } },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/join` },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/leave` },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/invites`, payload: {} },
        { method: 'GET', url: `/api/v1/rooms/${roomId}/invites` },
        { method: 'POST', url: `/api/v1/rooms/${roomId}/members/${bob.user.id}/remove` },
        { method: 'PUT', url: `/api/v1/rooms/${roomId}/bans/${bob.user.id}` },
        { method: 'PUT', url: `/api/v1/rooms/${roomId}/members/${bob.user.id}/role`, payload: { role: 'moderator' } },
      ] as const;
      const unknown = probes(randomUUID());
      for (const [i, probe] of probes(dm.id).entries()) {
        const response = await t.app.inject({ ...probe, headers: as(eve) } as never);
        const reference = await t.app.inject({ ...unknown[i]!, headers: as(eve) } as never);
        expect(response.statusCode, `${probe.method} ${probe.url}`).toBe(404);
        expect(response.body, `${probe.method} ${probe.url}`).toBe(reference.body);
      }
      // Nothing was stored or changed by the outsider.
      const stored = await t.database.db.selectFrom('messages').select('sender_id').where('room_id', '=', dm.id).execute();
      expect(stored.map((m) => m.sender_id)).toEqual([alice.user.id]);
      expect((await myRooms(eve)).map((r) => r.id)).not.toContain(dm.id);

      // The socket: a send is refused as for an unknown room, and nothing of the DM arrives.
      const eves = await connect(eve);
      const clientId = randomUUID();
      eves.send({ type: 'send', roomId: dm.id, body: 'hello?', clientId });
      const refusal = await eves.waitFor<Frame<'error'>>((f) => f.type === 'error' && f.clientId === clientId);
      expect(refusal.error.code).toBe('not_found');
      const bobs = await connect(bob);
      await sendWs(bobs, dm.id, 'a secret in the DM');
      await bobs.waitFor(isMessage(dm.id));
      // Eve's socket answers a ping after the message's fan-out: had it been sent her way, it would be here.
      eves.send({ type: 'ping' });
      await eves.waitFor((f) => f.type === 'pong');
      expect(eves.received(mentions(dm.id)).filter((f) => f.type !== 'error')).toEqual([]);
      expect(eves.received(mentions('a secret in the DM'))).toEqual([]);
    });

    it('has no invites, roles or moderation for its members: a clear 403', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const dm = await dmOf(alice, [bob]);
      for (const [method, url, payload] of [
        ['POST', `/api/v1/rooms/${dm.id}/invites`, {}],
        ['GET', `/api/v1/rooms/${dm.id}/invites`, undefined],
        ['POST', `/api/v1/rooms/${dm.id}/members/${bob.user.id}/remove`, undefined],
        ['PUT', `/api/v1/rooms/${dm.id}/bans/${bob.user.id}`, undefined],
        ['PUT', `/api/v1/rooms/${dm.id}/members/${bob.user.id}/role`, { role: 'moderator' }],
      ] as const) {
        const response = await t.app.inject({ method, url, headers: as(alice), ...(payload ? { payload } : {}) });
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json().error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/direct message has no invites, roles or moderation/) });
      }
      const members = (await get(alice, `/api/v1/rooms/${dm.id}/members`)).json() as Array<{ role: string }>;
      expect(members.map((m) => m.role)).toEqual(['member', 'member']);
    });

    it('lets a member leave, and opening the same set again brings them back to the same DM', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const dm = await dmOf(alice, [bob]);
      expect((await post(bob, `/api/v1/rooms/${dm.id}/leave`)).statusCode).toBe(204);
      expect((await get(bob, `/api/v1/rooms/${dm.id}/messages`)).statusCode).toBe(404);
      // Alice has read what she wrote meanwhile; Bob, back, has read none of it.
      const meanwhile = await send(alice, dm.id, 'while you were away');
      expect((await post(alice, `/api/v1/rooms/${dm.id}/read`, { seq: meanwhile.seq })).statusCode).toBe(204);
      const bobs = await connect(bob);
      const again = await openDm(alice, [bob.user.id]);
      expect(again.statusCode).toBe(200);
      expect(again.json().room).toMatchObject({ id: dm.id, lastReadSeq: meanwhile.seq });
      const announced = await bobs.waitFor<Frame<'dm'>>(isDm(dm.id));
      expect(announced.room).toMatchObject({ id: dm.id, name: alice.user.username, lastReadSeq: 0, notificationLevel: 'all' });
      expect((await myRooms(bob)).find((r) => r.id === dm.id)).toMatchObject({ lastReadSeq: 0 });
      // The timeline shows "bob joined", added back by alice, live and in the page.
      const joined = await bobs.waitFor<Frame<'member'>>((f) => f.type === 'member' && f.roomId === dm.id && f.userId === bob.user.id);
      expect(joined.event).toMatchObject({ change: 'joined', afterSeq: meanwhile.seq, user: { id: bob.user.id }, actor: { id: alice.user.id } });
      const page = (await get(bob, `/api/v1/rooms/${dm.id}/messages?events=true`)).json();
      expect(page.events.map((e: { change: string }) => e.change)).toEqual(['left', 'joined']);
      expect(page.events[1]).toEqual(joined.event);
      expect((await myRooms(bob)).map((r) => r.id)).toContain(dm.id);
      const message = await send(alice, dm.id, 'welcome back');
      await bobs.waitFor(isMessageId(message.id));
    });
  });

  describe('in real time', () => {
    it('tells every member at once (`dm` frame, named for each), subscribes them, and tells no one else', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const carol = await signUp(t.app);
      const eve = await signUp(t.app);
      const [alices, bobs, carols, eves] = [await connect(alice), await connect(bob), await connect(carol), await connect(eve)];
      const dm = await dmOf(alice, [bob, carol]);
      const toBob = await bobs.waitFor<Frame<'dm'>>(isDm(dm.id));
      expect(toBob.room).toMatchObject({ id: dm.id, kind: 'dm', name: `${alice.user.username}, ${carol.user.username}`, role: 'member', lastReadSeq: 0 });
      expect((await carols.waitFor<Frame<'dm'>>(isDm(dm.id))).room.name).toBe(`${alice.user.username}, ${bob.user.username}`);
      expect((await alices.waitFor<Frame<'dm'>>(isDm(dm.id))).room.name).toBe(`${bob.user.username}, ${carol.user.username}`);
      const message = await send(alice, dm.id, 'hi both');
      await bobs.waitFor(isMessageId(message.id));
      await carols.waitFor(isMessageId(message.id));
      eves.send({ type: 'ping' });
      await eves.waitFor((f) => f.type === 'pong');
      expect(eves.received(mentions(dm.id))).toEqual([]);
      // Opening it again announces nothing new.
      const framesBefore = bobs.received(isDm(dm.id)).length;
      expect((await openDm(carol, [alice.user.id, bob.user.id])).statusCode).toBe(200);
      bobs.send({ type: 'ping' });
      await bobs.waitFor((f) => f.type === 'pong', { since: bobs.frames.length });
      expect(bobs.received(isDm(dm.id))).toHaveLength(framesBefore);
    });

    it('keeps a DM apart from a room of the same people', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const room = await createRoom(alice, { name: uniqueName('Pair'), isPrivate: true });
      const dm = await dmOf(alice, [bob]);
      expect(dm.id).not.toBe(room.id);
      expect((await get(bob, `/api/v1/rooms/${room.id}`)).statusCode).toBe(404);
    });
  });
});

const redis = await redisForTests();

describe.each(BUS_KINDS)('a DM across two instances on the %s bus', (kind) => {
  const skip = kind === 'redis' && redis.skip;

  describe.skipIf(skip)(skip ? redis.note : 'sharing one PostgreSQL database', () => {
    const keyring = createKeyring(generateFernetKey());
    const prefix = uniqueRedisPrefix();
    let testDatabase: TestDatabase;
    let inspect: DatabaseHandle;
    let config: Config;
    const closers: Array<() => Promise<void>> = [];
    const sockets = closedAfterEach();

    async function startInstance(): Promise<{ app: FastifyInstance; base: string }> {
      const database = openDatabase(testDatabase.target);
      const log = createLogger(config);
      const metrics = createMetrics({ poolStats: database.poolStats });
      const cluster = await connectCluster(config, { database, keyring, log, observeLag: metrics.busReceived });
      const app = await buildApp(testServices({ config, database, keyring, bus: cluster.bus, presence: cluster.presence, log, metrics }));
      const base = await listenOnLoopback(app);
      closers.push(async () => {
        await app.close();
        await cluster.close();
        await database.close();
      });
      return { app, base };
    }

    beforeAll(async () => {
      if (kind === 'redis') redis.require();
      testDatabase = await createTestDatabase('postgres');
      inspect = openDatabase(testDatabase.target);
      await prepareDatabase(inspect, keyring);
      config = clusterConfig(kind, testDatabase.target, { url: redis.url, prefix });
    });

    afterAll(async () => {
      for (const close of closers.reverse()) await close();
      await inspect?.close();
      await testDatabase?.drop();
      if (kind === 'redis' && !redis.unavailable) await dropRedisPrefix(redis.url, prefix);
    });

    it('shows a DM created on instance A on a socket on instance B, and its messages after it', async () => {
      const a = await startInstance();
      const b = await startInstance();
      const alice = await signUp(a.app);
      const bob = await signUp(a.app);
      const bobOnB = await connectWs(b.base, { cookie: bob.cookie });
      sockets.push(bobOnB);
      const created = await a.app.inject({ method: 'POST', url: '/api/v1/dms', headers: as(alice), payload: { userIds: [bob.user.id] } });
      expect(created.statusCode).toBe(201);
      const { room } = created.json() as { room: Room };
      const frame = await bobOnB.waitFor<Frame<'dm'>>(isDm(room.id), { timeoutMs: 8_000 });
      expect(frame.room).toMatchObject({ id: room.id, kind: 'dm', name: alice.user.username });
      const sent = await a.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/messages`, headers: as(alice), payload: { body: 'across', clientId: randomUUID() } });
      expect(sent.statusCode).toBe(201);
      await bobOnB.waitFor(isMessageId(sent.json().message.id), { timeoutMs: 8_000 });
      // Concurrent creation of one set from both instances: one DM.
      const carol = await signUp(a.app);
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, () => a.app.inject({ method: 'POST', url: '/api/v1/dms', headers: as(alice), payload: { userIds: [carol.user.id, bob.user.id] } })),
        ...Array.from({ length: 4 }, () => b.app.inject({ method: 'POST', url: '/api/v1/dms', headers: as(carol), payload: { userIds: [alice.user.id, bob.user.id] } })),
      ]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((r) => r.json().room.id)).size).toBe(1);
    });
  });
});
