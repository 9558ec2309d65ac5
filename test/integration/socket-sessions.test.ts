/**
 * A socket lives no longer than its session, on SQLite and PostgreSQL: logout, ending the
 * session from another device and a password change close it at once, and a frame its
 * client sends afterwards (ignoring the close frame) is dropped unread — no message is
 * stored; the session's absolute expiry and idle timeout close it with nobody calling
 * HTTP (the test clock moves; the server reads due sessions once a second), and the
 * socket's own frames count as use of the session, as HTTP requests do. Also: a cap on
 * sockets per user, and typing throttled per user and room across the user's sockets. At
 * shutdown a socket ends the same way: 1001, and no frame handled after the close frame.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiClient, as, listenOnLoopback, logIn, signUp, startTestApp, TEST_PASSWORD, useTestApp, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { isMessage, isPong, isTyping } from '../support/frames.js';
import { parsePrometheus, value } from '../support/prometheus.js';
import { attemptWs, closedAfterEach, connectWs, ignoreCloseFrame, type WsClient } from '../support/ws-client.js';

const HOUR_MS = 60 * 60 * 1000;
const MAX_SOCKETS = 3;
const WAIT = { timeout: 5_000, interval: 20 };

describe.each(DIALECTS)('sockets bound to their session on %s', (dialect) => {
  const t = useTestApp(dialect, { MAX_SOCKETS_PER_USER: String(MAX_SOCKETS) });
  let base: string;
  const open = closedAfterEach();
  const { get, post, createRoom, join, send: sendHttp } = apiClient(() => t.app);

  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  async function connect(session: Session): Promise<WsClient> {
    const client = await connectWs(base, { cookie: session.cookie });
    open.push(client);
    return client;
  }
  const storedBodies = async (roomId: string) =>
    (await t.database.db.selectFrom('messages').select('client_id').where('room_id', '=', roomId).execute()).map((row) => row.client_id);
  /** Frames dropped for arriving after their session ended (0 when the server does not count them). */
  async function refusedFrames(): Promise<number> {
    const families = parsePrometheus((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
    return families.has('securechat_websocket_frames_refused_total') ? value(families, 'securechat_websocket_frames_refused_total') : 0;
  }
  const sessionAnswer = async (session: Session) => (await get(session, '/api/v1/auth/session')).statusCode;

  /** How each way of ending a session is asked for; `other` is a second session of the same user. */
  const endings: Array<[string, (ended: Session, other: Session) => Promise<number>]> = [
    ['logout', async (ended) => (await post(ended, '/api/v1/auth/logout')).statusCode],
    [
      'ending it from another device',
      async (ended, other) => {
        const sessions = (await get(ended, '/api/v1/auth/sessions')).json() as Array<{ id: string; current: boolean }>;
        const id = sessions.find((s) => s.current)!.id;
        return (await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${id}`, headers: as(other) })).statusCode;
      },
    ],
    [
      'a password change on another device',
      async (_ended, other) =>
        (await post(other, '/api/v1/auth/password', { currentPassword: TEST_PASSWORD, newPassword: `${TEST_PASSWORD} ${randomUUID()}` })).statusCode,
    ],
  ];

  describe.each(endings)('after %s', (_name, endSession) => {
    it('closes the socket with 4401 and stores no message its client sends afterwards', async () => {
      const alice = await signUp(t.app);
      const phone = await logIn(t.app, alice.user.username, TEST_PASSWORD);
      const room = await createRoom(phone);
      const watcher = await connect(phone); // the phone's session outlives alice's in every case
      const socket = await connect(alice);
      ignoreCloseFrame(socket);
      const refusedBefore = await refusedFrames();

      expect(await endSession(alice, phone)).toBe(204);
      const clientId = randomUUID();
      socket.send({ type: 'send', roomId: room.id, body: 'sent after the end', clientId });

      // Either the frame is stored (the bug) or the server counts it as refused.
      await vi.waitFor(async () => {
        const stored = (await storedBodies(room.id)).includes(clientId);
        expect(stored || (await refusedFrames()) > refusedBefore).toBe(true);
      }, WAIT);
      expect(await storedBodies(room.id)).not.toContain(clientId);
      expect(socket.received(isMessage(room.id))).toEqual([]);
      // The client never answered the close frame (4401): the server cut the connection itself.
      expect((await socket.waitForClose()).code).toBe(4401);
      expect(await sessionAnswer(alice)).toBe(401);
      // The other session's socket lives on.
      watcher.send({ type: 'ping' });
      await watcher.waitFor(isPong);
    });
  });

  describe('expiry and idle timeout, with nobody calling HTTP', () => {
    it('closes a browser session’s socket once the session is a day old', async () => {
      const alice = await signUp(t.app);
      const socket = await connect(alice);
      socket.send({ type: 'ping' });
      await socket.waitFor(isPong);
      t.clock.advance(24 * HOUR_MS + 1);
      expect((await socket.waitForClose()).code).toBe(4401);
      expect(await sessionAnswer(alice)).toBe(401);
    });

    it('counts the socket’s own frames as use, and closes it once it has been idle for SESSION_IDLE_HOURS', async () => {
      const alice = await signUp(t.app, undefined, { rememberMe: true });
      const room = await createRoom(alice);
      const socket = await connect(alice);
      t.clock.advance(71 * HOUR_MS);
      socket.send({ type: 'ping' });
      await socket.waitFor(isPong);
      // 73 hours after sign-in, 2 after the ping: the ping kept the session (72 idle hours) alive.
      t.clock.advance(2 * HOUR_MS);
      const since = socket.frames.length;
      socket.send({ type: 'send', roomId: room.id, body: 'still here', clientId: randomUUID() });
      await socket.waitFor((f) => f.type === 'ack', { since });
      // Then nothing for 73 hours: the socket closes without any HTTP request.
      t.clock.advance(73 * HOUR_MS);
      expect((await socket.waitForClose()).code).toBe(4401);
      expect(await sessionAnswer(alice)).toBe(401);
    });

    it('keeps a socket open while HTTP requests of its session keep the session in use', async () => {
      const alice = await signUp(t.app, undefined, { rememberMe: true });
      const socket = await connect(alice);
      t.clock.advance(71 * HOUR_MS);
      expect(await sessionAnswer(alice)).toBe(200);
      // Past the idle deadline the socket knew of: the server reads the session again and finds it used.
      t.clock.advance(2 * HOUR_MS);
      socket.send({ type: 'ping' });
      await socket.waitFor(isPong);
    });
  });

  describe('sockets per user', () => {
    it(`refuses a user's socket beyond MAX_SOCKETS_PER_USER with 4429, and takes one again once a socket closes`, async () => {
      const alice = await signUp(t.app);
      const sockets = [];
      for (let i = 0; i < MAX_SOCKETS; i += 1) sockets.push(await connect(alice));
      expect(await attemptWs(base, { cookie: alice.cookie })).toEqual({ kind: 'closed', code: 4429, frames: [] });
      // Another user is not affected.
      await connect(await signUp(t.app));
      await sockets[0]!.close();
      await vi.waitFor(async () => {
        const outcome = await attemptWs(base, { cookie: alice.cookie }, 300);
        expect(outcome.kind).toBe('accepted');
      }, WAIT);
    });
  });

  describe('typing', () => {
    it('announces typing once per user and room however many sockets the user types on, and again after the throttle', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const room = await createRoom(alice);
      await join(bob, room.id);
      const laptop = await connect(alice);
      const phone = await connect(alice);
      const watcher = await connect(bob);
      for (const socket of [laptop, phone]) {
        socket.send({ type: 'typing', roomId: room.id });
        socket.send({ type: 'ping' });
        await socket.waitFor(isPong);
      }
      // A message after the typing frames is the barrier: bob has whatever typing was announced before it.
      const marker = await sendHttp(alice, room.id, 'barrier');
      await watcher.waitFor(isMessage(room.id, (m) => m.id === marker.id));
      expect(watcher.received(isTyping(room.id))).toHaveLength(1);

      t.clock.advance(2_000);
      phone.send({ type: 'typing', roomId: room.id });
      await watcher.waitFor(isTyping(room.id), { since: watcher.frames.findIndex(isMessage(room.id)) + 1 });
      expect(watcher.received(isTyping(room.id))).toHaveLength(2);
    });
  });
});

