/**
 * The request log never holds a secret that travelled in a URL: invite codes (API and
 * client page, also inside `?next=`), `?token=` and webhook secrets are `[redacted]`; and
 * a client that hangs up mid-upload is logged as that, not as a database outage.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { loadConfig } from '../../src/server/config.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { redactUrl } from '../../src/server/http/log-redaction.js';
import type { FastifyInstance } from 'fastify';
import { listenOnLoopback, prepareDatabase, testServices } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createInvite, createRoom, signUp } from '../support/factories.js';
import { as } from '../support/http.js';

describe('the request log', () => {
  let lines = '';
  let app: FastifyInstance;
  let database: DatabaseHandle;
  let testDatabase: TestDatabase;

  beforeAll(async () => {
    testDatabase = await createTestDatabase('sqlite');
    const config = { ...loadConfig({ LOG_LEVEL: 'info' }), database: testDatabase.target };
    database = openDatabase(testDatabase.target);
    const keyring = createKeyring(generateFernetKey());
    await prepareDatabase(database, keyring);
    const sink = new Writable({ write: (chunk, _encoding, done) => void ((lines += String(chunk)), done()) });
    app = await buildApp(testServices({ config, database, keyring, log: createLogger(config, sink) }));
  });
  afterAll(async () => {
    await app.close();
    await database.close();
    await testDatabase.drop();
  });

  it('logs the requests with their secrets redacted', async () => {
    const owner = await signUp(app);
    const guest = await signUp(app);
    const room = await createRoom(app, owner, { isPrivate: true });
    const { code } = await createInvite(app, owner, room.id);
    lines = '';

    const requests = [
      { method: 'GET' as const, url: `/api/v1/invites/${code}` },
      { method: 'POST' as const, url: `/api/v1/invites/${code}/accept` },
      { method: 'GET' as const, url: `/invite/${code}` },
      { method: 'GET' as const, url: `/login?next=${encodeURIComponent(`/invite/${code}`)}` },
      { method: 'GET' as const, url: '/api/v1/ws?token=tok_SECRET_API_TOKEN_123' },
      { method: 'POST' as const, url: '/hooks/whk_SECRET_WEBHOOK_456' },
      // What someone searched for is as private as the messages it finds.
      { method: 'GET' as const, url: '/api/v1/search?q=payroll%20layoffs&limit=5' },
      // Percent-encoded, the router still reads `invites` and the code.
      { method: 'GET' as const, url: `/api/v1/%69nvites/${code}` },
      { method: 'POST' as const, url: `/api/v1/%69nvites/${encodeURIComponent(code).replace(/./, (c) => `%${c.charCodeAt(0).toString(16)}`)}/accept` },
    ];
    const statuses: number[] = [];
    for (const request of requests) statuses.push((await app.inject({ ...request, headers: as(guest) })).statusCode);
    // The encoded accept reached the invite route (an unknown path would be 404).
    expect(statuses.at(-1)).toBe(200);

    const urls = lines
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { req?: { url: string } })
      .flatMap((entry) => (entry.req ? [entry.req.url] : []));
    expect(urls).toEqual([
      '/api/v1/invites/[redacted]',
      '/api/v1/invites/[redacted]/accept',
      '/invite/[redacted]',
      `/login?next=${encodeURIComponent('/invite/')}[redacted]`,
      '/api/v1/ws?token=[redacted]',
      '/hooks/[redacted]',
      '/api/v1/search?q=[redacted]&limit=5',
      '/api/v1/invites/[redacted]',
      '/api/v1/invites/[redacted]/accept',
    ]);
    for (const secret of [code, 'tok_SECRET_API_TOKEN_123', 'whk_SECRET_WEBHOOK_456', 'payroll', 'layoffs']) expect(lines).not.toContain(secret);
  });

  it('logs a client that hangs up mid-upload as an aborted request, not as a database outage', async () => {
    const port = Number(new URL(await listenOnLoopback(app)).port);
    lines = '';
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"username":');
    // The server has the request once it logs it; then the client goes.
    for (let i = 0; i < 250 && !lines.includes('incoming request'); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    // Its failure is the next line the request logs.
    for (let i = 0; i < 250 && lines.split('\n').filter(Boolean).length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));

    const entries = lines.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(entries.map((entry) => entry.msg)).toContain('request aborted by the client');
    expect(entries.map((entry) => entry.msg)).not.toContain('request failed: dependency unavailable');
    // Nothing at warn (40) or above: no one needs waking for a phone that went into a tunnel.
    expect(entries.filter((entry) => entry.level >= 40)).toEqual([]);
  });

  it('redacts encoded, doubled-slash and undecodable secret paths, and never throws', () => {
    expect(redactUrl('/api/v1/%69nvites/abc/accept')).toBe('/api/v1/invites/[redacted]/accept');
    expect(redactUrl('/API/V1/INVITES/abc')).toBe('/API/V1/INVITES/[redacted]');
    expect(redactUrl('/api/v1/invites%2Fabc')).toBe('/api/v1/invites/[redacted]');
    expect(redactUrl('//api//v1//invites//abc')).toBe('//api//v1//invites//[redacted]');
    expect(redactUrl('/%69nvite/abc')).toBe('/invite/[redacted]');
    expect(redactUrl('/%68ooks/abc')).toBe('/hooks/[redacted]');
    // Malformed or non-UTF-8 escapes: the segment after `invites/` is redacted all the same.
    expect(redactUrl('/api/v1/invites/ab%E0%A4c%zz/accept')).toBe('/api/v1/invites/[redacted]/accept');
    expect(redactUrl('/api/v1/%69nvites/%ff%fe')).toBe('/api/v1/invites/[redacted]');
    expect(redactUrl('/login?next=%2F%69nvite%2Fabc%')).toBe('/login?next=%2Finvite%2F[redacted]');
    expect(() => redactUrl('/%E0%A4%A/%/%%')).not.toThrow();
    expect(redactUrl('/%E0%A4%A/%/%%')).toBe('/%E0%A4%A/%/%%');
  });

  it('leaves URLs without secrets as they are', () => {
    expect(redactUrl('/api/v1/rooms/r1/messages?after=5&limit=50')).toBe('/api/v1/rooms/r1/messages?after=5&limit=50');
    expect(redactUrl('/login?next=%2Fchat%2Fr1')).toBe('/login?next=%2Fchat%2Fr1');
    expect(redactUrl('/api/v1/rooms/r1/invites/inv1')).toBe('/api/v1/rooms/r1/invites/inv1');
    expect(redactUrl('/x?Token=abc&code=def&limit=5')).toBe('/x?Token=[redacted]&code=[redacted]&limit=5');
  });
});
