/**
 * 12. Files (issue 16): 10 concurrent clients upload files of 1 MiB and of 20 MiB
 * (multipart, streamed from separate client processes), then download and check them
 * (size and SHA-256), on both storages (FILE_STORAGE=local and database) of the run's
 * database. Figures: MB/s (10⁶ B/s) each way, the server's resident memory before and at
 * its peak during each direction, the upload rate over one core's raw Fernet encryption
 * of 64 KiB chunks in this process, and the send→receive p99 of a small fan-out (rooms
 * of 10) without uploads and while 10 clients upload 20 MiB files.
 */
import { createCipheriv, createHmac, randomFillSync } from 'node:crypto';
import { encryptFernet, FernetKey, generateFernetKey } from '../../src/server/crypto/fernet.js';
import { FILE_LIMITS } from '../../src/shared/file-shapes.js';
import type { HistogramData } from '../lib/histogram.js';
import { Histogram } from '../lib/histogram.js';
import { growthMiB, sampleMemory, type MemoryWindow } from '../lib/memory-sampler.js';
import { megabytesPerSecond, statusProblems } from '../lib/transfers.js';
import { atLeast, below, type Figure, type ScenarioResult, type Target } from '../lib/report.js';
import { fail, newResult, type BenchContext, type Scenario, type Scope } from '../lib/scenario.js';
import { seedRooms, seedUsers, type BenchUser } from '../lib/seed.js';
import type { RunningServer } from '../lib/server.js';
import { formatNumber, progress, sleep, split, startCpuMeter } from '../lib/util.js';
import type { WorkerHandle } from '../lib/workers.js';
import type { FileClient, UploadedFile } from '../workers/files.js';
import { opsPerSecond } from './crypto.js';
import { measureFanout, type Case as FanoutCase } from './fanout.js';

const MiB = 1024 * 1024;
const CLIENTS = 10;
const STORAGES = ['local', 'database'] as const;
type Storage = (typeof STORAGES)[number];
/** The target for encrypted upload on the local-folder storage. */
const UPLOAD_TARGET_MBPS = 100;

interface SizeCase {
  sizeBytes: number;
  clients: number;
  filesEach: number;
}

function sizeCases(ctx: BenchContext): SizeCase[] {
  return ctx.quick
    ? [{ sizeBytes: MiB, clients: CLIENTS, filesEach: 1 }, { sizeBytes: 20 * MiB, clients: 2, filesEach: 1 }]
    : [{ sizeBytes: MiB, clients: CLIENTS, filesEach: 20 }, { sizeBytes: 20 * MiB, clients: CLIENTS, filesEach: 3 }];
}

function fanoutCase(ctx: BenchContext): FanoutCase {
  return ctx.quick
    ? { clients: 20, roomSize: 10, messagesPerSec: 100, warmupMs: 1_500, durationMs: 2_000 }
    : { clients: 20, roomSize: 10, messagesPerSec: 100, warmupMs: 2_000, durationMs: 6_000 };
}

interface UploadResult {
  files: UploadedFile[];
  bytes: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  finishedAt: number;
}

interface DownloadResult {
  downloaded: number;
  bytes: number;
  mismatches: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  finishedAt: number;
}

/** One core's encryption of 64 KiB chunks (the server's per-chunk work), in MB/s: best of short rounds. */
function encryptionMegabytesPerSecond(ms: number): { fernet: number; raw: number } {
  const keyText = generateFernetKey();
  const key = FernetKey.fromString(keyText);
  const raw = Buffer.from(keyText, 'base64url');
  const chunk = Buffer.alloc(FILE_LIMITS.chunkBytes, 7);
  const iv = Buffer.alloc(16);
  const fernetOp = () => encryptFernet(key, chunk);
  // What a Fernet token costs without its framing and base64: AES-128-CBC, then HMAC-SHA256 over IV ‖ ciphertext.
  const rawOp = () => {
    randomFillSync(iv);
    const cipher = createCipheriv('aes-128-cbc', raw.subarray(16, 32), iv);
    const head = cipher.update(chunk);
    const tail = cipher.final();
    createHmac('sha256', raw.subarray(0, 16)).update(iv).update(head).update(tail).digest();
  };
  opsPerSecond(100, fernetOp);
  opsPerSecond(100, rawOp);
  let fernet = 0;
  let rawOps = 0;
  for (let round = 0; round < 4; round++) {
    fernet = Math.max(fernet, opsPerSecond(ms / 8, fernetOp));
    rawOps = Math.max(rawOps, opsPerSecond(ms / 8, rawOp));
  }
  return { fernet: (fernet * chunk.length) / 1e6, raw: (rawOps * chunk.length) / 1e6 };
}

