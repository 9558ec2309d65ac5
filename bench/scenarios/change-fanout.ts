/**
 * Fan-out of changes (issue 15): C clients in rooms of S, one message per room (sent
 * through the real HTTP send), every member's socket connected; then the message's
 * author edits it (PATCH) and members toggle reactions on it (PUT / DELETE) at a fixed
 * offered rate, over HTTP from client processes. Every socket records each
 * `message_updated` frame by its changeSeq; the run times change→receive, and fails when
 * any member missed a change or did not end with the room's final state.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import type { ScenarioResult } from '../lib/report.js';
import { fail, newResult, type BenchContext, type Scenario, type Scope } from '../lib/scenario.js';
import { formatNumber, progress, wallNow } from '../lib/util.js';
import type { ChangeRoom, RoomChanges } from '../workers/http-changes.js';
import type { ExpectedRoom } from '../workers/change-tracker.js';
import { seedFanout } from './fanout.js';

/** 100 changes/s: 10,000 deliveries/s in rooms of 100, as the message fan-out's 1000x100@10000 case. */
const CHANGES_PER_SEC = 100;
/** One change in 5 is the author's edit; the rest are reactions. */
const EDIT_EVERY = 5;
const EMOJIS = ['👍', '🎉', '❤️'];

interface Sizes {
  clients: number;
  roomSize: number;
  changesPerSec: number;
  warmupMs: number;
  durationMs: number;
}

const sizes = (ctx: BenchContext): Sizes =>
  ctx.quick
    ? { clients: 100, roomSize: 10, changesPerSec: CHANGES_PER_SEC, warmupMs: 1_000, durationMs: 4_000 }
    : { clients: 1_000, roomSize: 100, changesPerSec: CHANGES_PER_SEC, warmupMs: 2_000, durationMs: 10_000 };

interface LoopResult {
  rooms: RoomChanges[];
  sent: number;
  measuredSent: number;
  edits: number;
  late: number;
  maxLateMs: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  finishedAt: number;
}

interface VerifyResult {
  checked: number;
  missing: number;
  finalMissing: number;
  finalWrong: number;
  examples: string[];
  frames: number;
  duplicates: number;
  foreign: number;
  unnumbered: number;
  measuredDeliveries: number;
  lastReceiveAt: number;
  latency: HistogramData;
}

const sum = <T>(items: readonly T[], of: (item: T) => number) => items.reduce((s, item) => s + of(item), 0);

