/**
 * One malformed request for an endpoint, chosen by the PRNG from the kinds of damage its
 * shape allows (targets.ts): credentials, methods and paths for every endpoint; JSON
 * damage where it reads a body; field mutations by each field's type and limits; bad ids
 * for each path parameter; out-of-bounds and repeated query parameters. `mustRefuse` says
 * whether the case cannot be valid.
 */
import { randomUUID } from 'node:crypto';
import { sessionCookieName } from '../../../src/server/auth/auth.guard.js';
import { isReactionEmoji } from '../../../src/shared/emoji.js';
import { as } from '../../support/app.js';
import { apiRoutes, type Random } from '../security-harness.js';
import {
  CONTROL_CHARACTERS,
  deepArray,
  deepObject,
  HOSTILE_TEXT,
  MALFORMED_IDS,
  MB,
  NON_OBJECT_JSON,
  NOT_JSON,
  oddQueries,
  randomId,
  refusedQueries,
  spliceRaw,
  WRONG_CONTENT_TYPES,
  WRONG_VALUES,
  type Case,
} from './mutations.js';
import type { Endpoint } from './targets.js';
import type { FuzzWorld } from './world.js';

function fillPath(endpoint: Endpoint, override?: { name: string; raw: string }): string {
  return endpoint.path.replace(/:(\w+)/g, (_m, name: string) =>
    override?.name === name ? override.raw : encodeURIComponent((endpoint.params?.[name] ?? randomUUID)()),
  );
}

function authHeaders(endpoint: Endpoint, w: FuzzWorld): Record<string, string> {
  if (endpoint.headers) return { cookie: w.fuzzer.cookie, ...endpoint.headers };
  return endpoint.auth === 'user' ? as(w.fuzzer) : {};
}

const refusedQueriesOf = (endpoint: Endpoint) => [...endpoint.query.flatMap(refusedQueries), ...(endpoint.refusedQueries ?? [])];
const oddQueriesOf = (endpoint: Endpoint) => [...new Set(endpoint.query.flatMap(oddQueries))];

