/**
 * PostgreSQL goes away while clients work (issue 4, "Faults — nothing lost"; product.md §3
 * invariants 1, 2 and 4). The app runs in this process on a PostgreSQL server of this file's
 * own (stopping it must not disturb other suites), with the production pool settings
 * (connection timeout 5 s). Clients keep sending over HTTP and WebSocket and reading history
 * while the server is stopped and started again on the same data folder:
 *   - while it is down, every request answers 503 promptly, in the API's error shape
 *     `{"error":{"code":"service_unavailable",...}}` with Retry-After (a socket's send gets an
 *     error frame with that code); /readyz answers 503, /healthz 200;
 *   - nothing is half-written: each room's seqs stay 1..last_seq with no gap, a registration
 *     that failed left no user behind;
 *   - once it is back, the same app (no restart) serves again: sends succeed, failed ones
 *     retried with the same clientId are stored once, seqs continue contiguously.
 * Stopped the way `pg_ctl stop` does (fast: SIGINT) and as a crash (immediate: SIGQUIT, crash
 * recovery at the next start); and frozen (SIGSTOP: a server that stops answering, as in a
 * network partition) — there, too, the API must answer within the pool's connection timeout.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { listenOnLoopback, prepareDatabase, testServices } from '../support/app.js';
import { attemptWs, connectWs, type WsClient } from '../support/ws-client.js';
import { isAck, isReply } from '../support/frames.js';
import type { Message } from '../../src/shared/protocol.js';
import { call, type Answer, type Session } from '../support/http.js';
import { createRoom, joinRoom, readAll, sequenceProblems, signUp, TEST_PASSWORD } from '../support/factories.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { Resources, sleep, UNTHROTTLED, waitUntil } from '../support/process.js';

/** The pool's connection timeout in production (db/database.ts): the bound for "promptly". */
const CONNECTION_TIMEOUT_MS = 5_000;

interface Outcome {
  via: 'http-send' | 'ws-send' | 'http-read';
  clientId?: string;
  /** performance.now() when the request was made and when it was answered. */
  at: number;
  ms: number;
  /** HTTP status, or 'ack' / the error code of a frame, or 'network: …' / 'timeout'. */
  result: string | number;
  errorShapeOk?: boolean;
  retryAfter?: string | null;
}

function isErrorShape(body: unknown, code: string): boolean {
  const error = (body as { error?: { code?: unknown; message?: unknown } })?.error;
  return typeof error === 'object' && error !== null && error.code === code && typeof error.message === 'string' && error.message.length > 0;
}

