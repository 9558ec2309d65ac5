/**
 * Bad input (issue 4): thousands of generated malformed requests to every endpoint and
 * malformed frames of every type, from a seeded PRNG (the seed is in the test names; the
 * same seed replays the same run). Kinds of damage: wrong types, missing and extra
 * fields, strings just above each limit and of 1 MB, invalid UTF-8 bytes, 10,000 levels
 * of nesting, non-JSON and prototype-polluting JSON, wrong and missing content types,
 * unknown and malformed ids (traversal, SQL injection, unicode, NUL, empty, over-long,
 * broken percent-encoding), bad numbers and arrays in query strings, missing or forged
 * credentials, and methods or paths that do not exist.
 *
 * The rules: never a 5xx; every answer that is not a 2xx is a 4xx in exactly the error
 * shape of api.md (`{"error": {"code", "message", "field"?}}`, Retry-After on 429); and
 * the database — every table's row count and a hash of its contents, taken after every
 * single request — is unchanged by every refused request. Cases that cannot be valid
 * (a wrong type, a missing required field, a string over its limit…) must be refused;
 * the rest (extra fields, hostile but legal text) may succeed.
 *
 * For the socket: every malformed frame gets exactly one `error` frame (a `ping` after
 * each one is the barrier), the socket stays open, and nothing is stored. Frames the
 * WebSocket protocol itself forbids (over the 64 KiB frame limit, invalid UTF-8 text)
 * close the socket with the RFC 6455 codes 1009 and 1007 instead.
 *
 * All violations are collected and reported together, grouped, with one exact example
 * request and answer each.
 */
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room, ServerFrame } from '../../src/shared/protocol.js';
import { as, signUp, startTestApp, TEST_PASSWORD, uniqueName, logIn, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { connectWs, WS_PATH, type WsClient } from '../support/ws-client.js';
import {
  apiRoutes,
  changedTables,
  createRandom,
  errorBodyProblem,
  refusalProblem,
  routeKey,
  snapshotDatabase,
  type DatabaseSnapshot,
  type Random,
} from './security-harness.js';

const SEED = 0x5ec0c4a7;
const SEED_TEXT = `0x${SEED.toString(16)}`;
const REQUESTS = 3_000;
/** Refused requests between two fingerprints of the database. */
const BATCH = 25;
const FRAMES = 600;
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------
// What every endpoint takes

type FieldType = 'string' | 'boolean' | 'integer';
interface Field {
  name: string;
  type: FieldType;
  required: boolean;
  /** Length limits of strings (after trimming where the server trims) and bounds of integers. */
  min?: number;
  max?: number;
  /** The server trims it before checking the length (so blank text is too short). */
  trimmed?: boolean;
  /** A name or address people see and compare: control and format characters are refused. */
  identifier?: boolean;
}

interface Endpoint {
  key: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template: `:name` segments are filled from `params`. */
  path: string;
  params?: Record<string, { max: number; valid(): string }>;
  /** Query fields (GET only). */
  query?: 'messages' | 'directory';
  /** JSON body fields; 'none' for endpoints that read no body; 'optional-object' when `{}` may be omitted. */
  body: Field[] | 'none';
  bodyOptional?: boolean;
  /** A valid body (fresh values each call). */
  validBody?(): Record<string, unknown>;
  auth: 'public' | 'user';
  /** The unmutated request is refused anyway (wrong password, unknown id): every case must be refused. */
  alwaysRefused?: boolean;
  /** Undoes a success that would spoil later cases (the fuzzer logged out, left its room…). */
  repair?(): Promise<void>;
}

const HOSTILE_TEXT = [
  "' OR '1'='1",
  '1; DROP TABLE messages; --',
  '" OR ""="',
  "') OR ('a'='a",
  '1 UNION SELECT password_hash FROM users--',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '${7*7}{{7*7}}',
  'a\u0000b',
  '\u0000',
  '\r\nSet-Cookie: x=y',
  '\u202Eevil\u202C',
  '\u200B\u200B\u200B',
  'Ａｄｍｉｎ',
  'e\u0301\u0301\u0301',
  '😀'.repeat(20),
  '\ud800',
  'null',
  'NaN',
  '%s%s%s%n',
  '\\',
  '%_%',
];

/** Characters that make a name look different from what it compares as (Cc and Cf). */
const CONTROL_CHARACTERS = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u200b', '\u200e', '\u202e', '\u2066', '\ufeff'];

const MALFORMED_IDS = [
  '',
  '%00',
  'a%00b',
  '%0d%0aSet-Cookie:%20x=y',
  '%09',
  '%20',
  '+',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '%252e%252e%252f',
  encodeURIComponent("' OR '1'='1"),
  encodeURIComponent('1; DROP TABLE rooms; --'),
  encodeURIComponent('" OR ""="'),
  encodeURIComponent('😀'),
  encodeURIComponent('\u202Eabc'),
  encodeURIComponent('Ａｄｍｉｎ'),
  encodeURIComponent('<script>alert(1)</script>'),
  '%zz',
  '%',
  '%E0%A4%A',
  '%C0%AE',
  '%FF',
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(1_000),
  'x'.repeat(10_000),
  '00000000-0000-0000-0000-000000000000',
  'null',
  'undefined',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
];

const MESSAGES_QUERIES_REFUSED = [
  'limit=-1',
  'limit=0',
  'limit=201',
  'limit=1.5',
  'limit=abc',
  'limit=1e309',
  'limit=',
  'limit=NaN',
  'limit=Infinity',
  'limit=1&limit=2',
  'limit=%00',
  'before=1e309',
  'before=-1',
  'before=abc',
  'before=1.5',
  'before=9007199254740992',
  'before=',
  'before=1&before=2',
  'after=abc',
  'after=-1',
  'after=1e309',
  'after=1&after=2',
  'after=',
  'after=0x',
  'after=%00',
  'after=99999999999999999999',
  'before=5&after=1',
];
const MESSAGES_QUERIES_ANY = ['limit=0x10', 'foo=bar', 'after=0', 'limit=1', '__proto__=1', 'constructor=x', 'before=1'];
const DIRECTORY_QUERIES_REFUSED = [`q=${'x'.repeat(65)}`, `q=${'x'.repeat(10_000)}`, 'q=a&q=b'];
const DIRECTORY_QUERIES_ANY = ['q=', 'q=%25', 'q=_', 'q=%5C', 'q=%00', 'q=a%00b', ...HOSTILE_TEXT.map((s) => `q=${encodeLoosely(s)}`)];

/** encodeURIComponent, except that a lone surrogate (which it refuses) becomes its raw WTF-8 bytes. */
function encodeLoosely(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

const WRONG_VALUES: Record<FieldType, unknown[]> = {
  string: [123, -1, 0, 1.5, true, false, null, [], ['a'], {}, { $ne: null }, { toString: 'x' }, [[[]]]],
  boolean: ['true', 1, 0, null, 'yes', [], {}, [true]],
  integer: ['1', 1.5, null, true, [], {}, [1], '0x10', 'NaN'],
};

const NOT_JSON = [
  '{',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  'NaN',
  '{"a":1}{"b":2}',
  '\u0000',
  'undefined',
  '{"a":"\\x41"}',
  '/* comment */ {}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":1e}',
  '[1,2',
  '"unterminated',
  '{"a" "b"}',
  '{\u0000"a":1}',
];
const NON_OBJECT_JSON = ['null', '1', '-0', '"string"', '[]', 'true', '[{}]', '1e309'];
const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/html',
  'application/json-patch+json',
  'application/jsonx',
  'application/octet-stream',
  'garbage',
  ';;;',
];

// ---------------------------------------------------------------------------------------
// Cases

interface Case {
  endpoint: string;
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  mustRefuse: boolean;
}

interface Violation {
  group: string;
  example: string;
}

function describeCase(c: Case, response?: LightMyRequestResponse): string {
  const body =
    c.payload === undefined
      ? ''
      : ` body(${c.payload.length} bytes)=${(Buffer.isBuffer(c.payload) ? c.payload.toString('latin1') : c.payload).slice(0, 160)}`;
  const type = c.headers['content-type'] === undefined ? '' : ` content-type=${c.headers['content-type']}`;
  const answer = response ? ` → ${response.statusCode} ${response.body.slice(0, 240)}` : '';
  return visible(`[${c.kind}] ${c.method} ${c.url.slice(0, 160)}${type}${body}${answer}`);
}

describe.each(DIALECTS)('fuzzing on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let fuzzer: Session;
  let ended: Session;
  let other: Session;
  let room: Room; // public, the fuzzer owns it
  let privateRoom: Room; // private, the fuzzer owns it
  let leaveRoom: Room; // public, someone else's; the fuzzer is a member
  let othersPrivate: Room; // private, someone else's
  let othersPublic: Room; // public, someone else's; the fuzzer is not in it
  let decoyName: string;
  const sockets: WsClient[] = [];

  let endpoints: Endpoint[];

  beforeAll(async () => {
    t = await startTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    fuzzer = await signUp(t.app, uniqueName('fuzzer'));
    other = await signUp(t.app, uniqueName('other'));
    ended = await signUp(t.app, uniqueName('ended'));
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(ended) });
    decoyName = (await signUp(t.app, uniqueName('decoy'))).user.username;
    const create = async (owner: Session, fields: object) =>
      (await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(owner), payload: { name: uniqueName('Fuzz'), ...fields } })).json()
        .room as Room;
    room = await create(fuzzer, {});
    privateRoom = await create(fuzzer, { isPrivate: true });
    leaveRoom = await create(other, {});
    othersPrivate = await create(other, { isPrivate: true });
    othersPublic = await create(other, {});
    await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${leaveRoom.id}/join`, headers: as(fuzzer) });
    // The target of the moderation endpoints: a plain member of the fuzzer's room.
    const rejoinOther = async () => {
      await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${other.user.id}`, headers: as(fuzzer) });
      await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/join`, headers: as(other) });
      await t.app.inject({ method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${other.user.id}/role`, headers: as(fuzzer), payload: { role: 'member' } });
    };
    await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/messages`, headers: as(fuzzer), payload: { body: 'seed', clientId: 'seed' } });

    let counter = 0;
    const fresh = (prefix: string) => `${prefix}${++counter}x${Math.floor(Math.random() * 1e6)}`;
    const roomParam = (valid: () => string) => ({ roomId: { max: 64, valid } });
    const memberParams = { roomId: { max: 64, valid: () => room.id }, userId: { max: 64, valid: () => other.user.id } };
    await rejoinOther();
    endpoints = [
      {
        key: 'POST /api/v1/rooms/:roomId/members/:userId/remove',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/members/:userId/remove',
        params: memberParams,
        auth: 'user',
        body: 'none',
        repair: rejoinOther,
      },
      {
        key: 'PUT /api/v1/rooms/:roomId/bans/:userId',
        method: 'PUT',
        path: '/api/v1/rooms/:roomId/bans/:userId',
        params: memberParams,
        auth: 'user',
        body: 'none',
        repair: rejoinOther,
      },
      {
        key: 'DELETE /api/v1/rooms/:roomId/bans/:userId',
        method: 'DELETE',
        path: '/api/v1/rooms/:roomId/bans/:userId',
        params: memberParams,
        auth: 'user',
        body: 'none',
        // Nobody is banned while the fuzzer runs, so even the untouched request is a 404.
        alwaysRefused: true,
      },
      {
        key: 'PUT /api/v1/rooms/:roomId/members/:userId/role',
        method: 'PUT',
        path: '/api/v1/rooms/:roomId/members/:userId/role',
        params: memberParams,
        auth: 'user',
        body: [{ name: 'role', type: 'string', required: true, min: 6, max: 9 }],
        validBody: () => ({ role: 'member' }),
        repair: rejoinOther,
      },
      {
        key: 'POST /api/v1/auth/register',
        method: 'POST',
        path: '/api/v1/auth/register',
        auth: 'public',
        body: [
          { name: 'username', type: 'string', required: true, min: 3, max: 32, trimmed: true, identifier: true },
          { name: 'email', type: 'string', required: true, max: 254, identifier: true },
          { name: 'password', type: 'string', required: true, min: 8, max: 128 },
          { name: 'confirmPassword', type: 'string', required: true },
        ],
        validBody: () => {
          const username = fresh('fz');
          return { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD };
        },
      },
      {
        key: 'POST /api/v1/auth/login',
        method: 'POST',
        path: '/api/v1/auth/login',
        auth: 'public',
        body: [
          { name: 'username', type: 'string', required: true },
          { name: 'password', type: 'string', required: true },
          { name: 'rememberMe', type: 'boolean', required: false },
        ],
        // Never the right password: every login attempt here must fail.
        validBody: () => ({ username: decoyName, password: 'not the password at all' }),
        alwaysRefused: true,
      },
      {
        key: 'POST /api/v1/auth/logout',
        method: 'POST',
        path: '/api/v1/auth/logout',
        auth: 'user',
        body: 'none',
        repair: async () => {
          fuzzer = await logIn(t.app, fuzzer.user.username, TEST_PASSWORD);
        },
      },
      { key: 'GET /api/v1/auth/session', method: 'GET', path: '/api/v1/auth/session', auth: 'user', body: 'none' },
      { key: 'GET /api/v1/auth/sessions', method: 'GET', path: '/api/v1/auth/sessions', auth: 'user', body: 'none' },
      {
        key: 'DELETE /api/v1/auth/sessions/:sessionId',
        method: 'DELETE',
        path: '/api/v1/auth/sessions/:sessionId',
        params: { sessionId: { max: 64, valid: () => '5b1f2a52-7a4c-4a55-9c7e-6c0f1c7f0000' } },
        auth: 'user',
        body: 'none',
        alwaysRefused: true,
      },
      {
        key: 'POST /api/v1/auth/password',
        method: 'POST',
        path: '/api/v1/auth/password',
        auth: 'user',
        body: [
          { name: 'currentPassword', type: 'string', required: true },
          { name: 'newPassword', type: 'string', required: true, min: 8, max: 128 },
        ],
        validBody: () => ({ currentPassword: 'not the current password', newPassword: 'another long passphrase' }),
        alwaysRefused: true,
      },
      { key: 'GET /api/v1/me', method: 'GET', path: '/api/v1/me', auth: 'user', body: 'none' },
      { key: 'GET /api/v1/rooms', method: 'GET', path: '/api/v1/rooms', auth: 'user', body: 'none' },
      { key: 'GET /api/v1/rooms/directory', method: 'GET', path: '/api/v1/rooms/directory', auth: 'user', body: 'none', query: 'directory' },
      {
        key: 'POST /api/v1/rooms',
        method: 'POST',
        path: '/api/v1/rooms',
        auth: 'user',
        body: [
          { name: 'name', type: 'string', required: true, min: 3, max: 64, trimmed: true, identifier: true },
          { name: 'description', type: 'string', required: false, max: 500 },
          { name: 'isPrivate', type: 'boolean', required: false },
        ],
        validBody: () => ({ name: fresh('Fz') }),
      },
      {
        key: 'POST /api/v1/rooms/join',
        method: 'POST',
        path: '/api/v1/rooms/join',
        auth: 'user',
        body: [{ name: 'name', type: 'string', required: true, max: 200, identifier: true }],
        validBody: () => ({ name: room.name }),
      },
      {
        key: 'GET /api/v1/rooms/:roomId',
        method: 'GET',
        path: '/api/v1/rooms/:roomId',
        params: roomParam(() => room.id),
        auth: 'user',
        body: 'none',
      },
      {
        key: 'POST /api/v1/rooms/:roomId/join',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/join',
        params: roomParam(() => room.id),
        auth: 'user',
        body: 'none',
      },
      {
        key: 'POST /api/v1/rooms/:roomId/leave',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/leave',
        params: roomParam(() => leaveRoom.id),
        auth: 'user',
        body: 'none',
        repair: async () => {
          await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${leaveRoom.id}/join`, headers: as(fuzzer) });
    // The target of the moderation endpoints: a plain member of the fuzzer's room.
    const rejoinOther = async () => {
      await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${other.user.id}`, headers: as(fuzzer) });
      await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/join`, headers: as(other) });
      await t.app.inject({ method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${other.user.id}/role`, headers: as(fuzzer), payload: { role: 'member' } });
    };
        },
      },
      {
        key: 'GET /api/v1/rooms/:roomId/members',
        method: 'GET',
        path: '/api/v1/rooms/:roomId/members',
        params: roomParam(() => room.id),
        auth: 'user',
        body: 'none',
      },
      {
        key: 'POST /api/v1/rooms/:roomId/read',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/read',
        params: roomParam(() => room.id),
        auth: 'user',
        body: [{ name: 'seq', type: 'integer', required: true, min: 0 }],
        validBody: () => ({ seq: 0 }),
      },
      {
        key: 'POST /api/v1/rooms/:roomId/invites',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/invites',
        params: roomParam(() => privateRoom.id),
        auth: 'user',
        body: [
          { name: 'expiresInHours', type: 'integer', required: false, min: 1, max: 24 * 90 },
          { name: 'maxUses', type: 'integer', required: false, min: 1, max: 10_000 },
        ],
        bodyOptional: true,
        validBody: () => ({}),
      },
      {
        key: 'POST /api/v1/invites/:code/accept',
        method: 'POST',
        path: '/api/v1/invites/:code/accept',
        params: { code: { max: 128, valid: () => 'never-issued-invite-code' } },
        auth: 'user',
        body: 'none',
        alwaysRefused: true,
      },
      {
        key: 'GET /api/v1/rooms/:roomId/messages',
        method: 'GET',
        path: '/api/v1/rooms/:roomId/messages',
        params: roomParam(() => room.id),
        query: 'messages',
        auth: 'user',
        body: 'none',
      },
      {
        key: 'POST /api/v1/rooms/:roomId/messages',
        method: 'POST',
        path: '/api/v1/rooms/:roomId/messages',
        params: roomParam(() => room.id),
        auth: 'user',
        body: [
          { name: 'body', type: 'string', required: true, min: 1, max: 4_000, trimmed: true },
          { name: 'clientId', type: 'string', required: true, min: 1, max: 64 },
        ],
        validBody: () => ({ body: fresh('fuzz message '), clientId: fresh('c') }),
      },
      {
        // A plain HTTP GET (no Upgrade) from this site with a live cookie: never a socket.
        key: 'GET /api/v1/ws',
        method: 'GET',
        path: '/api/v1/ws',
        auth: 'user',
        body: 'none',
        alwaysRefused: true,
      },
    ];
  });

  afterAll(async () => {
    await Promise.all(sockets.map((client) => client.close()));
    await t?.close();
  });

  // ---- building requests ----

  function fillPath(endpoint: Endpoint, override?: { name: string; raw: string }): string {
    return endpoint.path.replace(/:(\w+)/g, (_m, name: string) =>
      override?.name === name ? override.raw : encodeURIComponent(endpoint.params![name]!.valid()),
    );
  }

  function authHeaders(endpoint: Endpoint): Record<string, string> {
    if (endpoint.key === 'GET /api/v1/ws') return { cookie: fuzzer.cookie, origin: 'http://localhost:80' };
    return endpoint.auth === 'user' ? as(fuzzer) : {};
  }

  /** JSON text with `replacement` spliced in raw where the marker string value was. */
  function spliceRaw(body: Record<string, unknown>, field: string, raw: string): string {
    const marker = `__RAW_${field}__`;
    return JSON.stringify({ ...body, [field]: marker }).replace(JSON.stringify(marker), raw);
  }

  const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

  /** One malformed request for the endpoint, chosen by the PRNG. */
  function generate(endpoint: Endpoint, random: Random): Case {
    const bodyFields = endpoint.body === 'none' ? [] : endpoint.body;
    const hasBody = endpoint.method !== 'GET';
    const kinds: string[] = ['no-cookie', 'forged-cookie', 'ended-session', 'wrong-method', 'unknown-path'];
    if (hasBody) kinds.push('not-json', 'non-object-json', 'deep-array', 'deep-object', 'wrong-content-type', 'no-content-type', 'empty-json', 'proto-pollution', 'invalid-utf8-json', 'huge-body');
    if (hasBody && endpoint.auth === 'user') kinds.push('no-csrf', 'wrong-csrf');
    if (bodyFields.length > 0) kinds.push('wrong-type', 'wrong-type', 'missing', 'null', 'over-limit', 'under-limit', 'mb-string', 'invalid-utf8', 'hostile', 'extra', 'deep-field');
    if (bodyFields.some((f) => f.identifier)) kinds.push('control-chars');
    if (endpoint.alwaysRefused) kinds.push('as-is');
    if (endpoint.params) kinds.push('bad-id', 'bad-id', 'bad-id', 'others-room');
    if (endpoint.query) kinds.push('bad-query', 'bad-query', 'bad-query', 'odd-query');
    if (endpoint.method === 'GET') kinds.push('head-bad-query');
    const kind = random.pick(kinds);

    const headers = authHeaders(endpoint);
    let url = fillPath(endpoint);
    let method: string = endpoint.method;
    let payload: string | Buffer | undefined;
    let mustRefuse = true;
    let contentType: string | undefined = 'application/json';
    const valid = endpoint.validBody?.() ?? {};
    const field = bodyFields.length > 0 ? random.pick(bodyFields) : undefined;
    const needsObject = endpoint.body !== 'none' && !endpoint.bodyOptional;
    if (hasBody && endpoint.body !== 'none') payload = JSON.stringify(valid);

    switch (kind) {
      case 'no-cookie':
        delete headers.cookie;
        delete headers['x-csrf-token'];
        mustRefuse = endpoint.auth === 'user';
        break;
      case 'forged-cookie':
        headers.cookie = random.pick([
          `securechat_session=${'A'.repeat(43)}.${'B'.repeat(43)}`,
          'securechat_session=',
          `securechat_session=${encodeURIComponent("' OR 1=1 --")}`,
          `${fuzzer.cookie.slice(0, -3)}abc`,
          fuzzer.cookie.replace(/\.[^.]*$/, ''),
          'securechat_session=%00',
        ]);
        mustRefuse = endpoint.auth === 'user';
        break;
      case 'ended-session':
        Object.assign(headers, endpoint.auth === 'user' ? as(ended) : {});
        mustRefuse = endpoint.auth === 'user';
        break;
      case 'no-csrf':
        delete headers['x-csrf-token'];
        break;
      case 'wrong-csrf':
        headers['x-csrf-token'] = random.pick(['', 'x', ended.csrfToken, other.csrfToken, fuzzer.csrfToken.slice(1), fuzzer.csrfToken.toUpperCase()]);
        break;
      case 'wrong-method': {
        const served = new Set(apiRoutes(t.app).filter((r) => r.path === endpoint.path).map((r) => r.method));
        method = random.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !served.has(m)));
        break;
      }
      case 'unknown-path':
        url = random.pick([`${url}/extra`, `${url}/..%2F..%2Fadmin`, `/api/v1/admin`, `/api/v1/users/${fuzzer.user.id}`, `${url}%2F`, `/api/v2${url.slice(7)}`]);
        break;
      case 'not-json':
        payload = random.pick(NOT_JSON);
        break;
      case 'non-object-json':
        payload = random.pick(NON_OBJECT_JSON);
        mustRefuse = needsObject || endpoint.bodyOptional === true;
        break;
      case 'deep-array':
        payload = deepArray(10_000);
        mustRefuse = endpoint.body !== 'none';
        break;
      case 'deep-object':
        payload = deepObject(10_000);
        // `{a: …}` is an object: refused only where a field is required.
        mustRefuse = bodyFields.some((f) => f.required);
        break;
      case 'wrong-content-type':
        contentType = random.pick(WRONG_CONTENT_TYPES);
        payload = JSON.stringify(valid);
        break;
      case 'no-content-type':
        contentType = undefined;
        payload = Buffer.from(JSON.stringify(valid));
        break;
      case 'empty-json':
        payload = '';
        mustRefuse = needsObject;
        break;
      case 'proto-pollution':
        payload = random.pick([
          `{"__proto__":{"isAdmin":true},${JSON.stringify(valid).slice(1)}`.replace(',}', '}'),
          `{"constructor":{"prototype":{"isAdmin":true}},${JSON.stringify(valid).slice(1)}`.replace(',}', '}'),
        ]);
        break;
      case 'invalid-utf8-json':
        payload = Buffer.concat([Buffer.from('{'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(`"a":1}`)]);
        break;
      case 'huge-body':
        payload = JSON.stringify({ ...valid, padding: 'x'.repeat(MB) });
        break;
      case 'wrong-type':
        payload = JSON.stringify({ ...valid, [field!.name]: random.pick(WRONG_VALUES[field!.type]) });
        break;
      case 'missing': {
        const copy: Record<string, unknown> = { ...valid };
        delete copy[field!.name];
        payload = JSON.stringify(copy);
        mustRefuse = field!.required;
        break;
      }
      case 'null':
        payload = JSON.stringify({ ...valid, [field!.name]: null });
        break;
      case 'over-limit': {
        const limited = bodyFields.filter((f) => f.max !== undefined);
        if (limited.length === 0) return generate(endpoint, random);
        const f = random.pick(limited);
        const over = f.type === 'integer' ? f.max! + 1 : 'x'.repeat(f.max! + 1);
        payload = JSON.stringify({ ...valid, [f.name]: over, ...(f.name === 'password' ? { confirmPassword: over } : {}) });
        break;
      }
      case 'under-limit': {
        const limited = bodyFields.filter((f) => f.min !== undefined);
        if (limited.length === 0) return generate(endpoint, random);
        const f = random.pick(limited);
        const blank = f.trimmed ? [' '.repeat(f.min! + 2), '\t\n'.repeat(f.min!)] : [];
        const under = f.type === 'integer' ? f.min! - 1 : random.pick(['x'.repeat(f.min! - 1), ...blank]);
        payload = JSON.stringify({ ...valid, [f.name]: under, ...(f.name === 'password' ? { confirmPassword: under } : {}) });
        break;
      }
      case 'mb-string':
        payload = JSON.stringify({ ...valid, [field!.name]: 'x'.repeat(MB) });
        break;
      case 'invalid-utf8': {
        const text = spliceRaw(valid, field!.name, '"__BYTES__"');
        const [head, tail] = text.split('__BYTES__') as [string, string];
        payload = Buffer.concat([Buffer.from(head), Buffer.from(random.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]])), Buffer.from(`ok${tail}`)]);
        mustRefuse = field!.type !== 'string' || Boolean(endpoint.alwaysRefused);
        break;
      }
      case 'as-is':
        break;
      case 'control-chars': {
        const f = random.pick(bodyFields.filter((x) => x.identifier));
        const cc = random.pick(CONTROL_CHARACTERS);
        const value = f.name === 'email' ? `fz${random.int(0, 1e9)}${cc}x@example.com` : `Fz${random.int(0, 1e9)}${cc}x`;
        payload = JSON.stringify({ ...valid, [f.name]: value });
        break;
      }
      case 'hostile':
        payload = JSON.stringify({ ...valid, [field!.name]: random.pick(HOSTILE_TEXT) });
        mustRefuse = field!.type !== 'string' || Boolean(endpoint.alwaysRefused);
        break;
      case 'extra':
        payload = JSON.stringify({
          ...valid,
          ...random.pick([
            { role: 'owner', isAdmin: true },
            { roomId: othersPrivate.id, userId: other.user.id },
            { id: 'forged', seq: 999, createdAt: 'yesterday' },
            { nested: { deeply: [1, 2, { three: 3 }] } },
          ]),
        });
        mustRefuse = Boolean(endpoint.alwaysRefused);
        break;
      case 'deep-field':
        payload = spliceRaw(valid, field!.name, random.pick([deepArray(10_000), deepObject(9_000)]));
        break;
      case 'bad-id': {
        const name = random.pick(Object.keys(endpoint.params!));
        const raw = random.pick(MALFORMED_IDS);
        url = fillPath(endpoint, { name, raw });
        break;
      }
      case 'others-room': {
        const name = Object.keys(endpoint.params!)[0]!;
        // Someone else's private room, or an id nobody has: as if it did not exist.
        url = fillPath(endpoint, { name, raw: random.pick([othersPrivate.id, randomId(random)]) });
        break;
      }
      case 'bad-query':
        url += `?${random.pick(endpoint.query === 'messages' ? MESSAGES_QUERIES_REFUSED : DIRECTORY_QUERIES_REFUSED)}`;
        break;
      case 'odd-query':
        url += `?${random.pick(endpoint.query === 'messages' ? MESSAGES_QUERIES_ANY : DIRECTORY_QUERIES_ANY)}`;
        mustRefuse = Boolean(endpoint.alwaysRefused);
        break;
      case 'head-bad-query':
        method = 'HEAD';
        if (endpoint.query) url += `?${random.pick(endpoint.query === 'messages' ? MESSAGES_QUERIES_REFUSED : DIRECTORY_QUERIES_REFUSED)}`;
        else {
          url = endpoint.params ? fillPath(endpoint, { name: Object.keys(endpoint.params)[0]!, raw: random.pick(MALFORMED_IDS) }) : url;
          mustRefuse = Boolean(endpoint.params) || Boolean(endpoint.alwaysRefused);
        }
        break;
    }
    if (endpoint.alwaysRefused) mustRefuse = true;
    if (payload !== undefined && contentType !== undefined) headers['content-type'] = contentType;
    return { endpoint: endpoint.key, kind, method, url, headers, payload, mustRefuse };
  }

  function randomId(random: Random): string {
    const hex = () => random.int(0, 15).toString(16);
    const part = (n: number) => Array.from({ length: n }, hex).join('');
    return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
  }

  // ---------------------------------------------------------------------------------------
  it('has a fuzz target for every /api/v1 route the app serves', () => {
    const served = apiRoutes(t.app)
      .map(routeKey)
      .filter((key) => !key.startsWith('HEAD '));
    const targets = new Set(endpoints.map((e) => e.key));
    expect(served.filter((key) => !targets.has(key)).sort()).toEqual([]);
    expect([...targets].filter((key) => !served.includes(key)).sort()).toEqual([]);
  });

  it(
    `answers ${REQUESTS.toLocaleString('en')} generated malformed requests (seed ${SEED_TEXT}) with a 4xx in the error shape, never a 5xx, and changes nothing when it refuses`,
    async () => {
      const random = createRandom(SEED);
      const violations: Violation[] = [];
      const perEndpoint = new Map<string, number>();
      const statuses = new Map<number, number>();
      // The database is fingerprinted before and after each batch of refused requests
      // (at most BATCH, and always right before a request that may succeed, so a
      // success's own writes are never mixed with a batch).
      let checkpoint: DatabaseSnapshot = await snapshotDatabase(t.database.db);
      let batch: Case[] = [];
      const send = (c: Case) =>
        t.app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, ...(c.payload === undefined ? {} : { payload: c.payload }) });
      const flush = async () => {
        const now = await snapshotDatabase(t.database.db);
        const changed = changedTables(checkpoint, now);
        if (changed.length > 0) {
          // Replay the batch one request at a time to name the culprit(s).
          let found = false;
          for (const c of batch) {
            const before = await snapshotDatabase(t.database.db);
            const response = await send(c);
            const diff = changedTables(before, await snapshotDatabase(t.database.db));
            if (response.statusCode >= 300 && diff.length > 0) {
              found = true;
              violations.push({ group: `${c.endpoint} [${c.kind}]: refused (${response.statusCode}) but changed ${diff.map((d) => d.split(' ')[0]).join(', ')}`, example: `${describeCase(c, response)} — changed ${diff.join(', ')}` });
            }
          }
          if (!found) violations.push({ group: `refused requests changed ${changed.join(', ')}`, example: `one of: ${batch.map((c) => describeCase(c)).join(' | ')}` });
        }
        checkpoint = await snapshotDatabase(t.database.db);
        batch = [];
      };

      for (let i = 0; i < REQUESTS; i++) {
        const endpoint = endpoints[i % endpoints.length]!;
        const c = generate(endpoint, random);
        perEndpoint.set(endpoint.key, (perEndpoint.get(endpoint.key) ?? 0) + 1);
        if (!c.mustRefuse || batch.length >= BATCH) await flush();
        const response = await send(c);
        const status = response.statusCode;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 200 && status < 300) {
          if (c.mustRefuse) {
            const unverified = batch.length > 0 ? ` (the ${batch.length} refused requests before it are unverified)` : '';
            violations.push({ group: `${c.endpoint} [${c.kind}]: accepted (${status}) what must be refused`, example: describeCase(c, response) + unverified });
          }
          if (endpoint.repair) await endpoint.repair();
          checkpoint = await snapshotDatabase(t.database.db);
          batch = [];
          continue;
        }
        const problem = refusalProblem(response, c.method);
        if (problem) {
          const reason = status >= 500 ? `answered ${status}` : problem;
          violations.push({ group: `${c.endpoint} [${c.kind}]: ${reason}`, example: describeCase(c, response) });
        }
        batch.push(c);
      }
      await flush();

      // Nothing reached the rooms the fuzzer is not in, whatever the ids or extra fields said.
      const intruded = await t.database.db
        .selectFrom('room_members')
        .select(['room_id'])
        .where('user_id', '=', fuzzer.user.id)
        .where('room_id', 'in', [othersPrivate.id])
        .execute();
      if (intruded.length > 0) violations.push({ group: 'the fuzzer became a member of a private room it was never invited to', example: othersPrivate.id });
      const foreign = await t.database.db.selectFrom('messages').select('id').where('room_id', 'in', [othersPrivate.id, othersPublic.id]).execute();
      if (foreign.length > 0) violations.push({ group: 'messages landed in rooms the fuzzer is not in', example: JSON.stringify(foreign) });

      const report = summarize(violations);
      console.log(
        `[fuzz ${dialect} seed ${SEED_TEXT}] ${REQUESTS} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${violations.length} violations`,
      );
      expect(Math.min(...perEndpoint.values())).toBeGreaterThanOrEqual(Math.floor(REQUESTS / endpoints.length));
      expect(report).toEqual([]);
    },
    120_000,
  );

  // ---------------------------------------------------------------------------------------
  describe('frames', () => {
    interface FrameCase {
      kind: string;
      data: string | Buffer;
      binary?: boolean;
      /** 'error': exactly one error frame; 'any': an ack, an error or nothing. */
      expect: 'error' | 'any';
    }

    function generateFrame(random: Random): FrameCase {
      const send = (fields: Record<string, unknown>) => ({ type: 'send', roomId: room.id, body: 'fuzz frame', clientId: `f${random.int(0, 1e9)}`, ...fields });
      const kind = random.pick([
        'not-json',
        'non-object',
        'unknown-type',
        'send-missing',
        'send-wrong-type',
        'send-over-limit',
        'send-under-limit',
        'send-bad-room',
        'send-others-room',
        'typing-missing',
        'typing-wrong-type',
        'typing-over-limit',
        'typing-bad-room',
        'deep',
        'proto',
        'binary-garbage',
        'ping-extra',
      ]);
      const json = (value: unknown): FrameCase => ({ kind, data: JSON.stringify(value), expect: 'error' });
      switch (kind) {
        case 'not-json':
          return { kind, data: random.pick([...NOT_JSON, '', ' ', 'ping', '{"type":"ping"']), expect: 'error' };
        case 'non-object':
          return { kind, data: random.pick([...NON_OBJECT_JSON, '["ping"]', '[{"type":"ping"}]', '"ping"']), expect: 'error' };
        case 'unknown-type':
          return json({ type: random.pick(['sned', 'PING', 'Send', '', ' ping', 'hello', 'ack', 'message', 'error', 'pong', 'presence', 'member', 1, null, true, ['ping'], { ping: 1 }]) });
        case 'send-missing': {
          const frame = send({});
          delete (frame as Record<string, unknown>)[random.pick(['roomId', 'body', 'clientId'])];
          return json(frame);
        }
        case 'send-wrong-type':
          return json(send({ [random.pick(['roomId', 'body', 'clientId'])]: random.pick(WRONG_VALUES.string) }));
        case 'send-over-limit':
          return json(send(random.pick([{ roomId: 'x'.repeat(65) }, { clientId: 'x'.repeat(65) }, { body: 'x'.repeat(4_001) }, { body: 'x'.repeat(60_000) }])));
        case 'send-under-limit':
          return json(send(random.pick([{ clientId: '' }, { body: '' }, { body: '   ' }, { body: '\n\t' }])));
        case 'send-bad-room':
          return json(send({ roomId: random.pick([...MALFORMED_IDS.filter((id) => id.length <= 64).map((id) => decodeURIComponentSafe(id)), randomId(random), '\u0000', 'a\u0000b']) }));
        case 'send-others-room':
          return json(send({ roomId: random.pick([othersPrivate.id, othersPublic.id]) }));
        case 'typing-missing':
          return json({ type: 'typing' });
        case 'typing-wrong-type':
          return json({ type: 'typing', roomId: random.pick(WRONG_VALUES.string) });
        case 'typing-over-limit':
          return json({ type: 'typing', roomId: 'x'.repeat(65) });
        case 'typing-bad-room':
          // Typing into a room one is not in is dropped without an answer (it is not malformed).
          return { kind, data: JSON.stringify({ type: 'typing', roomId: random.pick([othersPrivate.id, randomId(random), '\u0000']) }), expect: 'any' };
        case 'deep':
          return {
            kind,
            data: random.pick([deepArray(10_000), deepObject(10_000), `{"type":"send","roomId":${deepArray(10_000)},"body":"x","clientId":"c"}`, `{"type":"typing","roomId":${deepObject(9_000)}}`]),
            expect: 'error',
          };
        case 'proto':
          return { kind, data: random.pick(['{"__proto__":{"type":"ping"}}', '{"constructor":{"prototype":{"type":"ping"}}}']), expect: 'error' };
        case 'binary-garbage':
          return { kind, data: Buffer.from(Array.from({ length: random.int(1, 64) }, () => random.int(0, 255)).concat([0xff])), binary: true, expect: 'error' };
        default:
          return { kind, data: JSON.stringify({ type: 'ping', extra: deepArray(100), clientId: 5 }), expect: 'any' };
      }
    }

    function decodeURIComponentSafe(text: string): string {
      try {
        return decodeURIComponent(text);
      } catch {
        return text;
      }
    }

    it(
      `answers ${FRAMES} generated malformed frames (seed ${SEED_TEXT}) with one error frame each, keeps the socket open and stores nothing`,
      async () => {
        const random = createRandom(SEED ^ 0xf4a3e5);
        const client = await connectWs(base, { cookie: fuzzer.cookie });
        sockets.push(client);
        const violations: Violation[] = [];
        let snapshot = await snapshotDatabase(t.database.db);
        const answers = (f: ServerFrame) => f.type === 'error' || f.type === 'ack' || f.type === 'pong';

        for (let i = 0; i < FRAMES; i++) {
          const c = generateFrame(random);
          const from = client.frames.length;
          client.socket.send(c.data, { binary: c.binary === true });
          client.send({ type: 'ping' });
          let pongAt: number;
          try {
            await client.waitFor((f) => f.type === 'pong', { since: from, timeoutMs: 5_000 });
            pongAt = client.frames.findIndex((f, index) => index >= from && f.type === 'pong');
          } catch (error) {
            violations.push({ group: `[${c.kind}] no pong after the frame (socket ${client.socket.readyState === WebSocket.OPEN ? 'open' : 'closed'})`, example: String(c.data).slice(0, 200) });
            break;
          }
          const replies = client.frames.slice(from, pongAt).filter(answers);
          const sample = visible(`${String(c.data).slice(0, 160)} → ${JSON.stringify(replies).slice(0, 300)}`);
          const errors = replies.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
          if (c.expect === 'error' && (replies.length !== 1 || errors.length !== 1)) {
            violations.push({ group: `[${c.kind}] expected exactly one error frame, got ${replies.map((f) => f.type).join(', ') || 'nothing'}`, example: sample });
          }
          for (const error of errors) {
            const extra = Object.keys(error).filter((key) => !['type', 'clientId', 'error'].includes(key));
            const problem = errorBodyProblem({ error: error.error }) ?? (extra.length > 0 ? `extra keys ${extra.join(', ')}` : undefined);
            if (problem) violations.push({ group: `[${c.kind}] error frame not in the error shape: ${problem}`, example: sample });
            if (error.error.code === 'internal_error') violations.push({ group: `[${c.kind}] internal_error (a 5xx) for a client's frame`, example: sample });
          }
          const after = await snapshotDatabase(t.database.db);
          const changed = changedTables(snapshot, after);
          if (errors.length > 0 && changed.length > 0) violations.push({ group: `[${c.kind}] refused but changed ${changed.join(', ')}`, example: sample });
          snapshot = after;
        }

        expect(client.socket.readyState, 'the socket is still open').toBe(WebSocket.OPEN);
        expect(summarize(violations)).toEqual([]);
      },
      120_000,
    );

    async function rawSocket(): Promise<{ socket: WebSocket; closed: Promise<number> }> {
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${WS_PATH}`, { headers: { cookie: fuzzer.cookie, origin: base } });
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('unexpected-response', () => reject(new Error('refused')));
      });
      return { socket, closed };
    }

    it('closes a socket sent a 1 MB frame with 1009 (message too big), stores nothing, and keeps serving', async () => {
      const before = await snapshotDatabase(t.database.db);
      const { socket, closed } = await rawSocket();
      socket.send(JSON.stringify({ type: 'send', roomId: room.id, body: 'x'.repeat(MB), clientId: 'one-megabyte' }));
      expect(await closed).toBe(1009);
      expect(changedTables(before, await snapshotDatabase(t.database.db))).toEqual([]);
      const next = await connectWs(base, { cookie: fuzzer.cookie });
      sockets.push(next);
      next.send({ type: 'ping' });
      await next.waitFor((f) => f.type === 'pong');
    });

    it('closes a socket sent a text frame of invalid UTF-8 with 1007, and stores nothing', async () => {
      const before = await snapshotDatabase(t.database.db);
      const { socket, closed } = await rawSocket();
      // ws refuses to send invalid text itself: frame it by hand (masked, as a client must).
      const Sender = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;
      const frame = Sender.frame(Buffer.concat([Buffer.from('{"type":"send","roomId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), {
        fin: true,
        rsv1: false,
        opcode: 1,
        mask: true,
        readOnly: false,
      });
      (socket as unknown as { _sender: { sendFrame(list: Buffer[]): void } })._sender.sendFrame(frame);
      expect(await closed).toBe(1007);
      expect(changedTables(before, await snapshotDatabase(t.database.db))).toEqual([]);
    });
  });
});

/** Invisible and control characters written as \\uXXXX, so a report shows what was sent. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Violations grouped by what went wrong, each with how often and one exact example. */
function summarize(violations: Violation[]): string[] {
  const groups = new Map<string, { count: number; example: string }>();
  for (const violation of violations) {
    const group = groups.get(violation.group);
    if (group) group.count += 1;
    else groups.set(violation.group, { count: 1, example: violation.example });
  }
  return [...groups].map(([group, { count, example }]) => `${group} ×${count} — e.g. ${example}`);
}
