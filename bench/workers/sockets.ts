/**
 * A client process holding many authenticated WebSockets (one per bench user). It can
 * connect them, send `send` frames on them (open loop at a fixed rate, or closed loop:
 * the next one on each ack), keep track of every `message` frame each socket receives
 * (to prove each acknowledged message reached every member), measure send-to-receive
 * latency from the wall-clock stamp in the body, and ping one socket to time round trips.
 */
import WebSocket from 'ws';
import { Histogram } from '../lib/histogram.js';
import { benchBody } from '../lib/seed.js';
import { sleep, wallNow } from '../lib/util.js';
import { changesVerify, recordChange } from './change-tracker.js';
import { connectAll, countMissing, type ConnectRequest, type Connection } from './socket-connections.js';
import { serve } from './rpc.js';

const workerName = process.argv[2] ?? 'sockets';
// BENCH_SIMULATE_LOSS=1: the first socket of each client process ignores every 50th message
// (and every 50th change), so a run must report lost messages and fail — a check of the checker.
const simulateLoss = process.env.BENCH_SIMULATE_LOSS === '1';

const connections: Connection[] = [];
const latency = new Histogram();
const ackLatency = new Histogram();
const pending = new Map<string, { connection: Connection; sentAt: number }>();
const acked = new Map<string, number[]>();
let deliveries = 0;
/** Deliveries of messages stamped at or after `measureFrom` (after the warm-up). */
let measuredDeliveries = 0;
let measureFrom = 0;
let duplicates = 0;
let foreign = 0;
let otherFrames = 0;
let firstReceiveAt = 0;
let lastReceiveAt = 0;
let lastAckAt = 0;
let measuredAcks = 0;
let sendErrors = 0;
const errorSamples: string[] = [];
let onAck: ((connection: Connection) => void) | undefined;
let pongWaiter: (() => void) | undefined;

function markReceived(connection: Connection, seq: number): void {
  let received = connection.received;
  if (seq >= received.length) {
    const grown = new Uint8Array(Math.max(seq + 1, received.length * 2));
    grown.set(received);
    connection.received = received = grown;
  }
  if (received[seq]! > 0) duplicates += 1;
  if (received[seq]! < 255) received[seq]! += 1;
}

function onFrame(connection: Connection, data: WebSocket.RawData): void {
  const now = wallNow();
  const frame = JSON.parse(data.toString()) as {
    type: string;
    message?: { roomId: string; seq: number; body: string; changeSeq?: number; reactions: Array<{ emoji: string; userIds: string[] }> };
    clientId?: string;
    rooms?: Array<{ id: string; lastSeq: number }>;
    error?: { code: string; message: string };
  };
  switch (frame.type) {
    case 'message': {
      const message = frame.message!;
      if (message.roomId !== connection.roomId) {
        foreign += 1;
        return;
      }
      if (simulateLoss && connection.index === 0 && message.seq % 50 === 0) return;
      deliveries += 1;
      markReceived(connection, message.seq);
      // Bodies of bench sends start with "t=<wall-clock ms>;".
      if (!message.body.startsWith('t=')) return;
      const sentAt = Number(message.body.slice(2, message.body.indexOf(';')));
      if (sentAt < measureFrom) return;
      measuredDeliveries += 1;
      if (firstReceiveAt === 0) firstReceiveAt = now;
      lastReceiveAt = now;
      latency.record(now - sentAt);
      return;
    }
    case 'ack': {
      const sent = pending.get(frame.clientId!);
      if (!sent) return;
      pending.delete(frame.clientId!);
      sent.connection.inflight -= 1;
      if (sent.sentAt >= measureFrom) {
        ackLatency.record(now - sent.sentAt);
        measuredAcks += 1;
        lastAckAt = now;
      }
      const message = frame.message!;
      let list = acked.get(message.roomId);
      if (!list) acked.set(message.roomId, (list = []));
      list.push(message.seq);
      onAck?.(sent.connection);
      return;
    }
    case 'error': {
      const sent = frame.clientId ? pending.get(frame.clientId) : undefined;
      if (sent) {
        pending.delete(frame.clientId!);
        sent.connection.inflight -= 1;
      }
      sendErrors += 1;
      if (errorSamples.length < 5) errorSamples.push(`${frame.error?.code}: ${frame.error?.message}`);
      if (sent) onAck?.(sent.connection);
      return;
    }
    case 'pong':
      pongWaiter?.();
      return;
    case 'hello':
      // Bench users belong to exactly one room: the one their socket sends to and hears.
      connection.roomId = frame.rooms?.[0]?.id;
      return;
    case 'message_updated':
      if (simulateLoss && connection.index === 0 && (frame.message!.changeSeq ?? 0) % 50 === 0) return;
      recordChange(connection, frame.message!, now);
      return;
    default:
      otherFrames += 1;
  }
}

interface SendRequest {
  /** Sending before the measured period (JIT, caches); verified for delivery but not timed. */
  warmupMs?: number;
  durationMs: number;
  /** This worker's share of the offered rate; absent: closed loop (next send on each ack). */
  ratePerSec?: number;
  /** Most un-acknowledged sends per socket; a due send on a full socket is shed (counted, not sent). */
  window: number;
  bodyBytes: number;
  drainTimeoutMs: number;
}