/** One malformed request for the endpoint, chosen by the PRNG. */
export function generate(endpoint: Endpoint, random: Random, w: FuzzWorld): Case {
  const bodyFields = endpoint.body === 'none' ? [] : endpoint.body;
  const hasBody = endpoint.method !== 'GET';
  const kinds: string[] = ['no-cookie', 'forged-cookie', 'w.ended-session', 'wrong-method', 'unknown-path'];
  if (hasBody) kinds.push('not-json', 'non-object-json', 'deep-array', 'deep-object', 'wrong-content-type', 'no-content-type', 'empty-json', 'proto-pollution', 'invalid-utf8-json', 'huge-body');
  if (hasBody && endpoint.auth === 'user') kinds.push('no-csrf', 'wrong-csrf');
  if (bodyFields.length > 0) kinds.push('wrong-type', 'wrong-type', 'missing', 'null', 'over-limit', 'under-limit', 'mb-string', 'invalid-utf8', 'hostile', 'extra', 'deep-field');
  if (bodyFields.some((f) => f.identifier)) kinds.push('control-chars');
  if (endpoint.alwaysRefused) kinds.push('as-is');
  if (endpoint.pathParams.length > 0) kinds.push('bad-id', 'bad-id', 'bad-id', 'others-room');
  if (endpoint.query.length > 0) kinds.push('bad-query', 'bad-query', 'bad-query', 'odd-query');
  if (endpoint.method === 'GET') kinds.push('head-bad-query');
  const kind = random.pick(kinds);

  const headers = authHeaders(endpoint, w);
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
    case 'forged-cookie': {
      // The name the app's guard reads (it follows FORCE_HTTPS), so a forgery is read, not ignored.
      const name = sessionCookieName(w.t.config.forceHttps);
      headers.cookie = random.pick([
        `${name}=${'A'.repeat(43)}.${'B'.repeat(43)}`,
        `${name}=`,
        `${name}=${encodeURIComponent("' OR 1=1 --")}`,
        `${w.fuzzer.cookie.slice(0, -3)}abc`,
        w.fuzzer.cookie.replace(/\.[^.]*$/, ''),
        `${name}=%00`,
      ]);
      mustRefuse = endpoint.auth === 'user';
      break;
    }
    case 'w.ended-session':
      Object.assign(headers, endpoint.auth === 'user' ? as(w.ended) : {});
      mustRefuse = endpoint.auth === 'user';
      break;
    case 'no-csrf':
      delete headers['x-csrf-token'];
      break;
    case 'wrong-csrf':
      headers['x-csrf-token'] = random.pick(['', 'x', w.ended.csrfToken, w.other.csrfToken, w.fuzzer.csrfToken.slice(1), w.fuzzer.csrfToken.toUpperCase()]);
      break;
    case 'wrong-method': {
      const served = new Set(apiRoutes(w.t.app).filter((r) => r.path === endpoint.path).map((r) => r.method));
      method = random.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].filter((m) => !served.has(m)));
      break;
    }
    case 'unknown-path':
      url = random.pick([`${url}/extra`, `${url}/..%2F..%2Fadmin`, `/api/v1/admin`, `/api/v1/users/${w.fuzzer.user.id}`, `${url}%2F`, `/api/v2${url.slice(7)}`]);
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
      if (limited.length === 0) return generate(endpoint, random, w);
      const f = random.pick(limited);
      const over = f.type === 'integer' ? f.max! + 1 : 'x'.repeat(f.max! + 1);
      payload = JSON.stringify({ ...valid, [f.name]: over, ...(f.name === 'password' ? { confirmPassword: over } : {}) });
      break;
    }
    case 'under-limit': {
      const limited = bodyFields.filter((f) => f.min !== undefined);
      if (limited.length === 0) return generate(endpoint, random, w);
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
          { roomId: w.othersPrivate.id, userId: w.other.user.id },
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
      const param = random.pick(endpoint.pathParams);
      // An emoji among the malformed ids is a good reaction, not a bad id.
      const malformed = param.name === 'emoji' ? MALFORMED_IDS.filter((id) => !isReactionEmoji(decodedOrRaw(id))) : MALFORMED_IDS;
      const raw = random.pick([...malformed, 'x'.repeat(param.max + 1)]);
      url = fillPath(endpoint, { name: param.name, raw });
      break;
    }
    case 'others-room': {
      const name = endpoint.pathParams[0]!.name;
      // Someone else's private room, or an id nobody has: as if it did not exist.
      url = fillPath(endpoint, { name, raw: random.pick([w.othersPrivate.id, randomId(random)]) });
      break;
    }
    case 'bad-query':
      url += `?${random.pick(refusedQueriesOf(endpoint))}`;
      break;
    case 'odd-query':
      url += `?${random.pick(oddQueriesOf(endpoint))}`;
      mustRefuse = Boolean(endpoint.alwaysRefused);
      break;
    case 'head-bad-query':
      method = 'HEAD';
      if (endpoint.query.length > 0) url += `?${random.pick(refusedQueriesOf(endpoint))}`;
      else {
        const param = endpoint.pathParams[0];
        url = param ? fillPath(endpoint, { name: param.name, raw: random.pick(MALFORMED_IDS) }) : url;
        mustRefuse = Boolean(param) || Boolean(endpoint.alwaysRefused);
      }
      break;
  }
  if (endpoint.alwaysRefused) mustRefuse = true;
  if (endpoint.validQuery) url = withValidQuery(url, endpoint.validQuery());
  if (payload !== undefined && contentType !== undefined) headers['content-type'] = contentType;
  return { endpoint: endpoint.key, kind, method, url, headers, payload, mustRefuse };
}

/** The URL with the valid query's parameters that it does not set itself (a mutated one stays as mutated). */
function withValidQuery(url: string, valid: Record<string, string>): string {
  const at = url.indexOf('?');
  const own = at < 0 ? '' : url.slice(at + 1);
  const named = new Set(own.split('&').map((part) => decodedOrRaw(part.split('=')[0]!)));
  const added = Object.entries(valid)
    .filter(([name]) => !named.has(name))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  if (added.length === 0) return url;
  return `${url}${at < 0 ? '?' : '&'}${added.join('&')}`;
}

function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