describe('PostgreSQL stops while clients work', { timeout: 90_000 }, () => {
  const fileResources = new Resources();
  let pgServer: OwnPostgres;
  beforeAll(async () => {
    pgServer = await startOwnPostgres(fileResources);
  }, 120_000);
  afterAll(async () => fileResources.dispose());

  const resources = new Resources();
  afterEach(async () => {
    pgServer.thaw();
    if (!pgServer.running) await pgServer.start();
    await resources.dispose();
  });

  /** The app as main.ts builds it, on a fresh database of the own server, with the production pool. */
  async function startApp(): Promise<{ app: FastifyInstance; base: string; database: DatabaseHandle; url: string }> {
    const url = await pgServer.createDatabase(`sc_outage_${randomBytes(6).toString('hex')}`);
    const target = { dialect: 'postgres' as const, url };
    const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED }), database: target };
    const database = openDatabase(target);
    const keyring = createKeyring(generateFernetKey());
    await prepareDatabase(database, keyring);
    const app = await buildApp(testServices({ config, database, keyring }));
    const base = await listenOnLoopback(app);
    resources.defer(async () => {
      // Every request of the test has been answered by now; a connection a client opened and
      // never used would otherwise hold close() until Node's headers timeout (see graceful-shutdown).
      app.server.closeAllConnections();
      await app.close();
      await database.close();
    });
    return { app, base, database, url };
  }

  /**
   * Clients at work until stopped: Alice sends over HTTP, Bob over his socket, Carol reads the
   * room with `after=`; every answer is recorded with its time.
   */
  function startClients(base: string, roomId: string, alice: Session, bobSocket: WsClient, carol: Session) {
    const outcomes: Outcome[] = [];
    let running = true;
    let aliceNext = 0;
    let bobNext = 0;
    const record = (outcome: Outcome) => outcomes.push(outcome);

    const aliceLoop = async () => {
      while (running) {
        const clientId = `alice-${aliceNext++}`;
        const at = performance.now();
        try {
          const answer = await call(base, 'POST', `/api/v1/rooms/${roomId}/messages`, { session: alice, body: { body: `from alice ${clientId}`, clientId }, timeoutMs: 15_000 });
          record({ via: 'http-send', clientId, at, ms: answer.ms, result: answer.status, errorShapeOk: answer.status < 300 || isErrorShape(answer.body, 'service_unavailable'), retryAfter: answer.headers.get('retry-after') });
        } catch (error) {
          record({ via: 'http-send', clientId, at, ms: performance.now() - at, result: `network: ${(error as Error).name}` });
        }
        await sleep(5);
      }
    };
    const carolLoop = async () => {
      while (running) {
        const at = performance.now();
        try {
          const answer = await call(base, 'GET', `/api/v1/rooms/${roomId}/messages?after=0&limit=5`, { session: carol, timeoutMs: 15_000 });
          record({ via: 'http-read', at, ms: answer.ms, result: answer.status, errorShapeOk: answer.status < 300 || isErrorShape(answer.body, 'service_unavailable'), retryAfter: answer.headers.get('retry-after') });
        } catch (error) {
          record({ via: 'http-read', at, ms: performance.now() - at, result: `network: ${(error as Error).name}` });
        }
        await sleep(5);
      }
    };
    const bobLoop = async () => {
      while (running && bobSocket.socket.readyState === WebSocket.OPEN) {
        const clientId = `bob-${bobNext++}`;
        const at = performance.now();
        const since = bobSocket.frames.length;
        bobSocket.send({ type: 'send', roomId, body: `from bob ${clientId}`, clientId });
        try {
          const frame = await bobSocket.waitFor(isReply(clientId), { since, timeoutMs: 15_000 });
          const result = frame.type === 'ack' ? 'ack' : (frame as { error: { code: string } }).error.code;
          record({ via: 'ws-send', clientId, at, ms: performance.now() - at, result, errorShapeOk: frame.type === 'ack' || isErrorShape(frame, 'service_unavailable') });
        } catch {
          record({ via: 'ws-send', clientId, at, ms: performance.now() - at, result: 'timeout' });
        }
        await sleep(5);
      }
    };
    const loops = Promise.all([aliceLoop(), aliceLoop(), bobLoop(), carolLoop()]);
    return {
      outcomes,
      successesSince: (at: number) => outcomes.filter((o) => o.at >= at && (o.result === 200 || o.result === 201 || o.result === 'ack')),
      async stop() {
        running = false;
        await loops;
      },
    };
  }

  /** One request of each kind while the database is away: status, shape, Retry-After and time. */
  async function probeOutage(base: string, roomId: string, alice: Session, bobSocket: WsClient) {
    const requests: Array<[string, () => Promise<Answer>]> = [
      ['send (POST message)', () => call(base, 'POST', `/api/v1/rooms/${roomId}/messages`, { session: alice, body: { body: 'during the outage', clientId: `probe-${randomBytes(4).toString('hex')}` } })],
      ['history (GET messages)', () => call(base, 'GET', `/api/v1/rooms/${roomId}/messages`, { session: alice })],
      ['rooms (GET /rooms)', () => call(base, 'GET', '/api/v1/rooms', { session: alice })],
      ['session (GET /auth/session)', () => call(base, 'GET', '/api/v1/auth/session', { session: alice })],
      ['login', () => call(base, 'POST', '/api/v1/auth/login', { body: { username: alice.user.username, password: TEST_PASSWORD } })],
    ];
    const seen: Array<{ what: string; status: number; ms: number; body: unknown; retryAfter: string | null }> = [];
    for (const [what, request] of requests) {
      const answer = await request();
      seen.push({ what, status: answer.status, ms: answer.ms, body: answer.body, retryAfter: answer.headers.get('retry-after') });
    }
    for (const probe of seen) {
      expect(probe.status, `${probe.what}: ${JSON.stringify(probe.body)}`).toBe(503);
      expect(isErrorShape(probe.body, 'service_unavailable'), `${probe.what}: ${JSON.stringify(probe.body)}`).toBe(true);
      expect(Number(probe.retryAfter), probe.what).toBeGreaterThan(0);
    }
    const ready = await call(base, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(Number(ready.headers.get('retry-after'))).toBeGreaterThan(0);
    const health = await call(base, 'GET', '/healthz');
    expect(health.status).toBe(200);
    // A socket opened now is refused on the upgrade (its session cannot be read).
    const started = performance.now();
    const refusal = await attemptWs(base, { cookie: alice.cookie }, 8_000);
    const wsMs = performance.now() - started;
    expect(refusal).toEqual({ kind: 'http', status: 503 });
    // An open socket's send gets an error frame, not silence.
    const clientId = `probe-ws-${randomBytes(4).toString('hex')}`;
    const frameStarted = performance.now();
    bobSocket.send({ type: 'send', roomId, body: 'during the outage', clientId });
    const frame = await bobSocket.waitFor((f) => (f as { clientId?: string }).clientId === clientId, { timeoutMs: 10_000 });
    const frameMs = performance.now() - frameStarted;
    expect(frame.type).toBe('error');
    expect(isErrorShape(frame, 'service_unavailable'), JSON.stringify(frame)).toBe(true);
    return {
      failed: [clientId],
      timings: [...seen.map((p) => [p.what, p.ms] as const), ['readyz', ready.ms] as const, ['healthz', health.ms] as const, ['ws upgrade', wsMs] as const, ['ws send frame', frameMs] as const],
    };
  }

  it.for(['fast', 'immediate'] as const)('stopped (%s): 503 promptly in the error shape, nothing half-written, and the same app serves again when it is back', async (mode) => {
    const { base, database } = await startApp();
    const alice = await signUp(base, `alice_${mode}`);
    const bob = await signUp(base, `bob_${mode}`);
    const carol = await signUp(base, `carol_${mode}`);
    const room = await createRoom(base, alice, { name: `Outage ${mode}` });
    await joinRoom(base, bob, room.id);
    await joinRoom(base, carol, room.id);
    const bobSocket = await connectWs(base, { cookie: bob.cookie });
    resources.defer(() => bobSocket.close());

    const clients = startClients(base, room.id, alice, bobSocket, carol);
    await waitUntil('clients at work', 10_000, () => clients.successesSince(0).length >= 30);

    // ---- the database goes away ----
    const stopAt = performance.now();
    await pgServer.stop(mode);
    const downAt = performance.now();
    await sleep(1_500); // the clients keep working against the outage
    const probes = await probeOutage(base, room.id, alice, bobSocket);
    const registerDuring = await call(base, 'POST', '/api/v1/auth/register', {
      body: { username: `dave_${mode}`, email: `dave_${mode}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
    });
    expect(registerDuring.status).toBe(503);
    expect(isErrorShape(registerDuring.body, 'service_unavailable')).toBe(true);

    // ---- it comes back on the same data; the app is not restarted ----
    const restartAt = performance.now();
    await pgServer.start();
    const upAt = performance.now();
    const readyAfterMs = await waitUntil('readyz answers 200 again', 15_000, async () => {
      const ready = await call(base, 'GET', '/readyz');
      return ready.status === 200 ? performance.now() - upAt : undefined;
    });
    const resumedAt = performance.now();
    await waitUntil('clients succeed again', 15_000, () => clients.successesSince(resumedAt).length >= 30);
    await clients.stop();

    const outcomes = clients.outcomes;
    // While it was down (requests made after the server had exited, answered before it was back):
    const duringOutage = outcomes.filter((o) => o.at >= downAt && o.at + o.ms <= restartAt);
    expect(duringOutage.length).toBeGreaterThan(10);
    expect(duringOutage.filter((o) => !(o.result === 503 || o.result === 'service_unavailable'))).toEqual([]);
    expect(duringOutage.filter((o) => !o.errorShapeOk)).toEqual([]);
    expect(duringOutage.filter((o) => o.via !== 'ws-send' && !(Number(o.retryAfter) > 0))).toEqual([]);
    const slowest = Math.max(...duringOutage.map((o) => o.ms), ...probes.timings.map(([, ms]) => ms));
    expect(slowest).toBeLessThan(CONNECTION_TIMEOUT_MS);
    // Around the stop itself (in flight when it went): an answer in the error shape, never a 500 or a hang.
    const everythingElse = outcomes.filter((o) => !(o.result === 200 || o.result === 201 || o.result === 'ack' || o.result === 503 || o.result === 'service_unavailable'));
    expect(everythingElse).toEqual([]);
    // Once /readyz said ready, nothing failed.
    const afterReady = outcomes.filter((o) => o.at >= resumedAt);
    expect(afterReady.filter((o) => !(o.result === 200 || o.result === 201 || o.result === 'ack'))).toEqual([]);

    // ---- retry every failed send with its clientId: stored once ----
    const failedSends = outcomes.filter((o) => o.clientId && (o.result === 503 || o.result === 'service_unavailable'));
    let committedAnyway = 0;
    for (const o of failedSends) {
      const sender = o.via === 'ws-send' ? bob : alice;
      const answer = await call<{ message: Message }>(base, 'POST', `/api/v1/rooms/${room.id}/messages`, {
        session: sender,
        body: { body: `from ${o.via === 'ws-send' ? 'bob' : 'alice'} ${o.clientId}`, clientId: o.clientId },
      });
      expect([200, 201]).toContain(answer.status);
      if (answer.status === 200) committedAnyway += 1;
    }

    // ---- nothing half-written, seqs contiguous, every success stored once ----
    const messages = await readAll(base, alice, room.id);
    expect(sequenceProblems(messages)).toEqual({ outOfPlace: [], duplicateClientIds: [] });
    const stored = new Set(messages.map((m) => m.clientId));
    for (const o of outcomes.filter((o) => o.clientId && (o.result === 201 || o.result === 200 || o.result === 'ack'))) {
      expect(stored.has(o.clientId!), `${o.clientId} acknowledged but not stored`).toBe(true);
    }
    for (const o of failedSends) expect(stored.has(o.clientId!)).toBe(true);
    const { db } = database;
    const roomRow = await db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow();
    expect(Number(roomRow.last_seq)).toBe(messages.length);
    const counts = await db.selectFrom('messages').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('seq').as('max')]).where('room_id', '=', room.id).executeTakeFirstOrThrow();
    expect([Number(counts.n), Number(counts.max)]).toEqual([messages.length, messages.length]);
    // The registration that got a 503 left no user behind (and the name is free).
    expect(await db.selectFrom('users').select('id').where('username_key', '=', `dave_${mode}`).executeTakeFirst()).toBeUndefined();
    const usersWithoutGeneral = await db
      .selectFrom('users')
      .leftJoin('room_members', (join) => join.onRef('room_members.user_id', '=', 'users.id'))
      .select('users.username')
      .where('room_members.user_id', 'is', null)
      .execute();
    expect(usersWithoutGeneral).toEqual([]);
    expect((await call(base, 'POST', '/api/v1/auth/register', { body: { username: `dave_${mode}`, email: `dave_${mode}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD } })).status).toBe(201);
    // Bob's socket lived through it and still sends.
    const after = `after-${mode}`;
    bobSocket.send({ type: 'send', roomId: room.id, body: 'after the outage', clientId: after });
    const ack = await bobSocket.waitFor(isAck(after));
    expect((ack as { message: Message }).message.seq).toBe(messages.length + 1);

    const stats = (via: Outcome['via']) => {
      const ms = duringOutage.filter((o) => o.via === via).map((o) => o.ms).sort((a, b) => a - b);
      return `${via} n=${ms.length} median ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms max ${ms.at(-1)?.toFixed(1)} ms`;
    };
    console.info(
      `[database-outage ${mode}] stop took ${(downAt - stopAt).toFixed(0)} ms; during the outage: ${stats('http-send')}; ${stats('ws-send')}; ${stats('http-read')}; ` +
        `probes ${probes.timings.map(([what, ms]) => `${what} ${ms.toFixed(1)} ms`).join(', ')}; slowest ${slowest.toFixed(1)} ms (bound ${CONNECTION_TIMEOUT_MS} ms); ` +
        `restart took ${(upAt - restartAt).toFixed(0)} ms, readyz 200 ${readyAfterMs.toFixed(0)} ms after; ${failedSends.length} failed sends retried (${committedAnyway} had been committed); ` +
        `room now 1..${messages.length + 1}`,
    );
  });

  it('the server process (npm start) lives through PostgreSQL stopping under load and serves again when it is back', async () => {
    const url = await pgServer.createDatabase(`sc_outage_${randomBytes(6).toString('hex')}`);
    const dataDir = await resources.tempDir();
    const server = await resources.startServer({ DATA_DIR: dataDir, DATABASE_URL: url }, dataDir);
    const alice = await signUp(server.url, 'alice_process');
    const room = await createRoom(server.url, alice, { name: 'Outage process' });

    // Eight senders, so that queries are in flight on checked-out connections when the server goes.
    let running = true;
    let next = 0;
    const statuses: Array<number | string> = [];
    const sender = async () => {
      while (running) {
        const clientId = `p-${next++}`;
        try {
          const answer = await call(server.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: clientId, clientId }, timeoutMs: 10_000 });
          statuses.push(answer.status);
        } catch (error) {
          statuses.push(`network: ${String((error as Error).cause ?? (error as Error).name)}`);
        }
      }
    };
    const senders = Promise.all(Array.from({ length: 8 }, sender));
    await waitUntil('senders at work', 10_000, () => statuses.filter((s) => s === 201).length >= 40);

    await pgServer.stop('fast');
    const downAt = statuses.length;
    await sleep(1_000);
    const aliveDuringOutage = !server.proc.done;
    const health = await call(server.url, 'GET', '/healthz').then((a) => a.status, (e: Error) => `network: ${e.name}`);
    await pgServer.start();
    await sleep(1_000);
    running = false;
    await senders;

    // A crash shows as the process gone and its stack on stderr.
    expect(aliveDuringOutage, `the server process died when PostgreSQL stopped:\n${server.proc.stderr.slice(-3_000)}`).toBe(true);
    expect(health).toBe(200);
    expect(statuses.slice(downAt).filter((s) => typeof s === 'string')).toEqual([]);
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    const after = await call(server.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: 'after', clientId: 'after' } });
    expect(after.status).toBe(201);
    const messages = await readAll(server.url, alice, room.id);
    expect(sequenceProblems(messages)).toEqual({ outOfPlace: [], duplicateClientIds: [] });
    server.proc.child.kill('SIGTERM');
    await server.proc.exited;
  });

  it('frozen (no answer at all, as in a network partition): 503 within the connection timeout, and service resumes when it thaws', async () => {
    const { base, database } = await startApp();
    const alice = await signUp(base, 'alice_frozen');
    const room = await createRoom(base, alice, { name: 'Outage frozen' });
    // Warm the pool: idle connections to the server that is about to freeze.
    await Promise.all(Array.from({ length: 6 }, (_, i) => call(base, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: `warm ${i}`, clientId: `warm-${i}` } })));

    pgServer.freeze();
    const answers = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const at = performance.now();
        try {
          const answer = await call(base, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: `frozen ${i}`, clientId: `frozen-${i}` }, timeoutMs: CONNECTION_TIMEOUT_MS + 3_000 });
          return { status: answer.status as number | string, ms: answer.ms, shapeOk: isErrorShape(answer.body, 'service_unavailable') };
        } catch (error) {
          return { status: `no answer (${(error as Error).name})`, ms: performance.now() - at, shapeOk: false };
        }
      }),
    );
    const ready = await call(base, 'GET', '/readyz', { timeoutMs: CONNECTION_TIMEOUT_MS + 3_000 }).then(
      (answer) => ({ status: answer.status as number | string, ms: answer.ms }),
      (error: Error) => ({ status: `no answer (${error.name})`, ms: CONNECTION_TIMEOUT_MS + 3_000 }),
    );
    pgServer.thaw();
    console.info(`[database-outage frozen] sends: ${answers.map((a) => `${a.status} in ${a.ms.toFixed(0)} ms`).join(', ')}; readyz: ${ready.status} in ${ready.ms.toFixed(0)} ms`);

    // The same app serves again, and nothing is half-written.
    const thawedAt = performance.now();
    await waitUntil('readyz answers 200 after the thaw', 20_000, async () => (await call(base, 'GET', '/readyz', { timeoutMs: 2_000 })).status === 200);
    console.info(`[database-outage frozen] readyz 200 ${(performance.now() - thawedAt).toFixed(0)} ms after the thaw`);
    const after = await call(base, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: 'thawed', clientId: 'thawed' } });
    expect(after.status).toBe(201);
    for (let i = 0; i < 4; i++) {
      const retry = await call(base, 'POST', `/api/v1/rooms/${room.id}/messages`, { session: alice, body: { body: `frozen ${i}`, clientId: `frozen-${i}` } });
      expect([200, 201]).toContain(retry.status);
    }
    const messages = await readAll(base, alice, room.id);
    expect(sequenceProblems(messages)).toEqual({ outOfPlace: [], duplicateClientIds: [] });
    const roomRow = await database.db.selectFrom('rooms').select('last_seq').where('id', '=', room.id).executeTakeFirstOrThrow();
    expect(Number(roomRow.last_seq)).toBe(messages.length);

    // The claim under test: a database that does not answer is a prompt 503, like one that is down.
    for (const answer of [...answers, ready]) {
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(CONNECTION_TIMEOUT_MS + 1_000);
    }
    expect(answers.every((a) => a.shapeOk)).toBe(true);
  });
});
