/**
 * Accounts and sessions through HTTP (the Auth part of api.md), on SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { as, cookieFrom, logIn, signUp, TEST_PASSWORD, uniqueName, useTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';

// Made by Werkzeug: generate_password_hash('correct horse battery staple', method='pbkdf2:sha256:1000')
const WERKZEUG_PBKDF2 =
  'pbkdf2:sha256:1000$kZFMZPFCUelrtJGJ$310f11a3124f35f835e3506e95469a3746f047c8883e27e2d07119c0cf7b0e95';

describe.each(DIALECTS)('auth on %s', (dialect) => {
  const t = useTestApp(dialect);

  const register = (payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: payload as object, headers });
  const validRegistration = (username = uniqueName()) => ({
    username,
    email: `${username}@example.com`,
    password: TEST_PASSWORD,
    confirmPassword: TEST_PASSWORD,
  });
  const countUsers = async () => Number((await t.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('register', () => {
    it('creates the account and answers 201 with the public user', async () => {
      const username = uniqueName('Reg');
      const response = await register(validRegistration(username));
      expect(response.statusCode).toBe(201);
      const { user } = response.json();
      expect(user).toEqual({ id: expect.any(String), username, createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
      expect(user).not.toHaveProperty('email');
    });

    it('adds every new user to General, created on first need', async () => {
      const first = await signUp(t.app);
      const second = await signUp(t.app);
      const general = await t.database.db.selectFrom('rooms').selectAll().where('name_key', '=', 'general').execute();
      expect(general).toHaveLength(1);
      const members = await t.database.db
        .selectFrom('room_members')
        .select('user_id')
        .where('room_id', '=', general[0]!.id)
        .execute();
      expect(members.map((m) => m.user_id)).toEqual(expect.arrayContaining([first.user.id, second.user.id]));
    });

    const rejections: Array<[string, (base: ReturnType<typeof validRegistration>) => unknown, number, string, string | undefined, RegExp]> = [
      ['a short username', (b) => ({ ...b, username: 'ab' }), 400, 'validation_failed', 'username', /3 to 32 characters/],
      ['a long username', (b) => ({ ...b, username: 'a'.repeat(33) }), 400, 'validation_failed', 'username', /3 to 32 characters/],
      ['a username with spaces', (b) => ({ ...b, username: 'bad name' }), 400, 'validation_failed', 'username', /letters, digits/],
      ['an invalid email', (b) => ({ ...b, email: 'not-an-email' }), 400, 'validation_failed', 'email', /valid email/],
      ['a short password', (b) => ({ ...b, password: 'short', confirmPassword: 'short' }), 400, 'validation_failed', 'password', /at least 8 characters/],
      ['a too-long password', (b) => ({ ...b, password: 'x'.repeat(129), confirmPassword: 'x'.repeat(129) }), 400, 'validation_failed', 'password', /at most 128/],
      ['a common password', (b) => ({ ...b, password: 'password123', confirmPassword: 'password123' }), 400, 'validation_failed', 'password', /most common/],
      ['a common password deep in the list', (b) => ({ ...b, password: 'abracadabra', confirmPassword: 'abracadabra' }), 400, 'validation_failed', 'password', /most common/],
      ['the username as password, in other case', (b) => ({ ...b, password: b.username.toUpperCase(), confirmPassword: b.username.toUpperCase() }), 400, 'validation_failed', 'password', /username, your email address or "SecureChat"/],
      ['the email as password', (b) => ({ ...b, password: b.email, confirmPassword: b.email }), 400, 'validation_failed', 'password', /username, your email address/],
      ['the site name as password', (b) => ({ ...b, password: 'SecureChat', confirmPassword: 'SecureChat' }), 400, 'validation_failed', 'password', /"SecureChat"/],
      ['the site name with a suffix', (b) => ({ ...b, password: 'securechat2024!', confirmPassword: 'securechat2024!' }), 400, 'validation_failed', 'password', /"SecureChat"/],
      ['the username with a common word', (b) => ({ ...b, password: `${b.username}password`, confirmPassword: `${b.username}password` }), 400, 'validation_failed', 'password', /username/],
      ['mismatched passwords', (b) => ({ ...b, confirmPassword: `${b.password}!` }), 400, 'validation_failed', 'confirmPassword', /do not match/],
      ['a missing field', (b) => ({ username: b.username, email: b.email, password: b.password }), 400, 'validation_failed', 'confirmPassword', /required/],
      ['a wrong type', (b) => ({ ...b, username: 12345 }), 400, 'validation_failed', 'username', /must be a string/],
    ];
    it.each(rejections)('rejects %s with a clear message and creates nothing', async (_name, mutate, status, code, field, message) => {
      const before = await countUsers();
      const response = await register(mutate(validRegistration()));
      expect(response.statusCode).toBe(status);
      const { error } = response.json();
      expect(error.code).toBe(code);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
      expect(await countUsers()).toBe(before);
    });

    it('rejects a username taken in another case with 409', async () => {
      const username = uniqueName('Case');
      expect((await register(validRegistration(username))).statusCode).toBe(201);
      const response = await register({ ...validRegistration(), username: username.toUpperCase() });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'username_taken', field: 'username' });
    });

    it('rejects an email already registered, compared case-insensitively, with 409', async () => {
      const first = validRegistration();
      expect((await register(first)).statusCode).toBe(201);
      const response = await register({ ...validRegistration(), email: `  ${first.email.toUpperCase()} ` });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'email_taken', field: 'email' });
    });

    it('answers malformed JSON with 400 and another content type with 415', async () => {
      const badJson = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: '{"username": ',
      });
      expect(badJson.statusCode).toBe(400);
      expect(badJson.json().error.code).toBe('invalid_json');
      const text = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      expect(text.statusCode).toBe(415);
      expect(text.json().error.code).toBe('unsupported_media_type');
    });
  });

  describe('login', () => {
    it('signs in case-insensitively and sets an HttpOnly, SameSite=Lax browser-session cookie', async () => {
      const username = uniqueName('Login');
      await register(validRegistration(username));
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: username.toLowerCase(), password: TEST_PASSWORD },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ user: expect.objectContaining({ username }), csrfToken: expect.any(String), limits: { messageMaxLength: 4000 } });
      const setCookie = String(response.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(setCookie).not.toMatch(/Max-Age|Expires/);
      expect(setCookie).not.toMatch(/Secure/);
    });

    it('makes a persistent cookie with remember me', async () => {
      const username = uniqueName();
      await register(validRegistration(username));
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: TEST_PASSWORD, rememberMe: true },
      });
      expect(String(response.headers['set-cookie'])).toMatch(`Max-Age=${30 * 24 * 60 * 60}`);
    });

    it('gives the same 401 for an unknown user and a wrong password', async () => {
      const username = uniqueName();
      await register(validRegistration(username));
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'not the password' } });
      const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: uniqueName('ghost'), password: 'whatever123' } });
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.json()).toEqual(unknown.json());
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });

    it('issues a new session token at every login and ends the one it replaces', async () => {
      const session = await signUp(t.app);
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { cookie: session.cookie },
        payload: { username: session.user.username, password: TEST_PASSWORD },
      });
      expect(cookieFrom(again)).not.toBe(session.cookie);
      const old = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: session.cookie } });
      expect(old.statusCode).toBe(401);
    });

    it('verifies a Werkzeug pbkdf2 hash and upgrades it to scrypt', async () => {
      const session = await signUp(t.app);
      await t.database.db.updateTable('users').set({ password_hash: WERKZEUG_PBKDF2 }).where('id', '=', session.user.id).execute();
      await logIn(t.app, session.user.username, TEST_PASSWORD);
      const row = await t.database.db.selectFrom('users').select('password_hash').where('id', '=', session.user.id).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^scrypt:1024:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$/);
      await logIn(t.app, session.user.username, TEST_PASSWORD);
    });
  });

  describe('session, logout and CSRF', () => {
    it('shows the current session with its CSRF token, and 401 without a cookie', async () => {
      const session = await signUp(t.app);
      const current = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: session.cookie } });
      expect(current.statusCode).toBe(200);
      expect(current.json()).toEqual({ user: session.user, csrfToken: session.csrfToken, limits: { messageMaxLength: 4000 } });
      const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('auth_required');
    });

    it('refuses a cookie whose signature was tampered with', async () => {
      const session = await signUp(t.app);
      const last = session.cookie.at(-1);
      const tampered = `${session.cookie.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: tampered } });
      expect(response.statusCode).toBe(401);
    });

    it('requires the CSRF token on cookie-authenticated state changes', async () => {
      const session = await signUp(t.app);
      const missing = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: session.cookie } });
      expect(missing.statusCode).toBe(403);
      expect(missing.json().error.code).toBe('csrf_failed');
      const other = await signUp(t.app);
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { cookie: session.cookie, 'x-csrf-token': other.csrfToken },
      });
      expect(wrong.statusCode).toBe(403);
      const still = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: session.cookie } });
      expect(still.statusCode).toBe(200);
    });

    it('ends the session on the server at logout, not just the cookie', async () => {
      const session = await signUp(t.app);
      const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(session) });
      expect(logout.statusCode).toBe(204);
      const replay = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: session.cookie } });
      expect(replay.statusCode).toBe(401);
    });

    it('expires a browser session after a day and any session after the idle period', async () => {
      const browser = await signUp(t.app);
      const remembered = await logIn(t.app, browser.user.username, TEST_PASSWORD, { rememberMe: true });
      t.clock.advance(25 * 60 * 60 * 1000);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: browser.cookie } })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: remembered.cookie } })).statusCode).toBe(200);
      t.clock.advance(73 * 60 * 60 * 1000);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: remembered.cookie } })).statusCode).toBe(401);
    });
  });

  describe('sessions and password', () => {
    it('lists the caller’s sessions and ends another one', async () => {
      const first = await signUp(t.app);
      const second = await logIn(t.app, first.user.username, TEST_PASSWORD, { rememberMe: true });
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: first.cookie } });
      expect(list.statusCode).toBe(200);
      const sessions = list.json() as Array<{ id: string; current: boolean; rememberMe: boolean }>;
      expect(sessions).toHaveLength(2);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);
      const other = sessions.find((s) => !s.current)!;
      expect(other.rememberMe).toBe(true);
      const end = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${other.id}`, headers: as(first) });
      expect(end.statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: second.cookie } })).statusCode).toBe(401);
    });

    it('accepts a long passphrase that merely mentions the username', async () => {
      const base = validRegistration();
      const password = `${base.username} rides a purple tandem`;
      expect((await register({ ...base, password, confirmPassword: password })).statusCode).toBe(201);
    });

    it('does not let a user end someone else’s session', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const bobSessions = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: bob.cookie } })).json();
      const response = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${bobSessions[0].id}`, headers: as(alice) });
      expect(response.statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: bob.cookie } })).statusCode).toBe(200);
    });

    it('changes the password and ends the other sessions', async () => {
      const current = await signUp(t.app);
      const other = await logIn(t.app, current.user.username, TEST_PASSWORD);
      const newPassword = 'a brand new passphrase';
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: as(current),
        payload: { currentPassword: 'not it at all', newPassword },
      });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().error.field).toBe('currentPassword');
      const weak = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: as(current),
        payload: { currentPassword: TEST_PASSWORD, newPassword: 'short' },
      });
      expect(weak.statusCode).toBe(400);
      expect(weak.json().error.field).toBe('newPassword');
      for (const guessable of [current.user.username, `${current.user.username.toLowerCase()}@example.com`, 'SecureChat!', 'iloveyou2']) {
        const refused = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/password',
          headers: as(current),
          payload: { currentPassword: TEST_PASSWORD, newPassword: guessable },
        });
        expect(refused.statusCode, guessable).toBe(400);
        expect(refused.json().error, guessable).toMatchObject({ code: 'validation_failed', field: 'newPassword' });
      }
      const changed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: as(current),
        payload: { currentPassword: TEST_PASSWORD, newPassword },
      });
      expect(changed.statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: current.cookie } })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: other.cookie } })).statusCode).toBe(401);
      await expect(logIn(t.app, current.user.username, TEST_PASSWORD)).rejects.toThrow(/401/);
      await logIn(t.app, current.user.username, newPassword);
    });

    it('shows the owner their email, stored only as ciphertext', async () => {
      const session = await signUp(t.app);
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: session.cookie } });
      expect(me.json()).toMatchObject({ id: session.user.id, email: `${session.user.username.toLowerCase()}@example.com` });
      const row = await t.database.db.selectFrom('users').selectAll().where('id', '=', session.user.id).executeTakeFirstOrThrow();
      expect(row.email_ciphertext).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
      expect(JSON.stringify(row)).not.toContain('@example.com');
    });
  });

  it.each([
    ['GET', '/api/v1/me'],
    ['GET', '/api/v1/auth/sessions'],
    ['DELETE', '/api/v1/auth/sessions/some-id'],
    ['POST', '/api/v1/auth/logout'],
    ['POST', '/api/v1/auth/password'],
  ] as const)('answers %s %s with 401 when signed out', async (method, url) => {
    const response = await t.app.inject({ method, url, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('auth_required');
  });

  it('reports liveness and readiness', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });
});
