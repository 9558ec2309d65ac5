/**
 * 7. Login: a burst of logins with the production scrypt cost (N=32768, r=8, p=1), a few
 * in flight at once, while a separate client process pings the server over an open
 * WebSocket every 10 ms. The ping→pong round trip, measured outside the server, stands
 * for the event-loop delay: the server exposes nothing new for the bench.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { below } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { BENCH_PASSWORD, seedRooms, seedUsers } from '../lib/seed.js';
import { formatNumber, progress, sleep } from '../lib/util.js';

const PING_INTERVAL_MS = 10;

interface LoginResult {
  attempted: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  finishedAt: number;
}

export const loginScenario: Scenario = {
  id: 'login',
  title: 'Login',
  limitMs: (ctx) => (ctx.quick ? 45_000 : 180_000),
  async run(ctx, scope, emit) {
    const began = Date.now();
    const concurrency = 8;
    const total = ctx.quick ? 32 : 200;
    const result = newResult(ctx, 'login', `Login burst: ${total} logins, ${concurrency} at once`);
    const instance = await scope.instance('login');
    const { loginUsers, pinger } = await instance.seed(async (seed) => {
      const seeded = await seedUsers(seed, 'login', concurrency, { sessions: false });
      const [pingUser] = await seedUsers(seed, 'pinger', 1, { sessions: true });
      await seedRooms(seed, 'ping-room', [[pingUser!.id]]);
      return { loginUsers: seeded, pinger: pingUser! };
    });
    const server = await instance.start();
    const [pingWorker] = await scope.startWorkers('sockets', 'pinger', 1);
    const [loginWorker] = await scope.startWorkers('http', 'login', 1);
    await pingWorker!.call('connect', { url: server.wsUrl, origin: server.origin, cookies: [pinger.cookie], concurrency: 1, timeoutMs: 10_000 });
    await pingWorker!.call('pingStart', { intervalMs: PING_INTERVAL_MS });
    await sleep(ctx.quick ? 1_500 : 3_000);

    progress(`${result.name}: logging in`);
    const cpuBefore = server.cpuSeconds();
    const r = await loginWorker!.call<LoginResult>('loginLoop', {
      baseUrl: server.baseUrl,
      users: loginUsers.map((u) => ({ username: u.username, password: BENCH_PASSWORD })),
      total,
    });
    const serverCpu = server.cpuSeconds() - cpuBefore;
    await sleep(500);
    const samples = await pingWorker!.call<Array<[number, number]>>('pingStop');

    const baseline = new Histogram();
    const burst = new Histogram();
    for (const [at, rtt] of samples) {
      if (at < r.startedAt) baseline.record(rtt);
      else if (at + rtt <= r.finishedAt) burst.record(rtt);
    }
    const ok = r.statuses['200'] ?? 0;
    const seconds = (r.finishedAt - r.startedAt) / 1000;
    const lat = Histogram.from(r.latency).summary();
    const b = burst.summary();
    const base = baseline.summary();
    if (ok !== r.attempted) {
      const limited = r.statuses['429'] ?? 0;
      const message = `${r.attempted - ok} of ${r.attempted} logins failed: ${JSON.stringify(r.statuses)}; ${r.errorSamples.slice(0, 2).join('; ')}`;
      // A login rate limit is the server doing its job: reported, not a failure of the run.
      if (limited === r.attempted - ok) result.notes.push(`${message} — the login rate limit answered; logins/s counts only the 200s`);
      else fail(result, message);
    }
    if (b.count < 10) result.notes.push(`only ${b.count} pings fell inside the burst`);
    const sentText = `${r.attempted} POST /api/v1/auth/login (${concurrency} users, one in flight each; scrypt N=32768 r=8 p=1)`;
    const receivedText = `${JSON.stringify(r.statuses)} in ${seconds.toFixed(1)} s`;
    const pingSent = `ws ping every ${PING_INTERVAL_MS} ms from another process during the burst`;
    result.figures.push(
      { figure: 'logins/s', value: ok / seconds, unit: '/s', sent: sentText, received: receivedText },
      { figure: 'login p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
      { figure: 'login p99', value: lat.p99, unit: 'ms', sent: sentText, received: receivedText },
      {
        figure: 'event-loop delay p99 (ping→pong RTT during the burst, from outside)',
        value: b.p99,
        unit: 'ms',
        target: below(b.p99, 20, ' ms'),
        sent: pingSent,
        received: `${b.count} pongs; idle before the burst: p50 ${base.p50} ms, p99 ${base.p99} ms over ${base.count} pongs; burst p50 ${b.p50} ms, max ${b.max} ms`,
      },
    );
    result.notes.push(`server CPU ${(serverCpu / seconds).toFixed(2)} cores during the burst (scrypt runs on libuv's thread pool)`);
    result.details = { total, concurrency, statuses: r.statuses, loginsPerSec: Number((ok / seconds).toFixed(1)), loginMs: lat, pingDuringBurstMs: b, pingIdleMs: base };
    result.durationMs = Date.now() - began;
    emit(result);
  },
};