async function send(request: SendRequest) {
  const senders = connections.filter((c) => c.roomId !== undefined && c.socket.readyState === WebSocket.OPEN);
  if (senders.length === 0) throw new Error('no connected sockets to send on');
  let sent = 0;
  let shed = 0;
  let counter = 0;
  let cursor = 0;
  const warmupStartedAt = wallNow();
  const startedAt = warmupStartedAt + (request.warmupMs ?? 0);
  measureFrom = startedAt;
  const endAt = startedAt + request.durationMs;
  let lastSendAt = startedAt;
  let sentBeforeMeasuring = 0;
  let shedBeforeMeasuring = 0;

  const sendOn = (connection: Connection) => {
    const clientId = `${workerName}-${counter++}`;
    const sentAt = wallNow();
    const body = benchBody(`t=${sentAt.toFixed(3)};`, request.bodyBytes);
    pending.set(clientId, { connection, sentAt });
    connection.inflight += 1;
    connection.socket.send(`{"type":"send","roomId":"${connection.roomId}","clientId":"${clientId}","body":"${body}"}`);
    sent += 1;
    lastSendAt = sentAt;
  };

  if (request.ratePerSec === undefined) {
    onAck = (connection) => {
      if (wallNow() < endAt && connection.socket.readyState === WebSocket.OPEN) sendOn(connection);
    };
    for (const connection of senders) for (let i = 0; i < request.window; i++) sendOn(connection);
    while (wallNow() < startedAt) await sleep(5);
    sentBeforeMeasuring = sent;
    while (wallNow() < endAt) await sleep(20);
  } else {
    const rate = request.ratePerSec;
    let measuring = false;
    while (wallNow() < endAt) {
      if (!measuring && wallNow() >= startedAt) {
        measuring = true;
        sentBeforeMeasuring = sent;
        shedBeforeMeasuring = shed;
      }
      const due = Math.floor(((wallNow() - warmupStartedAt) * rate) / 1000);
      while (sent + shed < due) {
        const connection = senders[cursor++ % senders.length]!;
        if (connection.inflight < request.window && connection.socket.readyState === WebSocket.OPEN) sendOn(connection);
        else shed += 1;
      }
      await sleep(1);
    }
  }
  onAck = undefined;
  const drainUntil = wallNow() + request.drainTimeoutMs;
  while (pending.size > 0 && wallNow() < drainUntil) await sleep(20);
  const ackedCount = [...acked.values()].reduce((sum, list) => sum + list.length, 0);
  return {
    senders: senders.length,
    /** Counts for the measured period only (after the warm-up). */
    offered: request.ratePerSec === undefined ? sent - sentBeforeMeasuring : Math.floor((request.durationMs * request.ratePerSec) / 1000),
    sent: sent - sentBeforeMeasuring,
    shed: shed - shedBeforeMeasuring,
    measuredAcks,
    /** Every acknowledged message, warm-up included: all must be delivered. */
    acked: Object.fromEntries(acked),
    ackedCount,
    warmupSent: sentBeforeMeasuring,
    unacked: pending.size,
    errors: sendErrors,
    errorSamples,
    ackLatency: ackLatency.toJSON(),
    startedAt,
    lastSendAt,
    lastAckAt,
  };
}

interface VerifyRequest {
  /** roomId → the seqs acknowledged to any sender in that room. */
  expected: Record<string, number[]>;
  timeoutMs: number;
}

async function verify(request: VerifyRequest) {
  const until = wallNow() + request.timeoutMs;
  let result = countMissing(connections, request.expected, workerName);
  while (result.missing > 0 && wallNow() < until) {
    await sleep(50);
    result = countMissing(connections, request.expected, workerName);
  }
  const closed: Record<string, number> = {};
  for (const connection of connections) {
    if (connection.closeCode !== undefined) closed[connection.closeCode] = (closed[connection.closeCode] ?? 0) + 1;
  }
  return {
    expectedDeliveries: result.checked,
    missing: result.missing,
    socketsMissing: result.socketsMissing,
    examples: result.examples,
    deliveries,
    measuredDeliveries,
    duplicates,
    foreign,
    closedByServer: closed,
    latency: latency.toJSON(),
    firstReceiveAt,
    lastReceiveAt,
  };
}

let pinging: Promise<Array<[number, number]>> | undefined;
let stopPing = false;

/** Pings on the first socket every `intervalMs` (one at a time) until pingStop; records [sentAt, rtt]. */
function pingStart(request: { intervalMs: number }): void {
  const connection = connections[0];
  if (!connection) throw new Error('no socket to ping on');
  stopPing = false;
  pinging = (async () => {
    const samples: Array<[number, number]> = [];
    while (!stopPing) {
      const begin = wallNow();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no pong within 10 s')), 10_000);
        pongWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
        connection.socket.send('{"type":"ping"}');
      });
      const end = wallNow();
      samples.push([begin, end - begin]);
      await sleep(Math.max(0, request.intervalMs - (end - begin)));
    }
    return samples;
  })();
}

async function pingStop(): Promise<Array<[number, number]>> {
  stopPing = true;
  return (await pinging) ?? [];
}

async function closeAll(): Promise<{ closed: number }> {
  const count = connections.length;
  for (const connection of connections) connection.socket.terminate();
  connections.length = 0;
  return { closed: count };
}

serve({
  connect: (request: ConnectRequest) => connectAll(connections, request, onFrame, workerName),
  send,
  verify,
  changesVerify: (request: Parameters<typeof changesVerify>[1]) => changesVerify(connections, request),
  pingStart,
  pingStop,
  stats: () => ({ open: connections.filter((c) => c.socket.readyState === WebSocket.OPEN).length, deliveries, otherFrames }),
  close: closeAll,
  exit: closeAll,
});