const mib = (bytes: number) => `${formatNumber(bytes / MiB)} MiB`;
const memoryText = (w: MemoryWindow) => `RSS ${mib(w.beforeBytes)} before, peak ${mib(w.peakBytes)}, ${mib(w.afterBytes)} after (${w.samples} samples)`;

interface Setup {
  server: RunningServer;
  workers: WorkerHandle[];
  uploaders: FileClient[];
  quietUsers: BenchUser[];
  busyUsers: BenchUser[];
}

/** The clients of one case spread over the worker processes (none left empty). */
function shares(setup: Setup, clients: number): Array<{ worker: WorkerHandle; clients: FileClient[] }> {
  return split(setup.uploaders.slice(0, clients), setup.workers.length)
    .map((share, w) => ({ worker: setup.workers[w]!, clients: share }))
    .filter((s) => s.clients.length > 0);
}

async function transferCase(ctx: BenchContext, setup: Setup, storage: Storage, c: SizeCase, fernetMBps: number): Promise<ScenarioResult> {
  const began = Date.now();
  const { server } = setup;
  const dbName = ctx.databases.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const result = newResult(ctx, `files-${storage}-${c.sizeBytes / MiB}mib`, `Files: ${c.sizeBytes / MiB} MiB × ${c.clients} clients, ${storage} storage (${dbName})`);
  const parts = shares(setup, c.clients);
  progress(`${result.name}: ${c.filesEach} file(s) each, up then down`);

  const upMemory = sampleMemory(() => server.rssBytes());
  const upCpu = startCpuMeter([server.pid]);
  const ups = await Promise.all(parts.map((p) => p.worker.call<UploadResult>('upload', { baseUrl: server.baseUrl, clients: p.clients, sizeBytes: c.sizeBytes, filesEach: c.filesEach })));
  const upWindow = upMemory.stop();
  const upCores = upCpu();

  const downMemory = sampleMemory(() => server.rssBytes());
  const downCpu = startCpuMeter([server.pid]);
  const downs = await Promise.all(parts.map((p, w) => p.worker.call<DownloadResult>('download', { baseUrl: server.baseUrl, files: ups[w]!.files, concurrency: p.clients.length })));
  const downWindow = downMemory.stop();
  const downCores = downCpu();

  const expected = c.clients * c.filesEach;
  const uploaded = ups.reduce((s, u) => s + u.files.length, 0);
  const upStatus = statusProblems(ups, 201);
  const downStatus = statusProblems(downs, 200);
  const mismatches = downs.reduce((s, d) => s + d.mismatches, 0);
  const samples = [...ups, ...downs].flatMap((p) => p.errorSamples).slice(0, 3).join('; ');
  if (uploaded !== expected || upStatus.problems) fail(result, `${uploaded} of ${expected} uploads answered 201 (${upStatus.problems || 'no other answer'}): ${samples}`);
  if (downStatus.problems) fail(result, `downloads answered ${downStatus.problems}: ${samples}`);
  if (mismatches > 0) fail(result, `${mismatches} downloads differ from what was uploaded (size or SHA-256): ${samples}`);

  const upMBps = megabytesPerSecond(ups);
  const downMBps = megabytesPerSecond(downs);
  const upLatency = new Histogram();
  for (const u of ups) upLatency.merge(u.latency);
  const downLatency = new Histogram();
  for (const d of downs) downLatency.merge(d.latency);
  const inFlightMiB = (c.clients * c.sizeBytes) / MiB;
  // Whole-file buffers would add at least the files in flight; streaming adds only buffers and GC slack.
  const flat = (growth: number): Target | undefined => (c.sizeBytes >= 20 * MiB ? below(growth, inFlightMiB / 2, ' MiB') : undefined);
  const sentText = `${expected} × ${c.sizeBytes / MiB} MiB multipart POST /api/v1/rooms/:id/files, streamed by ${c.clients} clients in ${parts.length} processes, one upload in flight each`;
  const upReceived = `${uploaded} × 201; ${memoryText(upWindow)}`;
  const downSent = `GET /api/v1/files/:id of each uploaded file by its uploader, ${c.clients} in flight`;
  const downReceived = `${formatNumber(downs.reduce((s, d) => s + d.bytes, 0) / MiB)} MiB, ${mismatches} differing from the upload; ${memoryText(downWindow)}`;
  const figures: Figure[] = [
    { figure: 'upload MB/s', value: upMBps, unit: 'MB/s', target: storage === 'local' ? atLeast(upMBps, UPLOAD_TARGET_MBPS, ' MB/s') : undefined, sent: sentText, received: upReceived },
    { figure: 'download MB/s', value: downMBps, unit: 'MB/s', sent: downSent, received: downReceived },
    { figure: 'upload ÷ raw Fernet encryption', value: upMBps / fernetMBps, unit: '×', sent: sentText, received: `${formatNumber(upMBps)} MB/s vs ${formatNumber(fernetMBps)} MB/s of Fernet on one core (64 KiB chunks, bench process)` },
    { figure: 'server RSS growth uploading', value: growthMiB(upWindow), unit: 'MiB', target: flat(growthMiB(upWindow)), sent: sentText, received: upReceived },
    { figure: 'server RSS growth downloading', value: growthMiB(downWindow), unit: 'MiB', target: flat(growthMiB(downWindow)), sent: downSent, received: downReceived },
  ];
  result.figures.push(...figures);
  result.notes.push(`server CPU ${upCores.toFixed(2)} cores uploading, ${downCores.toFixed(2)} downloading; per file: upload p50 ${upLatency.summary().p50} ms, download p50 ${downLatency.summary().p50} ms`);
  if (flat(0)) result.notes.push(`memory target: the peak RSS rise stays under half of the ${formatNumber(inFlightMiB)} MiB in flight, which whole-file buffers would add`);
  result.details = {
    storage,
    sizeBytes: c.sizeBytes,
    clients: c.clients,
    filesEach: c.filesEach,
    uploaded,
    uploadStatuses: upStatus.statuses,
    downloadStatuses: downStatus.statuses,
    mismatches,
    uploadMBps: Number(upMBps.toFixed(1)),
    downloadMBps: Number(downMBps.toFixed(1)),
    fernetMBps: Math.round(fernetMBps),
    uploadMemory: upWindow,
    downloadMemory: downWindow,
    uploadLatencyMs: upLatency.summary(),
    downloadLatencyMs: downLatency.summary(),
    serverCpuCores: { upload: Number(upCores.toFixed(2)), download: Number(downCores.toFixed(2)) },
  };
  result.durationMs = Date.now() - began;
  return result;
}