async function run(ctx: BenchContext, scope: Scope, s: Sizes): Promise<ScenarioResult> {
  const began = Date.now();
  const rooms = s.clients / s.roomSize;
  const name = `Change fan-out: ${formatNumber(s.clients)} clients, rooms of ${s.roomSize}, ${formatNumber(s.changesPerSec)} edits + reactions/s (${formatNumber(s.changesPerSec * s.roomSize)} deliveries/s offered)`;
  const result = newResult(ctx, 'change-fanout', name);
  const instance = await scope.instance(`change-fanout-${s.clients}-${s.roomSize}`);
  const users = await seedFanout(instance, { clients: s.clients, roomSize: s.roomSize, messagesPerSec: 0, warmupMs: s.warmupMs, durationMs: s.durationMs });
  const server = await instance.start();

  // HTTP: room r is changed from process r mod their number (one change in flight per room).
  const httpWorkers = await scope.startWorkers('http', 'change-http', Math.min(ctx.clientProcesses, rooms));
  const roomIds = await instance.seed(async (seed) => (await seed.db.selectFrom('rooms').select(['id', 'name']).where('name', 'like', 'fan-room-%').execute()).sort((a, b) => Number(a.name.slice(9)) - Number(b.name.slice(9))).map((r) => r.id));
  const plans = await Promise.all(
    httpWorkers.map(async (worker, w) => {
      const mine = Array.from({ length: rooms }, (_, r) => r).filter((r) => r % httpWorkers.length === w);
      const members = mine.flatMap((r) => users.slice(r * s.roomSize, (r + 1) * s.roomSize));
      const tokens = await worker.call<string[]>('csrfTokens', { baseUrl: server.baseUrl, cookies: members.map((u) => u.cookie) });
      const callers = members.map((u, i) => ({ cookie: u.cookie, csrf: tokens[i]! }));
      const authors = mine.map((r, j) => ({ roomId: roomIds[r]!, author: callers[j * s.roomSize]! }));
      const seqs = await worker.call<number[]>('postMessages', { baseUrl: server.baseUrl, rooms: authors });
      const changeRooms: ChangeRoom[] = mine.map((r, j) => ({
        roomId: roomIds[r]!,
        seq: seqs[j]!,
        author: callers[j * s.roomSize]!,
        members: callers.slice(j * s.roomSize + 1, (j + 1) * s.roomSize),
      }));
      return { worker, changeRooms };
    }),
  );

  // Sockets: every member, round-robin over the client processes (every room in each).
  const socketWorkers = await scope.startWorkers('sockets', 'change-ws', ctx.clientProcesses);
  const connects = await Promise.all(
    socketWorkers.map((worker, w) =>
      worker.call<{ connected: number; failures: string[] }>('connect', {
        url: server.wsUrl,
        origin: server.origin,
        cookies: users.filter((_, i) => i % socketWorkers.length === w).map((u) => u.cookie),
        concurrency: 50,
        timeoutMs: 30_000,
      }),
    ),
  );
  const connected = sum(connects, (c) => c.connected);
  if (connected !== s.clients) {
    fail(result, `only ${connected} of ${s.clients} sockets connected: ${connects.flatMap((c) => c.failures).slice(0, 3).join('; ')}`);
    return result;
  }

  progress(`${name}: changing for ${s.warmupMs / 1000} + ${s.durationMs / 1000} s`);
  const cpuBefore = server.cpuSeconds();
  const wallBefore = wallNow();
  const loops = await Promise.all(
    plans.map(({ worker, changeRooms }) =>
      worker.call<LoopResult>('changeLoop', {
        baseUrl: server.baseUrl,
        rooms: changeRooms,
        warmupMs: s.warmupMs,
        durationMs: s.durationMs,
        ratePerSec: (s.changesPerSec * changeRooms.length) / rooms,
        editEvery: EDIT_EVERY,
        emojis: EMOJIS,
      }),
    ),
  );
  const serverCores = (server.cpuSeconds() - cpuBefore) / ((wallNow() - wallBefore) / 1000);
  const expected: Record<string, ExpectedRoom> = {};
  for (const room of loops.flatMap((l) => l.rooms)) expected[room.roomId] = { changes: room.changes, final: room.final };
  const verifies = await Promise.all(socketWorkers.map((worker) => worker.call<VerifyResult>('changesVerify', { expected, timeoutMs: 10_000 })));

  const accepted = sum(Object.values(expected), (r) => r.changes.length);
  const expectedDeliveries = accepted * s.roomSize;
  const checked = sum(verifies, (v) => v.checked);
  const missing = sum(verifies, (v) => v.missing);
  const finalMissing = sum(verifies, (v) => v.finalMissing);
  const finalWrong = sum(verifies, (v) => v.finalWrong);
  const measuredDeliveries = sum(verifies, (v) => v.measuredDeliveries);
  const numbering = loops.flatMap((l) => l.rooms.map((r) => r.numbering));
  const mismatches = sum(numbering, (n) => n.mismatches);
  const errors = sum(loops, (l) => l.sent) - accepted - sum(numbering, (n) => n.unknown);
  const startedAt = Math.min(...loops.map((l) => l.startedAt));
  const lastReceiveAt = Math.max(...verifies.map((v) => v.lastReceiveAt));
  const deliveriesPerSec = measuredDeliveries / ((lastReceiveAt - startedAt) / 1000);
  const latency = new Histogram();
  for (const v of verifies) latency.merge(v.latency);
  const httpLatency = new Histogram();
  for (const l of loops) httpLatency.merge(l.latency);
  const lat = latency.summary();
  const http = httpLatency.summary();
  const examples = verifies.flatMap((v) => v.examples).slice(0, 2).join('; ');

  if (checked !== expectedDeliveries) fail(result, `checked ${checked} deliveries but expected ${expectedDeliveries} (sockets without a room?)`);
  if (finalMissing > 0) fail(result, `FINAL STATE NOT DELIVERED: ${finalMissing} of ${s.clients} sockets never got their room's last change (e.g. ${examples})`);
  if (finalWrong > 0) fail(result, `WRONG FINAL STATE on ${finalWrong} sockets (e.g. ${examples})`);
  if (missing > 0) fail(result, `LOST CHANGES: ${formatNumber(missing)} of ${formatNumber(expectedDeliveries)} deliveries of accepted changes never arrived`);
  if (mismatches > 0) fail(result, `${mismatches} edits answered a changeSeq other than the count of changes before them: the timing is not trustworthy`);
  if (errors > 0) fail(result, `${errors} changes not accepted: ${JSON.stringify(loops.map((l) => l.statuses))}; ${loops.flatMap((l) => l.errorSamples).slice(0, 3).join('; ')}`);
  const late = sum(loops, (l) => l.late);
  if (late > 0) result.notes.push(`${formatNumber(late)} changes were sent late (their room's previous change still unanswered), by up to ${formatNumber(Math.max(...loops.map((l) => l.maxLateMs)))} ms`);
  const duplicates = sum(verifies, (v) => v.duplicates);
  if (duplicates > 0) result.notes.push(`${duplicates} duplicate deliveries (same changeSeq twice on one socket)`);

  const measuredSent = sum(loops, (l) => l.measuredSent);
  const edits = sum(loops, (l) => l.edits);
  const sentText =
    `${formatNumber(measuredSent)} changes over HTTP keep-alive (offered ${formatNumber(s.changesPerSec)}/s × ${s.durationMs / 1000} s after a ${s.warmupMs / 1000} s warm-up; ` +
    `1 in ${EDIT_EVERY} a PATCH by the author, the rest PUT/DELETE reactions; one in flight per room) to one message in each of ${rooms} rooms of ${s.roomSize}`;
  const receivedText =
    `${formatNumber(measuredDeliveries)} timed message_updated deliveries; all ${formatNumber(accepted)} accepted changes (${formatNumber(edits)} edits) checked: ` +
    `${formatNumber(checked - missing)} of ${formatNumber(expectedDeliveries)} deliveries arrived; final state on ${formatNumber(s.clients - finalMissing - finalWrong)} of ${formatNumber(s.clients)} sockets`;
  result.figures.push(
    { figure: 'deliveries/s', value: deliveriesPerSec, unit: '/s', sent: sentText, received: receivedText },
    { figure: 'change→receive p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
    { figure: 'change→receive p99', value: lat.p99, unit: 'ms', sent: sentText, received: receivedText },
    { figure: 'change→receive max', value: lat.max, unit: 'ms', sent: sentText, received: receivedText },
  );
  result.notes.push(`server CPU ${serverCores.toFixed(2)} cores while changing; HTTP answer p50 ${http.p50} ms, p99 ${http.p99} ms; compare with the message fan-out's ${formatNumber(s.clients)}x${s.roomSize}@${s.changesPerSec * s.roomSize} case`);
  result.details = {
    ...s,
    rooms,
    sent: sum(loops, (l) => l.sent),
    measuredSent,
    accepted,
    edits,
    late,
    errors,
    numberingMismatches: mismatches,
    expectedDeliveries,
    missingDeliveries: missing,
    finalMissing,
    finalWrong,
    frames: sum(verifies, (v) => v.frames),
    duplicates,
    foreign: sum(verifies, (v) => v.foreign),
    measuredDeliveries,
    deliveriesPerSec: Math.round(deliveriesPerSec),
    latencyMs: lat,
    httpLatencyMs: http,
    serverCpuCores: Number(serverCores.toFixed(2)),
    clientProcesses: { http: httpWorkers.length, sockets: socketWorkers.length },
  };
  result.durationMs = Date.now() - began;
  return result;
}

export const changeFanoutScenario: Scenario = {
  id: 'change-fanout',
  title: 'Change fan-out (edits and reactions)',
  limitMs: (ctx) => (ctx.quick ? 60_000 : 180_000),
  async run(ctx, scope, emit) {
    emit(await run(ctx, scope, sizes(ctx)));
  },
};
