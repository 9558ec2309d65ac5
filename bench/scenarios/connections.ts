/**
 * 3. Connections: N idle authenticated WebSockets on one server (each user in a room
 * of 100, as in the fan-out). Server memory per connection from VmRSS before and after,
 * and the time to connect them all with a bounded number of handshakes in flight.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { atMost } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { seedRooms, seedUsers } from '../lib/seed.js';
import { formatBytes, formatNumber, openFilesLimit, progress, sleep, split, wallNow } from '../lib/util.js';

const ROOM_SIZE = 100;
const WARM_UP = 100;
/** Handshakes in flight per client process. */
const CONCURRENCY = 64;

interface ConnectResult {
  connected: number;
  failed: number;
  failures: string[];
  startedAt: number;
  finishedAt: number;
  connectTimes: HistogramData;
}

export const connectionsScenario: Scenario = {
  id: 'connections',
  title: 'Idle connections',
  limitMs: (ctx) => (ctx.quick ? 45_000 : 300_000),
  async run(ctx, scope, emit) {
    const began = Date.now();
    const count = ctx.quick ? 500 : 10_000;
    const result = newResult(ctx, 'connections', `Idle WebSockets: ${formatNumber(count)}`);
    const instance = await scope.instance('connections');
    const users = await instance.seed(async (seed) => {
      const seeded = await seedUsers(seed, 'idle', count + WARM_UP, { sessions: true });
      const groups: string[][] = [];
      for (let i = 0; i < seeded.length; i += ROOM_SIZE) groups.push(seeded.slice(i, i + ROOM_SIZE).map((u) => u.id));
      await seedRooms(seed, 'idle-room', groups);
      return seeded;
    });
    const server = await instance.start();
    const serverLimit = openFilesLimit(server.pid);
    if (serverLimit < count + WARM_UP + 100) {
      fail(result, `the server may open only ${serverLimit} files (ulimit -n) but needs about ${count + WARM_UP + 100}; raise the hard limit (ulimit -Hn) and run again`);
      emit(result);
      return;
    }
    const workers = await scope.startWorkers('sockets', 'idle', ctx.clientProcesses);
    // Warm-up sockets: the code paths are loaded and compiled before the baseline reading.
    const warm = users.slice(0, WARM_UP).map((u) => u.cookie);
    await workers[0]!.call('connect', { url: server.wsUrl, origin: server.origin, cookies: warm, concurrency: 16, timeoutMs: 30_000 });
    await sleep(1_500);
    const rssBefore = server.rssBytes();
    const cpuBefore = server.cpuSeconds();

    progress(`${result.name}: connecting ${formatNumber(count)} sockets, ${CONCURRENCY * workers.length} handshakes in flight`);
    const cookies = users.slice(WARM_UP).map((u) => u.cookie);
    const parts = await Promise.all(
      split(cookies, workers.length).map((share, w) =>
        workers[w]!.call<ConnectResult>('connect', { url: server.wsUrl, origin: server.origin, cookies: share, concurrency: CONCURRENCY, timeoutMs: 60_000 }),
      ),
    );
    const connectedAt = wallNow();
    const connected = parts.reduce((s, p) => s + p.connected, 0);
    const seconds = (Math.max(...parts.map((p) => p.finishedAt)) - Math.min(...parts.map((p) => p.startedAt))) / 1000;
    const serverCpu = server.cpuSeconds() - cpuBefore;
    // Presence frames to the room-mates settle after the last hello.
    await sleep(3_000);
    const rssAfter = server.rssBytes();
    const stats = await Promise.all(workers.map((w) => w.call<{ open: number }>('stats')));
    const open = stats.reduce((s, st) => s + st.open, 0) - WARM_UP;
    const perConnection = (rssAfter - rssBefore) / count;
    const times = new Histogram();
    for (const p of parts) times.merge(p.connectTimes);
    const t = times.summary();

    if (connected !== count) fail(result, `${count - connected} of ${count} sockets failed to connect: ${parts.flatMap((p) => p.failures).slice(0, 3).join('; ')}`);
    if (open < connected) fail(result, `${connected - open} sockets were closed again within 3 s of connecting`);
    const sentText = `${formatNumber(count)} WebSocket upgrades (cookie + Origin) from ${workers.length} processes, ≤ ${CONCURRENCY * workers.length} in flight; users in rooms of ${ROOM_SIZE}`;
    const receivedText = `${formatNumber(connected)} hello frames; ${formatNumber(open)} still open 3 s later`;
    result.figures.push(
      { figure: 'server RSS per connection', value: perConnection / 1024, unit: 'KiB', target: atMost(perConnection / 1024, 32, ' KiB'), sent: sentText, received: `VmRSS ${formatBytes(rssBefore)} → ${formatBytes(rssAfter)}` },
      { figure: 'time to connect all', value: seconds, unit: 's', sent: sentText, received: receivedText },
      { figure: 'connections/s', value: connected / seconds, unit: '/s', sent: sentText, received: receivedText },
      { figure: 'upgrade→hello p99', value: t.p99, unit: 'ms', sent: sentText, received: receivedText },
    );
    result.notes.push(
      `RSS includes garbage not yet collected (the server exposes no GC hook); ${WARM_UP} warm-up sockets were open before the baseline reading; server CPU ${serverCpu.toFixed(1)} s to accept them`,
    );
    result.details = {
      connections: count,
      connected,
      openAfter3s: open,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      rssPerConnectionBytes: Math.round(perConnection),
      connectSeconds: Number(seconds.toFixed(2)),
      connectMs: t,
      serverCpuSeconds: Number(serverCpu.toFixed(2)),
      serverOpenFilesLimit: serverLimit,
      settledAt: connectedAt,
    };
    result.durationMs = Date.now() - began;
    emit(result);
  },
};