/** The fan-out's p99 without uploads, then (other users, other rooms) while 10 clients upload 20 MiB files non-stop. */
async function fanoutDuringUploads(ctx: BenchContext, scope: Scope, setup: Setup, storage: Storage): Promise<ScenarioResult> {
  const began = Date.now();
  const c = fanoutCase(ctx);
  const dbName = ctx.databases.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const result = newResult(ctx, `files-${storage}-fanout`, `Files: fan-out in rooms of ${c.roomSize} while ${CLIENTS} clients upload 20 MiB files, ${storage} storage (${dbName})`);
  const servers = [setup.server];
  const fanout = (users: BenchUser[], label: string) =>
    measureFanout(ctx, scope, c, { result: newResult(ctx, 'files-fanout', label), name: `${result.name}: ${label}`, began, users, servers });

  const quiet = await fanout(setup.quietUsers, 'without uploads');
  const parts = shares(setup, CLIENTS);
  const memory = sampleMemory(() => setup.server.rssBytes());
  const loads = parts.map((p) => p.worker.call<UploadResult>('upload', { baseUrl: setup.server.baseUrl, clients: p.clients, sizeBytes: 20 * MiB }));
  let busy: ScenarioResult;
  try {
    await sleep(500); // the uploads under way before the messages start
    busy = await fanout(setup.busyUsers, 'while uploading');
  } finally {
    await Promise.all(parts.map((p) => p.worker.call('stop')));
  }
  const ups = await Promise.all(loads);
  const window = memory.stop();

  for (const [label, r] of [['without uploads', quiet], ['while uploading', busy]] as const) {
    for (const failure of r.failures) fail(result, `${label}: ${failure}`);
  }
  const upStatus = statusProblems(ups, 201);
  if (upStatus.problems) fail(result, `uploads meanwhile answered ${upStatus.problems}: ${ups.flatMap((u) => u.errorSamples).slice(0, 3).join('; ')}`);
  const uploaded = ups.reduce((s, u) => s + u.files.length, 0);
  if (uploaded === 0) fail(result, 'no upload finished while the messages were sent');
  const latency = (r: ScenarioResult) => (r.details.latencyMs as { p50: number; p99: number } | undefined) ?? { p50: Number.NaN, p99: Number.NaN };
  const before = latency(quiet);
  const during = latency(busy);
  // "Unchanged": within half again the p99 without uploads, or 5 ms of it (a few ms are noise on 2 cores).
  const bound = Math.max(before.p99 * 1.5, before.p99 + 5);
  const unchanged: Target = { text: `≤ ${formatNumber(bound)} ms (1.5× or +5 ms of the p99 without uploads)`, met: during.p99 <= bound };
  const upMBps = megabytesPerSecond(ups);
  const sentText = `${formatNumber(c.messagesPerSec)} messages/s over WS from ${c.clients} sockets in rooms of ${c.roomSize} (${c.warmupMs / 1000} + ${c.durationMs / 1000} s), before and while ${CLIENTS} clients upload 20 MiB files non-stop`;
  const receivedText = `${formatNumber(Number(busy.details.measuredDeliveries ?? 0))} timed deliveries while uploading, ${uploaded} uploads of 20 MiB finished; ${memoryText(window)}`;
  result.figures.push(
    { figure: 'send→receive p99 without uploads', value: before.p99, unit: 'ms', sent: sentText, received: `${formatNumber(Number(quiet.details.measuredDeliveries ?? 0))} timed deliveries` },
    { figure: 'send→receive p99 while uploading', value: during.p99, unit: 'ms', target: unchanged, sent: sentText, received: receivedText },
    { figure: 'upload MB/s meanwhile', value: upMBps, unit: 'MB/s', sent: sentText, received: receivedText },
  );
  result.notes.push(`send→receive p50 ${before.p50} ms without uploads, ${during.p50} ms while uploading`);
  result.details = { storage, fanout: c, withoutUploads: quiet.details, whileUploading: busy.details, uploaded, uploadMBps: Number(upMBps.toFixed(1)), memory: window };
  result.durationMs = Date.now() - began;
  return result;
}

