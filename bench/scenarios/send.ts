/**
 * 2. Send throughput: concurrent senders, each with one message in flight (the next
 * one goes when the previous is acknowledged), over HTTP (POST …/messages → 201) and
 * over WebSocket (`send` frame → `ack`). Each sender is the only member of its own room,
 * so this measures the send path, not fan-out or contention on one room.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { atLeast } from '../lib/report.js';
import { fail, newResult, type BenchContext, type Scenario } from '../lib/scenario.js';
import { seedRooms, seedUsers } from '../lib/seed.js';
import { formatNumber, progress, split, startCpuMeter, wallNow } from '../lib/util.js';

const BODY_BYTES = 100;

interface HttpSendResult {
  sent: number;
  ackedCount: number;
  acked: Record<string, number[]>;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  lastAckAt: number;
}

interface WsSendResult {
  sent: number;
  ackedCount: number;
  acked: Record<string, number[]>;
  unacked: number;
  errors: number;
  errorSamples: string[];
  ackLatency: HistogramData;
  startedAt: number;
  lastAckAt: number;
}

interface VerifyResult {
  expectedDeliveries: number;
  missing: number;
  examples: string[];
}

/** Seqs acknowledged in one room must be distinct; returns how many were not. */
function duplicateSeqs(acked: Array<Record<string, number[]>>): number {
  let duplicates = 0;
  const seen = new Map<string, Set<number>>();
  for (const part of acked) {
    for (const [roomId, seqs] of Object.entries(part)) {
      let set = seen.get(roomId);
      if (!set) seen.set(roomId, (set = new Set()));
      for (const seq of seqs) {
        if (set.has(seq)) duplicates += 1;
        set.add(seq);
      }
    }
  }
  return duplicates;
}

function target(ctx: BenchContext, perSec: number) {
  return ctx.databases.dialect === 'sqlite' ? atLeast(perSec, 5_000) : atLeast(perSec, 3_000);
}

