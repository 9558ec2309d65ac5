/**
 * The WebSocket handshake: refused with 403 from any Origin but this site's (even with a
 * valid cookie), with 401 from this site without a live cookie; accepted otherwise.
 */
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, signUp, startTestApp, uniqueName, type Session, type TestApp } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import { WS_PATH } from '../../support/ws-client.js';

describe.each(DIALECTS)('the WebSocket handshake on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  /** A signed-in user (in no room but General), and one whose session was logged out. */
  let live: Session;
  let ended: Session;
  beforeAll(async () => {
    t = await startTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    live = await signUp(t.app, uniqueName('stranger'));
    ended = await signUp(t.app, uniqueName('ended'));
    const logout = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(ended) });
    if (logout.statusCode !== 204) throw new Error(`logout failed: ${logout.statusCode}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A raw handshake with exactly these headers (no Origin unless given). */
  function handshake(headers: Record<string, string>): Promise<number | 'open'> {
    return new Promise((resolve) => {
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${WS_PATH}`, { headers });
      socket.on('error', () => undefined);
      socket.once('open', () => {
        socket.terminate();
        resolve('open');
      });
      socket.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
    });
  }

  it.each([
    ['another site', 'https://evil.example'],
    ['the same host on another scheme', 'https://127.0.0.1'],
    ['a look-alike host', 'http://127.0.0.1.evil.example'],
    ['the opaque origin "null"', 'null'],
  ])('refuses an Origin of %s with 403, even with a valid cookie', async (_label, origin) => {
    const { cookie } = live;
    const port = new URL(base).port;
    const withPort = origin === 'null' ? origin : `${origin}:${port}`;
    expect(await handshake({ cookie, origin })).toBe(403);
    expect(await handshake({ cookie, origin: withPort })).toBe(403);
  });

  it('refuses a handshake with no Origin header at all, even with a valid cookie', async () => {
    expect(await handshake({ cookie: live.cookie })).toBe(403);
  });

  it('refuses a handshake from this site without a cookie (401), with a forged one, and with an ended one', async () => {
    expect(await handshake({ origin: base })).toBe(401);
    const { cookie } = live;
    expect(await handshake({ origin: base, cookie: `${cookie.slice(0, -2)}xx` })).toBe(401);
    expect(await handshake({ origin: base, cookie: ended.cookie })).toBe(401);
  });

  it('accepts this site with a live cookie (control)', async () => {
    expect(await handshake({ origin: base, cookie: live.cookie })).toBe('open');
  });
});