describe.each(DIALECTS)('sockets at shutdown on %s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('closes the socket with 1001 and stores no message its client sends after the close frame', async () => {
    t = await startTestApp(dialect);
    const app = t.app;
    const base = await listenOnLoopback(app);
    const alice = await signUp(app);
    const room = await apiClient(() => app).createRoom(alice);
    const socket = await connectWs(base, { cookie: alice.cookie });
    ignoreCloseFrame(socket);
    const refusedFrames = async () => {
      const families = parsePrometheus((await app.inject({ method: 'GET', url: '/metrics' })).body);
      return families.has('securechat_websocket_frames_refused_total') ? value(families, 'securechat_websocket_frames_refused_total') : 0;
    };
    const refusedBefore = await refusedFrames();
    const stored = async () => (await t!.database.db.selectFrom('messages').select('client_id').where('room_id', '=', room.id).execute()).map((row) => row.client_id);

    // The gateway's part of a shutdown (the app's preClose hook), with the app still answering.
    const closing = t.services.gateway.close();
    const clientId = randomUUID();
    socket.send({ type: 'send', roomId: room.id, body: 'sent after the shutdown began', clientId });

    // Either the frame is stored (handled after the close frame) or the server counts it as refused.
    await vi.waitFor(async () => {
      expect((await stored()).includes(clientId) || (await refusedFrames()) > refusedBefore).toBe(true);
    }, WAIT);
    expect(await stored()).not.toContain(clientId);
    // The client never answered the close frame: the server cut the connection itself.
    expect((await socket.waitForClose()).code).toBe(1001);
    await closing;
  });
});