export const sendScenario: Scenario = {
  id: 'send',
  title: 'Send throughput',
  limitMs: (ctx) => (ctx.quick ? 45_000 : 120_000),
  async run(ctx, scope, emit) {
    const senders = ctx.quick ? 16 : 32;
    const durationMs = ctx.quick ? 3_000 : 10_000;
    const instance = await scope.instance('send');
    const { users, roomIds } = await instance.seed(async (seed) => {
      const seeded = await seedUsers(seed, 'sender', senders, { sessions: true });
      return { users: seeded, roomIds: await seedRooms(seed, 'send-room', seeded.map((u) => [u.id])) };
    });
    const server = await instance.start();
    const dbName = ctx.databases.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';

    // ---- HTTP ----
    {
      const began = Date.now();
      const result = newResult(ctx, 'send-http', `Send over HTTP, ${senders} senders (${dbName})`);
      const workers = await scope.startWorkers('http', 'send-http', ctx.clientProcesses);
      const csrf = await workers[0]!.call<string[]>('csrfTokens', { baseUrl: server.baseUrl, cookies: users.map((u) => u.cookie) });
      const plan = users.map((u, i) => ({ cookie: u.cookie, csrf: csrf[i]!, roomId: roomIds[i]! }));
      progress(`${result.name}: ${durationMs / 1000} s`);
      const serverCpu = startCpuMeter([server.pid]);
      const clientCpu = startCpuMeter(workers.map((worker) => worker.pid));
      const parts = await Promise.all(
        split(plan, workers.length).map((share, w) => workers[w]!.call<HttpSendResult>('sendLoop', { baseUrl: server.baseUrl, senders: share, durationMs, bodyBytes: BODY_BYTES })),
      );
      const serverCores = serverCpu();
      const clientCores = clientCpu();
      const sent = parts.reduce((s, p) => s + p.sent, 0);
      const acked = parts.reduce((s, p) => s + p.ackedCount, 0);
      const statuses: Record<string, number> = {};
      for (const p of parts) for (const [k, n] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
      const latency = new Histogram();
      for (const p of parts) latency.merge(p.latency);
      const seconds = (Math.max(...parts.map((p) => p.lastAckAt)) - Math.min(...parts.map((p) => p.startedAt))) / 1000;
      const perSec = acked / seconds;
      const lat = latency.summary();
      if (acked !== sent) fail(result, `${sent - acked} of ${sent} sends were not answered 201: ${JSON.stringify(statuses)}; ${parts.flatMap((p) => p.errorSamples).slice(0, 3).join('; ')}`);
      const dup = duplicateSeqs(parts.map((p) => p.acked));
      if (dup > 0) fail(result, `${dup} acknowledged seqs were handed out twice in one room`);
      const sentText = `${formatNumber(sent)} POST /api/v1/rooms/:id/messages (${BODY_BYTES} B bodies) from ${senders} keep-alive connections, one in flight each, ${durationMs / 1000} s`;
      const receivedText = `${formatNumber(acked)} × 201 ${JSON.stringify(statuses)}`;
      result.figures.push(
        { figure: 'acked messages/s', value: perSec, unit: '/s', target: target(ctx, perSec), sent: sentText, received: receivedText },
        { figure: 'ack latency p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
        { figure: 'ack latency p99', value: lat.p99, unit: 'ms', sent: sentText, received: receivedText },
      );
      result.notes.push(`server CPU ${serverCores.toFixed(2)} cores; the ${workers.length} client processes ${clientCores.toFixed(2)} cores`);
      result.details = { transport: 'http', senders, durationMs, sent, acked, statuses, perSec: Math.round(perSec), latencyMs: lat, serverCpuCores: Number(serverCores.toFixed(2)), clientCpuCores: Number(clientCores.toFixed(2)) };
      result.durationMs = Date.now() - began;
      emit(result);
    }

    // ---- WebSocket ----
    {
      const began = Date.now();
      const result = newResult(ctx, 'send-ws', `Send over WebSocket, ${senders} senders (${dbName})`);
      const workers = await scope.startWorkers('sockets', 'send-ws', ctx.clientProcesses);
      const connects = await Promise.all(
        split(users.map((u) => u.cookie), workers.length).map((cookies, w) =>
          workers[w]!.call<{ connected: number; failures: string[] }>('connect', { url: server.wsUrl, origin: server.origin, cookies, concurrency: 16, timeoutMs: 30_000 }),
        ),
      );
      const connected = connects.reduce((s, c) => s + c.connected, 0);
      if (connected !== senders) {
        fail(result, `only ${connected} of ${senders} sockets connected: ${connects.flatMap((c) => c.failures).slice(0, 3).join('; ')}`);
        emit(result);
        return;
      }
      progress(`${result.name}: ${durationMs / 1000} s`);
      const serverCpu = startCpuMeter([server.pid]);
      const clientCpu = startCpuMeter(workers.map((worker) => worker.pid));
      const parts = await Promise.all(
        workers.map((worker) => worker.call<WsSendResult>('send', { durationMs, window: 1, bodyBytes: BODY_BYTES, drainTimeoutMs: 10_000 })),
      );
      const serverCores = serverCpu();
      const clientCores = clientCpu();
      const expected: Record<string, number[]> = {};
      for (const p of parts) for (const [roomId, seqs] of Object.entries(p.acked)) (expected[roomId] ??= []).push(...seqs);
      const verifies = await Promise.all(workers.map((worker) => worker.call<VerifyResult>('verify', { expected, timeoutMs: 10_000 })));
      const sent = parts.reduce((s, p) => s + p.sent, 0);
      const acked = parts.reduce((s, p) => s + p.ackedCount, 0);
      const errors = parts.reduce((s, p) => s + p.errors, 0);
      const unacked = parts.reduce((s, p) => s + p.unacked, 0);
      const missing = verifies.reduce((s, v) => s + v.missing, 0);
      const latency = new Histogram();
      for (const p of parts) latency.merge(p.ackLatency);
      const seconds = (Math.max(...parts.map((p) => p.lastAckAt)) - Math.min(...parts.map((p) => p.startedAt))) / 1000;
      const perSec = acked / seconds;
      const lat = latency.summary();
      if (errors > 0) fail(result, `${errors} sends answered with an error frame: ${parts.flatMap((p) => p.errorSamples).slice(0, 3).join('; ')}`);
      if (unacked > 0) fail(result, `${unacked} sends were never acknowledged`);
      if (missing > 0) fail(result, `LOST MESSAGES: ${missing} acknowledged messages never came back to their room's member: ${verifies.flatMap((v) => v.examples).slice(0, 2).join('; ')}`);
      const dup = duplicateSeqs(parts.map((p) => p.acked));
      if (dup > 0) fail(result, `${dup} acknowledged seqs were handed out twice in one room`);
      const sentText = `${formatNumber(sent)} send frames (${BODY_BYTES} B bodies) on ${senders} sockets, one in flight each, ${durationMs / 1000} s`;
      const receivedText = `${formatNumber(acked)} acks; ${formatNumber(acked - missing)} of ${formatNumber(acked)} messages delivered back to the room`;
      result.figures.push(
        { figure: 'acked messages/s', value: perSec, unit: '/s', target: target(ctx, perSec), sent: sentText, received: receivedText },
        { figure: 'ack latency p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
        { figure: 'ack latency p99', value: lat.p99, unit: 'ms', sent: sentText, received: receivedText },
      );
      result.notes.push(`server CPU ${serverCores.toFixed(2)} cores; the ${workers.length} client processes ${clientCores.toFixed(2)} cores`);
      result.details = { transport: 'websocket', senders, durationMs, sent, acked, errors, unacked, missingDeliveries: missing, perSec: Math.round(perSec), latencyMs: lat, serverCpuCores: Number(serverCores.toFixed(2)), clientCpuCores: Number(clientCores.toFixed(2)) };
      result.durationMs = Date.now() - began;
      emit(result);
    }
  },
};

