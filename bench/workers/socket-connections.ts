/**
 * The sockets of a bench client process: opening them (each resolves on `hello`) and
 * checking afterwards that every socket received every acknowledged message of its room.
 */
import WebSocket from 'ws';
import { Histogram } from '../lib/histogram.js';
import { requireOpenFiles, wallNow } from '../lib/util.js';

export interface Connection {
  index: number;
  socket: WebSocket;
  roomId: string | undefined;
  /** Count of `message` frames received per seq (room seqs of a fresh bench room start at 1). */
  received: Uint8Array;
  inflight: number;
  closeCode: number | undefined;
}

export type FrameHandler = (connection: Connection, data: WebSocket.RawData) => void;

export interface ConnectRequest {
  url: string;
  origin: string;
  cookies: string[];
  /** Handshakes in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

/** Opens one socket and resolves once `hello` arrived. */
function connectOne(request: ConnectRequest, cookie: string, onFrame: FrameHandler): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(request.url, { headers: { cookie, origin: request.origin }, perMessageDeflate: false });
    const connection: Connection = { index: -1, socket, roomId: undefined, received: new Uint8Array(64), inflight: 0, closeCode: undefined };
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no hello within ${request.timeoutMs} ms`));
    }, request.timeoutMs);
    let settled = false;
    socket.on('message', (data) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        onFrame(connection, data);
        resolve(connection);
        return;
      }
      onFrame(connection, data);
    });
    socket.once('unexpected-response', (_req, response) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused: HTTP ${response.statusCode}`));
      socket.terminate();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (!settled) reject(error);
    });
    socket.on('close', (code) => {
      connection.closeCode = code;
      clearTimeout(timer);
      if (!settled) reject(new Error(`closed (${code}) before hello`));
    });
  });
}

/** Opens a socket per cookie (`concurrency` handshakes at a time), appending each to `connections`. */
export async function connectAll(connections: Connection[], request: ConnectRequest, onFrame: FrameHandler, workerName: string) {
  requireOpenFiles(connections.length + request.cookies.length + 64, `client worker ${workerName}`);
  const connectTimes = new Histogram();
  const failures: string[] = [];
  let failed = 0;
  let next = 0;
  const startedAt = wallNow();
  const lane = async () => {
    while (next < request.cookies.length) {
      const cookie = request.cookies[next++]!;
      const begin = wallNow();
      try {
        const connection = await connectOne(request, cookie, onFrame);
        connection.index = connections.length;
        connections.push(connection);
        connectTimes.record(wallNow() - begin);
      } catch (error) {
        failed += 1;
        if (failures.length < 5) failures.push(String((error as Error).message));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.concurrency, request.cookies.length) }, lane));
  return { connected: request.cookies.length - failed, failed, failures, startedAt, finishedAt: wallNow(), connectTimes: connectTimes.toJSON() };
}

/** Which acknowledged seqs some socket of the room never received. */
export function countMissing(connections: readonly Connection[], expected: Record<string, number[]>, workerName: string) {
  let missing = 0;
  let socketsMissing = 0;
  let checked = 0;
  const examples: string[] = [];
  for (const connection of connections) {
    const seqs = connection.roomId ? expected[connection.roomId] : undefined;
    if (!seqs) continue;
    checked += seqs.length;
    let mine = 0;
    for (const seq of seqs) {
      if (!(connection.received[seq]! > 0)) {
        mine += 1;
        if (examples.length < 5) examples.push(`socket ${workerName}#${connection.index} (room ${connection.roomId}, closed: ${connection.closeCode ?? 'no'}) lacks seq ${seq}`);
      }
    }
    if (mine > 0) socketsMissing += 1;
    missing += mine;
  }
  return { missing, socketsMissing, checked, examples };
}
