/**
 * Transport and browser-facing controls: the Content-Security-Policy and usual headers,
 * FORCE_HTTPS (redirect, HSTS, Secure cookies), TRUST_PROXY (X-Forwarded-* believed only
 * when set, and from a trusted peer), and request size limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { as, signUp, startTestApp, TEST_PASSWORD, uniqueName, type TestApp } from '../support/app.js';
import { injectClient, type HttpClient } from '../support/http.js';

/** Requests to the app as if through a TLS proxy (X-Forwarded-Proto: https). */
function httpsApp(app: FastifyInstance): HttpClient {
  const inner = injectClient(app);
  return {
    request: (method, url, options = {}) =>
      inner.request(method, url, { ...options, headers: { 'x-forwarded-proto': 'https', host: 'chat.example.com', ...options.headers } }),
  };
}

describe('transport security', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('sends a strict CSP with no inline script or style, and the usual headers', async () => {
    t = await startTestApp('sqlite');
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });

  it('with FORCE_HTTPS redirects plain HTTP, sends HSTS and marks the cookie Secure', async () => {
    t = await startTestApp('sqlite', { FORCE_HTTPS: 'true', TRUST_PROXY: 'true' });
    const plain = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { host: 'chat.example.com' } });
    expect(plain.statusCode).toBe(308);
    expect(plain.headers.location).toBe('https://chat.example.com/api/v1/auth/session');
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    const https = { 'x-forwarded-proto': 'https', host: 'chat.example.com' };
    const username = uniqueName();
    const registered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: https,
      payload: { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
    });
    expect(registered.statusCode).toBe(201);
    expect(String(registered.headers['strict-transport-security'])).toMatch(/max-age=31536000; includeSubDomains/);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: https, payload: { username, password: TEST_PASSWORD } });
    expect(login.statusCode).toBe(200);
    expect(String(login.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('with FORCE_HTTPS names the session cookie __Host-…, Secure, Path=/, no Domain, and reads only that name', async () => {
    t = await startTestApp('sqlite', { FORCE_HTTPS: 'true', TRUST_PROXY: '1' });
    const https = { 'x-forwarded-proto': 'https', host: 'chat.example.com' };
    const session = await signUp(httpsApp(t.app));
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: https, payload: { username: session.user.username, password: TEST_PASSWORD } });
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-securechat_session=[^;]+;/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    const cookie = setCookie.split(';')[0]!;
    const read = (header: string) => t!.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { ...https, cookie: header } });
    expect((await read(cookie)).statusCode).toBe(200);
    // The same value under the old name is not a session: one name for every reader.
    expect((await read(cookie.replace(/^__Host-/, ''))).statusCode).toBe(401);
    const docs = (await t.app.inject({ method: 'GET', url: '/api/docs/json', headers: https })).json();
    expect(docs.components.securitySchemes.session.name).toBe('__Host-securechat_session');

    const csrfToken = (await read(cookie)).json().csrfToken as string;
    const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...https, cookie, 'x-csrf-token': csrfToken } });
    expect(logout.statusCode).toBe(204);
    // Deleting a __Host- cookie needs the same attributes as setting it.
    expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-securechat_session=;.*Path=\/.*Secure/);
  });

  it('marks every API answer no-store, and logout clears the site data', async () => {
    t = await startTestApp('sqlite');
    const session = await signUp(t.app);
    const answers = await Promise.all([
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: session.user.username, password: TEST_PASSWORD } }),
      t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: as(session) }),
      t.app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(session) }),
      t.app.inject({ method: 'GET', url: '/api/v1/me', headers: as(session) }),
      t.app.inject({ method: 'GET', url: '/api/v1/rooms' }),
      t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' }),
      // The router decodes escapes: this is GET /api/v1/me.
      t.app.inject({ method: 'GET', url: '/%61pi/v1/me', headers: as(session) }),
    ]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 401, 404, 200]);
    for (const answer of answers) expect(answer.headers['cache-control']).toBe('no-store');

    const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(session) });
    expect(logout.statusCode).toBe(204);
    expect(logout.headers['clear-site-data']).toBe('"cookies", "storage"');
    expect(logout.headers['cache-control']).toBe('no-store');
  });

  it('believes X-Forwarded-For only with TRUST_PROXY', async () => {
    for (const trustProxy of ['false', 'true']) {
      t = await startTestApp('sqlite', { TRUST_PROXY: trustProxy });
      const session = await signUp(t.app);
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.9.9.9',
        headers: { 'x-forwarded-for': '203.0.113.7' },
        payload: { username: session.user.username, password: TEST_PASSWORD },
      });
      const sessions = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: as(session) })).json() as Array<{ ip: string }>;
      expect(sessions.map((s) => s.ip)).toContain(trustProxy === 'true' ? '203.0.113.7' : '10.9.9.9');
      expect(sessions.map((s) => s.ip)).not.toContain(trustProxy === 'true' ? '10.9.9.9' : '203.0.113.7');
      await t.close();
      t = undefined;
    }
  });

  /** The address a sign-in from `remoteAddress` with this X-Forwarded-For is recorded under. */
  const seen = async (trustProxy: string, remoteAddress: string, forwardedFor: string) => {
    t = await startTestApp('sqlite', { TRUST_PROXY: trustProxy });
    const session = await signUp(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor },
      payload: { username: session.user.username, password: TEST_PASSWORD },
    });
    const sessions = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: as(session) })).json() as Array<{ ip: string; current: boolean }>;
    await t.close();
    t = undefined;
    return sessions.filter((s) => !s.current).map((s) => s.ip);
  };

  it('with TRUST_PROXY takes the address the trusted proxies saw, not the one a client wrote first', async () => {
    // The client wrote 6.6.6.6; the proxy at 10.9.9.9 appended the address it saw.
    expect(await seen('true', '10.9.9.9', '6.6.6.6, 203.0.113.7')).toEqual(['203.0.113.7']);
    expect(await seen('1', '10.9.9.9', '6.6.6.6, 203.0.113.7')).toEqual(['203.0.113.7']);
    expect(await seen('2', '10.9.9.9', '6.6.6.6, 203.0.113.7, 10.0.0.2')).toEqual(['203.0.113.7']);
    expect(await seen('10.9.9.9, 10.0.0.0/8', '10.9.9.9', '6.6.6.6, 203.0.113.7, 10.0.0.2')).toEqual(['203.0.113.7']);
    // A peer that is not a listed proxy is the client itself, whatever it writes.
    expect(await seen('10.0.0.0/8', '192.0.2.1', '6.6.6.6')).toEqual(['192.0.2.1']);
  });

  it('with a TRUST_PROXY count believes X-Forwarded-* only from a private or loopback peer', async () => {
    // Proxies sit at private addresses; a client reaching the instance directly does not.
    for (const trustProxy of ['true', '1', '2']) {
      expect(await seen(trustProxy, '203.0.113.50', '6.6.6.6'), trustProxy).toEqual(['203.0.113.50']);
      expect(await seen(trustProxy, '::ffff:203.0.113.50', '6.6.6.6'), trustProxy).toEqual(['::ffff:203.0.113.50']);
      expect(await seen(trustProxy, '2001:db8::5', '6.6.6.6, 7.7.7.7'), trustProxy).toEqual(['2001:db8::5']);
    }
    // loopback, linklocal and uniquelocal peers (IPv4-mapped too) are proxies.
    for (const peer of ['127.0.0.1', '::1', '169.254.1.1', 'fe80::1', '172.16.0.1', '192.168.1.1', 'fd00::1', '::ffff:10.1.2.3']) {
      expect(await seen('1', peer, '6.6.6.6, 203.0.113.7'), peer).toEqual(['203.0.113.7']);
    }
    // The second hop of a count may be public (a CDN in front of nginx).
    expect(await seen('2', '10.0.0.2', '6.6.6.6, 203.0.113.7, 198.51.100.9')).toEqual(['203.0.113.7']);

    // Nor is a direct client believed about the scheme: it is redirected, not taken for HTTPS.
    t = await startTestApp('sqlite', { FORCE_HTTPS: 'true', TRUST_PROXY: '1', PUBLIC_URL: 'https://chat.example.com' });
    const direct = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', remoteAddress: '203.0.113.50', headers: { 'x-forwarded-proto': 'https' } });
    expect(direct.statusCode).toBe(308);
    const proxied = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-proto': 'https' } });
    expect(proxied.statusCode).toBe(401);
  });

  it('with FORCE_HTTPS and PUBLIC_URL redirects to PUBLIC_URL, not to the Host a request names', async () => {
    t = await startTestApp('sqlite', { FORCE_HTTPS: 'true', PUBLIC_URL: 'https://chat.example.com' });
    const plain = await t.app.inject({ method: 'GET', url: '/chat?x=1', headers: { host: 'evil.example' } });
    expect(plain.statusCode).toBe(308);
    expect(plain.headers.location).toBe('https://chat.example.com/chat?x=1');
  });

  it('refuses a request body over 64 KiB with 413 and a message longer than the limit with 400', async () => {
    t = await startTestApp('sqlite');
    const session = await signUp(t.app);
    const roomId = (await t.app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(session) })).json()[0].id;
    const huge = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${roomId}/messages`,
      headers: as(session),
      payload: { body: 'x'.repeat(70 * 1024), clientId: 'big' },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');
    const long = await t.app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${roomId}/messages`,
      headers: as(session),
      payload: { body: 'x'.repeat(4001), clientId: 'long' },
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'validation_failed', field: 'body' });
    const page = await t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages`, headers: as(session) });
    expect(page.json().messages).toEqual([]);
  });
});
