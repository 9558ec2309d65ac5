/**
 * The kinds of damage the fuzzer does, independent of any endpoint: hostile text, control
 * characters, malformed ids, wrong JSON values, non-JSON, wrong content types, deep
 * nesting; query-string mutations derived from a parameter's type and bounds; and the
 * report (violations grouped, one exact example each).
 */
import type { LightMyRequestResponse } from 'fastify';
import type { Random } from '../security-harness.js';

export const MB = 1024 * 1024;

export type FieldType = 'string' | 'boolean' | 'integer' | 'array';

export const HOSTILE_TEXT = [
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
export const CONTROL_CHARACTERS = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u200b', '\u200e', '\u202e', '\u2066', '\ufeff'];

export const MALFORMED_IDS = [
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

/** A query-string parameter, as the OpenAPI document describes it. */
export interface QueryField {
  name: string;
  type: FieldType;
  min?: number;
  max?: number;
}

/** Query strings that cannot be valid for the field: out of bounds, of the wrong type, repeated. */
export function refusedQueries(field: QueryField): string[] {
  const q = (value: string) => `${field.name}=${value}`;
  if (field.type === 'integer') {
    const bounds = [
      ...(field.min === undefined ? [] : [q(String(field.min - 1)), q('-1')]),
      ...(field.max === undefined ? [] : [q(String(field.max + 1)), q('99999999999999999999')]),
    ];
    return [...new Set(bounds)].concat(['1.5', 'abc', '1e309', '', 'NaN', 'Infinity', '0x', '%00'].map(q), `${q('1')}&${q('2')}`);
  }
  const long = field.max === undefined ? [] : [q('x'.repeat(field.max + 1))];
  return [...long, q('x'.repeat(10_000)), `${q('a')}&${q('b')}`];
}

/** Query strings that may be valid (odd, hostile or unknown, but not malformed). */
export function oddQueries(field: QueryField): string[] {
  const q = (value: string) => `${field.name}=${value}`;
  const general = ['foo=bar', '__proto__=1', 'constructor=x'];
  if (field.type === 'integer') return [...general, q('0x10'), q(String(field.min ?? 0)), q(String((field.min ?? 0) + 1))];
  return [...general, ...['', '%25', '_', '%5C', '%00', 'a%00b'].map(q), ...HOSTILE_TEXT.map((s) => q(encodeLoosely(s)))];
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) becomes its raw WTF-8 bytes. */
export function encodeLoosely(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

export const WRONG_VALUES: Record<FieldType, unknown[]> = {
  string: [123, -1, 0, 1.5, true, false, null, [], ['a'], {}, { $ne: null }, { toString: 'x' }, [[[]]]],
  boolean: ['true', 1, 0, null, 'yes', [], {}, [true]],
  integer: ['1', 1.5, null, true, [], {}, [1], '0x10', 'NaN'],
  // Arrays of ids (POST /dms userIds): not an array, items of the wrong type, empty or over-long ids.
  array: ['a', 1, null, true, {}, { 0: 'a' }, [1], [null], [[]], [{}], [''], ['x'.repeat(65)], Array.from({ length: 65 }, (_, i) => `id${i}`)],
};

export const NOT_JSON = [
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
export const NON_OBJECT_JSON = ['null', '1', '-0', '"string"', '[]', 'true', '[{}]', '1e309'];
export const WRONG_CONTENT_TYPES = [
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

export const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
export const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** JSON text with `replacement` spliced in raw where the marker string value was. */
export function spliceRaw(body: Record<string, unknown>, field: string, raw: string): string {
  const marker = `__RAW_${field}__`;
  return JSON.stringify({ ...body, [field]: marker }).replace(JSON.stringify(marker), raw);
}

export function randomId(random: Random): string {
  const hex = () => random.int(0, 15).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join('');
  return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
}

export function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface Case {
  endpoint: string;
  kind: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  mustRefuse: boolean;
}

export interface Violation {
  group: string;
  example: string;
}

export function describeCase(c: Case, response?: LightMyRequestResponse): string {
  const body =
    c.payload === undefined
      ? ''
      : ` body(${c.payload.length} bytes)=${(Buffer.isBuffer(c.payload) ? c.payload.toString('latin1') : c.payload).slice(0, 160)}`;
  const type = c.headers['content-type'] === undefined ? '' : ` content-type=${c.headers['content-type']}`;
  const answer = response ? ` → ${response.statusCode} ${response.body.slice(0, 240)}` : '';
  return visible(`[${c.kind}] ${c.method} ${c.url.slice(0, 160)}${type}${body}${answer}`);
}

/** Invisible and control characters written as \\uXXXX, so a report shows what was sent. */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Violations grouped by what went wrong, each with how often and one exact example. */
export function summarize(violations: Violation[]): string[] {
  const groups = new Map<string, { count: number; example: string }>();
  for (const violation of violations) {
    const group = groups.get(violation.group);
    if (group) group.count += 1;
    else groups.set(violation.group, { count: 1, example: violation.example });
  }
  return [...groups].map(([group, { count, example }]) => `${group} ×${count} — e.g. ${example}`);
}
