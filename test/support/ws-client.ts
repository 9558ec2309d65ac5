/**
 * A small WebSocket test client: connects to `/api/v1/ws` of a listening app, keeps
 * every frame it receives, and waits for frames with a bounded timeout (never a sleep).
 *
 *   const alice = await connectWs(base, session);      // resolves once `hello` arrived
 *   alice.send({ type: 'ping' });
 *   await alice.waitFor((f) => f.type === 'pong');
 *   await alice.close();
 */
import { afterAll, afterEach } from 'vitest';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import type { Message, ServerFrame } from '../../src/shared/protocol.js';
import { isReply, type Frame } from './frames.js';

/** Where the app listens: `http://127.0.0.1:<port>`. */
export type BaseUrl = string;

export const WS_PATH = '/api/v1/ws';
const DEFAULT_TIMEOUT_MS = 3_000;

export interface WsClient {
  /** Every frame received so far, in order of arrival (unparseable ones as `{type: '<unparseable>'}`). */
  readonly frames: ServerFrame[];
  readonly socket: WebSocket;
  /** Sends a frame (an object is JSON-encoded; a string is sent as is). */
  send(frame: object | string): void;
  /**
   * The first frame (received at index `since` or later, already or in the future) that
   * matches; rejects after `timeoutMs` with the frames seen, so a failure explains itself.
   */
  waitFor<F extends ServerFrame = ServerFrame>(predicate: (frame: ServerFrame) => boolean, options?: { timeoutMs?: number; since?: number }): Promise<F>;
  /** Frames received so far that match. */
  received(predicate: (frame: ServerFrame) => boolean): ServerFrame[];
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The close code and reason, once the server closes the socket; rejects after `timeoutMs`. */
  waitForClose(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  /** Closes the socket and waits until it is closed (safe to call twice). */
  close(): Promise<void>;
}

export interface Credentials {
  cookie?: string;
  origin?: string;
}

/** Headers a browser on the app's own site would send. */
function headersFor(base: BaseUrl, credentials: Credentials): Record<string, string> {
  const headers: Record<string, string> = { origin: credentials.origin ?? base };
  if (credentials.cookie) headers.cookie = credentials.cookie;
  return headers;
}

function wsUrl(base: BaseUrl): string {
  return `${base.replace(/^http/, 'ws')}${WS_PATH}`;
}

function wrap(socket: WebSocket): WsClient {
  const frames: ServerFrame[] = [];
  const waiters = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | undefined;

  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      resolve(closeInfo);
      for (const wake of waiters) wake();
    });
  });
  socket.on('error', () => undefined); // surfaced through `closed` and timeouts instead
  socket.on('message', (data, isBinary) => {
    let frame: ServerFrame;
    try {
      // The contract is JSON in text frames; a browser would get a binary one as a Blob.
      if (isBinary) throw new Error('binary frame');
      frame = JSON.parse(data.toString()) as ServerFrame;
    } catch {
      frame = { type: '<unparseable>', raw: data.toString() } as unknown as ServerFrame;
    }
    frames.push(frame);
    for (const wake of waiters) wake();
  });

  return {
    frames,
    socket,
    send(frame) {
      socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
    waitFor<F extends ServerFrame>(predicate: (frame: ServerFrame) => boolean, options: { timeoutMs?: number; since?: number } = {}) {
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let index = options.since ?? 0;
      return new Promise<F>((resolve, reject) => {
        const check = () => {
          for (; index < frames.length; index += 1) {
            if (predicate(frames[index]!)) {
              finish();
              resolve(frames[index] as F);
              return;
            }
          }
          if (closeInfo) {
            finish();
            reject(new Error(`socket closed (${closeInfo.code} ${closeInfo.reason}) before the frame arrived; frames: ${JSON.stringify(frames)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    received(predicate) {
      return frames.filter(predicate);
    },
    closed,
    waitForClose(timeoutMs = DEFAULT_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms; frames: ${JSON.stringify(frames)}`)), timeoutMs);
        void closed.then((info) => {
          clearTimeout(timer);
          resolve(info);
        });
      });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'test done');
      // A server that never answers the close handshake must not hang the test.
      const timer = setTimeout(() => socket.terminate(), 1_000);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Opens a socket and resolves once it is open (not waiting for `hello`). */
export function openWs(base: BaseUrl, credentials: Credentials): Promise<WsClient> {
  const socket = new WebSocket(wsUrl(base), { headers: headersFor(base, credentials) });
  const client = wrap(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`upgrade refused with HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/** Opens a socket as a signed-in user and waits for the server's `hello`. */
export async function connectWs(base: BaseUrl, credentials: Credentials, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<WsClient> {
  const client = await openWs(base, credentials);
  try {
    await client.waitFor((frame) => frame.type === 'hello', { timeoutMs });
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/** How a connection attempt that should be refused ended. */
export type Refusal =
  | { kind: 'http'; status: number }
  | { kind: 'closed'; code: number; frames: ServerFrame[] }
  | { kind: 'accepted'; frames: ServerFrame[] };

/**
 * Tries to connect and reports how the server refused: an HTTP status on the upgrade,
 * or a close code right after it. `accepted` means the socket stayed open (with the
 * frames it got) for `timeoutMs` — a refusal that never came.
 */
export function attemptWs(base: BaseUrl, credentials: Credentials, timeoutMs = 2_000): Promise<Refusal> {
  const socket = new WebSocket(wsUrl(base), { headers: headersFor(base, credentials) });
  const client = wrap(socket);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (refusal: Refusal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
      resolve(refusal);
    };
    const timer = setTimeout(() => settle({ kind: 'accepted', frames: [...client.frames] }), timeoutMs);
    socket.once('unexpected-response', (_request, response) => settle({ kind: 'http', status: response.statusCode ?? 0 }));
    void client.closed.then(({ code }) => settle({ kind: 'closed', code, frames: [...client.frames] }));
  });
}

/** Sends a message over the socket and waits for its ack (throws on the error frame instead). */
export async function sendWs(client: WsClient, roomId: string, body: string, clientId: string = randomUUID()): Promise<Message> {
  client.send({ type: 'send', roomId, body, clientId });
  const reply = await client.waitFor<Frame<'ack'> | Frame<'error'>>(isReply(clientId));
  if (reply.type !== 'ack') throw new Error(`send refused: ${JSON.stringify(reply)}`);
  return reply.message;
}

/**
 * Makes the client ignore the server's close frame, as a hostile or broken client would:
 * it never answers it and keeps its socket open for sending (ws would answer at once).
 * The server cuts the connection itself in the end.
 */
export function ignoreCloseFrame(client: WsClient): void {
  client.socket.close = () => undefined;
}

/** A list of a suite's sockets, closed after each test and after the suite. */
export function closedAfterEach(): WsClient[] {
  const open: WsClient[] = [];
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  };
  afterEach(closeAll);
  afterAll(closeAll);
  return open;
}
