/**
 * Rate limits answer 429 with Retry-After: sign-in per IP and per account and IP (growing
 * delays after failures; sign-in-throttle.test.ts has the rest), registration per IP,
 * sends per user, file uploads per user, frames per connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { as, signUp, startTestApp, TEST_PASSWORD, uniqueName, type TestApp } from '../support/app.js';
import { postFile } from '../support/files.js';
import { connectWs } from '../support/ws-client.js';

describe('rate limits', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const login = (app: TestApp['app'], username: string, password: string, ip = '10.0.0.1') =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip });

  it('limits sign-in attempts per IP and says when to retry', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_LOGIN_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i += 1) expect((await login(t.app, uniqueName(), 'wrong password')).statusCode).toBe(401);
    const limited = await login(t.app, uniqueName(), 'wrong password');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(t.app, uniqueName(), 'wrong password', '10.0.0.2')).statusCode).toBe(401);
    t.clock.advance(61_000);
    expect((await login(t.app, uniqueName(), 'wrong password')).statusCode).toBe(401);
  });

  it('slows an account down from an address after repeated failures, with growing delays, and a success clears it', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5' });
    const session = await signUp(t.app);
    const name = session.user.username;
    // Five free failures from one address (the account and the address are what is throttled)…
    for (let i = 0; i < 5; i += 1) expect((await login(t.app, name, 'wrong password', '10.1.0.1')).statusCode).toBe(401);
    // …then even the right password from there must wait 1 s, then 2 s after the next failure.
    const first = await login(t.app, name, TEST_PASSWORD, '10.1.0.1');
    expect(first.statusCode).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    t.clock.advance(1_000);
    expect((await login(t.app, name, 'wrong again', '10.1.0.1')).statusCode).toBe(401);
    const second = await login(t.app, name, TEST_PASSWORD, '10.1.0.1');
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('2');
    t.clock.advance(2_000);
    expect((await login(t.app, name, TEST_PASSWORD, '10.1.0.1')).statusCode).toBe(200);
    expect((await login(t.app, name, 'one slip', '10.1.0.1')).statusCode).toBe(401);
    expect((await login(t.app, name, TEST_PASSWORD, '10.1.0.1')).statusCode).toBe(200);
  });

  it('limits registrations per IP', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_REGISTER_PER_HOUR: '2' });
    const register = (name: string) =>
      t!.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        remoteAddress: '10.3.0.1',
        payload: { username: name, email: `${name}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
      });
    expect((await register(uniqueName())).statusCode).toBe(201);
    expect((await register(uniqueName())).statusCode).toBe(201);
    const limited = await register(uniqueName());
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('limits messages per user across HTTP and the socket', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_MESSAGES_PER_MINUTE: '3' });
    const alice = await signUp(t.app);
    const rooms = (await t.app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(alice) })).json();
    const roomId = rooms[0].id as string;
    const send = (i: number) =>
      t!.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(alice), payload: { body: `m${i}`, clientId: `c${i}` } });
    for (let i = 0; i < 3; i += 1) expect((await send(i)).statusCode).toBe(201);
    const limited = await send(3);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();

    const client = await connectWs(await t.app.listen({ host: '127.0.0.1', port: 0 }), { cookie: alice.cookie });
    client.send({ type: 'send', roomId, body: 'over the limit', clientId: 'ws-1' });
    const error = await client.waitFor((frame) => frame.type === 'error' && frame.clientId === 'ws-1');
    expect(error).toMatchObject({ error: { code: 'rate_limited' } });
    await client.close();
  });

  it('limits file uploads per user, keeping nothing of a refused one', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_UPLOADS_PER_MINUTE: '2' });
    const [alice, bob] = [await signUp(t.app), await signUp(t.app)];
    const generalOf = async (session: typeof alice) => (await t!.app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(session) })).json()[0].id as string;
    const roomId = await generalOf(alice);
    const upload = (session: typeof alice) => postFile(t!.app, session, roomId, { name: 'note.txt', data: Buffer.from('a note') });
    for (let i = 0; i < 2; i += 1) expect((await upload(alice)).statusCode).toBe(201);
    const limited = await upload(alice);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await t.database.db.selectFrom('files').select('id').execute()).toHaveLength(2);
    // Per user: bob has his own budget; alice's comes back with the next window.
    expect((await upload(bob)).statusCode).toBe(201);
    t.clock.advance(61_000);
    expect((await upload(alice)).statusCode).toBe(201);
  });

  it('limits frames per connection without closing it', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_FRAMES_PER_MINUTE: '5' });
    const alice = await signUp(t.app);
    const client = await connectWs(await t.app.listen({ host: '127.0.0.1', port: 0 }), { cookie: alice.cookie });
    for (let i = 0; i < 6; i += 1) client.send({ type: 'ping' });
    const error = await client.waitFor((frame) => frame.type === 'error');
    expect(error).toMatchObject({ error: { code: 'rate_limited' } });
    expect(client.frames.filter((frame) => frame.type === 'pong')).toHaveLength(5);
    await client.close();
  });
});