async function startStorage(ctx: BenchContext, scope: Scope, storage: Storage): Promise<Setup> {
  const instance = await scope.instance(`files-${storage}`);
  const seeded = await instance.seed(async (seed) => {
    const uploaders = await seedUsers(seed, 'uploader', CLIENTS, { sessions: true });
    const [roomId] = await seedRooms(seed, 'files-room', [uploaders.map((u) => u.id)]);
    const c = fanoutCase(ctx);
    const group = async (prefix: string) => {
      const users = await seedUsers(seed, prefix, c.clients, { sessions: true });
      const rooms = Array.from({ length: c.clients / c.roomSize }, (_, r) => users.slice(r * c.roomSize, (r + 1) * c.roomSize).map((u) => u.id));
      await seedRooms(seed, `${prefix}-room`, rooms);
      return users;
    };
    return { uploaders: uploaders.map((u) => ({ cookie: u.cookie, roomId: roomId! })), quietUsers: await group('quiet'), busyUsers: await group('busy') };
  });
  const server = await instance.start({
    FILE_STORAGE: storage,
    FILE_MAX_MB: '25',
    // The bench uploads far more than a person's quota; the quota check itself still runs.
    FILE_QUOTA_MB: '10485760',
  });
  const workers = await scope.startWorkers('files', `files-${storage}`, Math.min(ctx.clientProcesses, CLIENTS));
  return { server, workers, ...seeded };
}

export const filesScenario: Scenario = {
  id: 'files',
  title: 'Files: upload and download',
  limitMs: (ctx) => (ctx.quick ? 150_000 : 900_000),
  async run(ctx, scope, emit) {
    const encryption = encryptionMegabytesPerSecond(ctx.quick ? 400 : 2_000);
    const fernetMBps = encryption.fernet;
    {
      const result = newResult(ctx, 'files-encryption', 'Files: encryption of 64 KiB chunks (one core, bench process)');
      const sent = 'one 64 KiB buffer encrypted again and again, best of 4 alternating rounds';
      result.figures.push(
        { figure: 'Fernet encryption MB/s', value: fernetMBps, unit: 'MB/s', sent, received: 'Fernet tokens (base64 text), as the server stores them' },
        { figure: 'raw AES-128-CBC + HMAC-SHA256 MB/s', value: encryption.raw, unit: 'MB/s', sent, received: 'ciphertext and MAC, no token framing or base64' },
      );
      result.details = { fernetMBps: Math.round(fernetMBps), rawMBps: Math.round(encryption.raw) };
      emit(result);
    }
    for (const storage of STORAGES) {
      const setup = await startStorage(ctx, scope, storage);
      for (const c of sizeCases(ctx)) emit(await transferCase(ctx, setup, storage, c, fernetMBps));
      // The quick run checks the fan-out beside uploads once; the full run on both storages.
      if (!ctx.quick || storage === 'local') emit(await fanoutDuringUploads(ctx, scope, setup, storage));
      await scope.dispose(); // this storage's server and data go before the next one's
    }
  },
};
