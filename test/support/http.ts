/**
 * One small HTTP client for the API, over either an in-process app (`app.inject`) or a
 * real server's URL (`fetch`): the factories (factories.ts) take any `HttpTarget`, so a
 * suite against `startTestApp` and a fault test against a server process say the same.
 *
 *   const answer = await call(t.app, 'GET', '/api/v1/rooms', { session });   // inject
 *   const answer = await call(server.url, 'GET', '/api/v1/rooms', { session }); // fetch
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { User } from '../../src/shared/protocol.js';
import type { BaseUrl } from './ws-client.js';

/** A signed-in user: the cookie header and CSRF token to send with requests. */
export interface Session {
  user: User;
  cookie: string;
  csrfToken: string;
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  /** Parsed when the answer is JSON, else the text. */
  body: T;
  text: string;
  /** Wall time of the request, in ms. */
  ms: number;
}

export interface RequestOptions {
  /** Sends its cookie and CSRF token. */
  session?: Session | null;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** fetch only: abort after this long (default 15 s). */
  timeoutMs?: number;
}

export interface HttpClient {
  request<T = any>(method: string, url: string, options?: RequestOptions): Promise<Answer<T>>;
}

/** Where requests go: a server's base URL, an app (or a function returning the current one), or a client. */
export type HttpTarget = BaseUrl | FastifyInstance | (() => FastifyInstance) | HttpClient;

/** Headers that authenticate a request as the session (with CSRF for state changes). */
export function as(session: Session): Record<string, string> {
  return { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
}

/** The first cookie an answer sets, as `name=value` for a cookie header. */
export function cookieFrom(response: LightMyRequestResponse | Answer): string {
  let first: string | undefined;
  if ('statusCode' in response) {
    const setCookie = response.headers['set-cookie'];
    first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  } else {
    first = response.headers.getSetCookie()[0];
  }
  if (!first) throw new Error(`no cookie in response ${'statusCode' in response ? response.statusCode : response.status}: ${response.body}`);
  return first.split(';')[0]!;
}

function headersFor(options: RequestOptions): Record<string, string> {
  return { ...(options.session ? as(options.session) : {}), ...options.headers };
}

function parse(contentType: string | null | undefined, text: string): unknown {
  return contentType?.includes('application/json') && text !== '' ? JSON.parse(text) : text;
}

/** Requests to a listening server (`http://127.0.0.1:<port>`). */
export function fetchClient(base: BaseUrl): HttpClient {
  return {
    async request<T>(method: string, url: string, options: RequestOptions = {}): Promise<Answer<T>> {
      const headers = headersFor(options);
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const started = performance.now();
      const response = await fetch(`${base}${url}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
      const text = await response.text();
      const body = parse(response.headers.get('content-type'), text) as T;
      return { status: response.status, headers: response.headers, body, text, ms: performance.now() - started };
    },
  };
}

/** Requests to an app in this process; `appOf` may be a function, read at each request (suites start theirs in beforeAll). */
export function injectClient(appOf: FastifyInstance | (() => FastifyInstance)): HttpClient {
  const app = () => ('inject' in appOf ? appOf : appOf());
  return {
    async request<T>(method: string, url: string, options: RequestOptions = {}): Promise<Answer<T>> {
      const started = performance.now();
      const response = await app().inject({
        method: method as 'GET',
        url,
        headers: headersFor(options),
        ...(options.body === undefined ? {} : { payload: options.body as object }),
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        for (const one of Array.isArray(value) ? value : value === undefined ? [] : [String(value)]) headers.append(name, one);
      }
      const body = parse(headers.get('content-type'), response.body) as T;
      return { status: response.statusCode, headers, body, text: response.body, ms: performance.now() - started };
    },
  };
}

/** The client for a target. */
export function httpClient(target: HttpTarget): HttpClient {
  if (typeof target === 'string') return fetchClient(target);
  if ('inject' in target || typeof target === 'function') return injectClient(target);
  return target;
}

/** One request to the API; the body parsed as JSON when it is JSON. */
export function call<T = any>(target: HttpTarget, method: string, url: string, options: RequestOptions = {}): Promise<Answer<T>> {
  return httpClient(target).request<T>(method, url, options);
}
