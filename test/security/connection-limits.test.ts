/**
 * What one connection may hold, over real sockets: a request whose body dribbles in is cut
 * off at REQUEST_TIMEOUT_SECONDS, connections over MAX_CONNECTIONS are closed as they
 * arrive, and what Node's own parser refuses (a URL over 16 KiB, malformed HTTP, a
 * deadline) is answered in the API's error shape. A WebSocket outlives the request deadline.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, signUp, startTestApp, type TestApp } from '../support/app.js';
import { isPong } from '../support/frames.js';
import { connectWs } from '../support/ws-client.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A raw connection: collects what the server sends until it closes the connection. */
function rawConnection(port: number): { socket: Socket; connected: Promise<void>; received: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset also ends what was received
    socket.once('close', () => resolve(text));
  });
  return { socket, connected, received };
}

function parseAnswer(text: string): RawAnswer {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

/** Sends `request` on a new connection and parses the one answer the server gives before closing it. */
async function rawRequest(port: number, request: string): Promise<RawAnswer> {
  const connection = rawConnection(port);
  await connection.connected;
  connection.socket.write(request);
  return parseAnswer(await connection.received);
}

function expectContractShape(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('connection limits and parser errors', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { REQUEST_TIMEOUT_SECONDS: '1', HEADERS_TIMEOUT_SECONDS: '1', MAX_CONNECTIONS: '4' });
    port = Number(new URL(await listenOnLoopback(t.app)).port);
  });
  afterAll(async () => {
    await t.close();
  });
  const openConnections = () => new Promise<number>((resolve, reject) => t.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

  it('answers a URL over 16 KiB with 431 in the API error shape', async () => {
    const answer = await rawRequest(port, `GET /api/v1/rooms?q=${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expectContractShape(answer, 431, 'headers_too_large');
  });

  it('answers one path parameter over 300 characters with 414, headers over 16 KiB with 431', async () => {
    // The router's limit on one parameter (maxParamLength); the URL as a whole counts toward Node's 16 KiB.
    const longParameter = await t.app.inject({ method: 'GET', url: `/api/v1/rooms/${'r'.repeat(301)}/messages` });
    expect(longParameter.statusCode).toBe(414);
    expect(longParameter.json()).toEqual({ error: { code: 'uri_too_long', message: expect.any(String) } });
    const bigHeader = await rawRequest(port, `GET /api/v1/rooms HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expectContractShape(bigHeader, 431, 'headers_too_large');
  });

  it('answers malformed HTTP with 400 in the API error shape', async () => {
    const answer = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
    expectContractShape(answer, 400, 'bad_request');
  });

  it('cuts off a request whose body arrives too slowly, with 408 in the API error shape', async () => {
    const connection = rawConnection(port);
    await connection.connected;
    connection.socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    // One byte every 100 ms: without a deadline this would take 100 s, and hold the connection all along.
    const dribble = setInterval(() => {
      if (!connection.socket.destroyed) connection.socket.write(' ');
    }, 100);
    try {
      expectContractShape(parseAnswer(await connection.received), 408, 'request_timeout');
    } finally {
      clearInterval(dribble);
    }
    expect(connection.socket.destroyed).toBe(true);
  });

  it('keeps a WebSocket open past the request deadline', async () => {
    const session = await signUp(t.app);
    const base = `http://127.0.0.1:${port}`;
    const client = await connectWs(base, { cookie: session.cookie });
    try {
      // Past the 1 s request deadline and Node's next check of it.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      client.send({ type: 'ping' });
      await client.waitFor(isPong);
    } finally {
      await client.close();
    }
  });

  it('closes connections over MAX_CONNECTIONS as they arrive, and takes new ones once others close', async () => {
    const held = Array.from({ length: 4 }, () => rawConnection(port));
    // Each answered request proves the server has taken that connection.
    for (const connection of held) {
      await connection.connected;
      const answered = new Promise<void>((resolve) => connection.socket.once('data', () => resolve()));
      connection.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await answered;
    }
    const extra = rawConnection(port);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await extra.received).toBe('');

    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.received));
    // The server counts a connection until it has seen it close.
    for (let i = 0; i < 250 && (await openConnections()) > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    const later = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(later.status).toBe(200);
  });
});
