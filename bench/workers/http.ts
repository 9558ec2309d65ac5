/**
 * A client process speaking HTTP/1.1 with keep-alive: sends messages (closed loop, one
 * request in flight per sender), reads history pages, and logs in — recording latency
 * from the first byte written to the last byte of the answer.
 */
import http from 'node:http';
import { Histogram } from '../lib/histogram.js';
import { benchBody } from '../lib/seed.js';
import { wallNow } from '../lib/util.js';
import { changeLoop, postMessages, type ChangeLoopRequest } from './http-changes.js';
import { serve } from './rpc.js';

const workerName = process.argv[2] ?? 'http';
let agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function request(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function countStatus(statuses: Record<string, number>, key: string | number): void {
  statuses[key] = (statuses[key] ?? 0) + 1;
}

/** The CSRF token of each cookie's session (GET /api/v1/auth/session). */
async function csrfTokens(payload: { baseUrl: string; cookies: string[] }): Promise<string[]> {
  const tokens: string[] = [];
  for (const cookie of payload.cookies) {
    const answer = await request(payload.baseUrl, 'GET', '/api/v1/auth/session', { cookie });
    if (answer.status !== 200) throw new Error(`GET /api/v1/auth/session answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    tokens.push((JSON.parse(answer.body) as { csrfToken: string }).csrfToken);
  }
  return tokens;
}

interface SendLoopRequest {
  baseUrl: string;
  senders: Array<{ cookie: string; csrf: string; roomId: string }>;
  durationMs: number;
  bodyBytes: number;
}

/** Each sender POSTs a message, waits for the answer, and sends the next until the time is up. */
async function sendLoop(payload: SendLoopRequest) {
  agent = new http.Agent({ keepAlive: true, maxSockets: payload.senders.length });
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const acked: Record<string, number[]> = {};
  const errorSamples: string[] = [];
  let sent = 0;
  let counter = 0;
  let lastAckAt = 0;
  const startedAt = wallNow();
  const endAt = startedAt + payload.durationMs;
  await Promise.all(
    payload.senders.map(async (sender) => {
      const headers = { cookie: sender.cookie, 'x-csrf-token': sender.csrf, origin: payload.baseUrl };
      while (wallNow() < endAt) {
        const begin = wallNow();
        const clientId = `${workerName}-${counter++}`;
        const body = JSON.stringify({ body: benchBody(`t=${begin.toFixed(3)};`, payload.bodyBytes), clientId });
        sent += 1;
        try {
          const answer = await request(payload.baseUrl, 'POST', `/api/v1/rooms/${sender.roomId}/messages`, headers, body);
          countStatus(statuses, answer.status);
          if (answer.status === 201) {
            const end = wallNow();
            latency.record(end - begin);
            lastAckAt = end;
            const seq = (JSON.parse(answer.body) as { message: { seq: number } }).message.seq;
            (acked[sender.roomId] ??= []).push(seq);
          } else if (errorSamples.length < 5) {
            errorSamples.push(`${answer.status}: ${answer.body.slice(0, 200)}`);
          }
        } catch (error) {
          countStatus(statuses, 'network-error');
          if (errorSamples.length < 5) errorSamples.push(String((error as Error).message));
        }
      }
    }),
  );
  const ackedCount = Object.values(acked).reduce((sum, list) => sum + list.length, 0);
  return { sent, ackedCount, acked, statuses, errorSamples, latency: latency.toJSON(), startedAt, lastAckAt };
}

interface GetLoopRequest {
  baseUrl: string;
  cookie: string;
  paths: string[];
  /** Messages each answer must hold, with contiguous seqs. */
  expectMessages: number;
  /** The answer's list (default `messages`; `users` for the people search, no seqs). */
  listKey?: 'messages' | 'users';
}

/** GETs each path in turn (one request at a time: latency, not throughput). */
async function getLoop(payload: GetLoopRequest) {
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const problems: string[] = [];
  let bytes = 0;
  let messages = 0;
  const startedAt = wallNow();
  for (const path of payload.paths) {
    const begin = wallNow();
    const answer = await request(payload.baseUrl, 'GET', path, { cookie: payload.cookie });
    latency.record(wallNow() - begin);
    countStatus(statuses, answer.status);
    bytes += answer.body.length;
    if (answer.status !== 200) {
      if (problems.length < 5) problems.push(`${path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
      continue;
    }
    const list = (JSON.parse(answer.body) as Record<string, Array<{ seq?: number }>>)[payload.listKey ?? 'messages'] ?? [];
    messages += list.length;
    const contiguous = payload.listKey === 'users' || list.every((m, i) => i === 0 || m.seq === list[i - 1]!.seq! + 1);
    if ((list.length !== payload.expectMessages || !contiguous) && problems.length < 5) {
      problems.push(`${path}: ${list.length} items (expected ${payload.expectMessages}), contiguous: ${contiguous}`);
    }
  }
  return { requests: payload.paths.length, messages, bytes, statuses, problems, latency: latency.toJSON(), startedAt, finishedAt: wallNow() };
}

interface LoginLoopRequest {
  baseUrl: string;
  users: Array<{ username: string; password: string }>;
  /** Logins to do in all; each user logs in again and again, one login in flight per user. */
  total: number;
}

async function loginLoop(payload: LoginLoopRequest) {
  agent = new http.Agent({ keepAlive: true, maxSockets: payload.users.length });
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let started = 0;
  const startedAt = wallNow();
  await Promise.all(
    payload.users.map(async (user) => {
      const body = JSON.stringify({ username: user.username, password: user.password, rememberMe: false });
      while (started < payload.total) {
        started += 1;
        const begin = wallNow();
        try {
          const answer = await request(payload.baseUrl, 'POST', '/api/v1/auth/login', { origin: payload.baseUrl }, body);
          countStatus(statuses, answer.status);
          if (answer.status === 200) latency.record(wallNow() - begin);
          else if (errorSamples.length < 5) errorSamples.push(`${answer.status}: ${answer.body.slice(0, 200)}`);
        } catch (error) {
          countStatus(statuses, 'network-error');
          if (errorSamples.length < 5) errorSamples.push(String((error as Error).message));
        }
      }
    }),
  );
  return { attempted: started, statuses, errorSamples, latency: latency.toJSON(), startedAt, finishedAt: wallNow() };
}

serve({
  csrfTokens,
  sendLoop,
  getLoop,
  loginLoop,
  postMessages: (payload: Parameters<typeof postMessages>[0]) => postMessages(payload, request),
  changeLoop: (payload: ChangeLoopRequest) => {
    // One connection per room at most: each room has one change in flight.
    agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, payload.rooms.length) });
    return changeLoop(payload, request);
  },
  exit: () => agent.destroy(),
});
