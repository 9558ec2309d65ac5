/**
 * The people search (`GET /api/v1/users?q=`, what the New message dialog and @mentions ask
 * as someone types): 10,000 users seeded directly through the repository's table (the
 * registration path would spend most of the run on scrypt), then prefix searches of 1 to
 * 3 digits after "search-" asked one at a time, each answering the first 10 in name order.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { below } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { seedUsers } from '../lib/seed.js';
import { formatNumber, progress } from '../lib/util.js';

interface GetResult {
  requests: number;
  messages: number;
  bytes: number;
  statuses: Record<string, number>;
  problems: string[];
  latency: HistogramData;
  startedAt: number;
  finishedAt: number;
}

const TARGET_P99_MS = 20;

export const userSearchScenario: Scenario = {
  id: 'user-search',
  title: 'People search',
  limitMs: (ctx) => (ctx.quick ? 60_000 : 180_000),
  async run(ctx, scope, emit) {
    const began = Date.now();
    const users = ctx.quick ? 2_000 : 10_000;
    const requests = ctx.quick ? 300 : 2_000;
    const result = newResult(ctx, 'user-search', `People search: GET /users?q= over ${formatNumber(users)} users`);
    const instance = await scope.instance('user-search');
    const seedStart = Date.now();
    const searcher = await instance.seed(async (seed) => {
      await seedUsers(seed, 'search', users, { sessions: false });
      const [asker] = await seedUsers(seed, 'asker', 1, { sessions: true });
      return asker!;
    });
    const seedSeconds = (Date.now() - seedStart) / 1000;
    const server = await instance.start();
    const [worker] = await scope.startWorkers('http', 'user-search', 1);
    // Prefixes of 1 to 3 digits after "search-" (1 to 2 over the quick run's 2,000 users): every one matches at least 10 users.
    const digits = ctx.quick ? 2 : 3;
    const prefixes = Array.from({ length: requests }, (_, i) => `search-${String(1 + (i % 9))}${String((i * 7) % 1000).slice(0, i % digits)}`);
    const paths = prefixes.map((q) => `/api/v1/users?q=${encodeURIComponent(q)}`);
    await worker!.call<GetResult>('getLoop', { baseUrl: server.baseUrl, cookie: searcher.cookie, paths: paths.slice(0, 50), expectMessages: 10, listKey: 'users' });
    progress(`${result.name}: searching`);
    const r = await worker!.call<GetResult>('getLoop', { baseUrl: server.baseUrl, cookie: searcher.cookie, paths, expectMessages: 10, listKey: 'users' });
    if (r.problems.length > 0) fail(result, `wrong answers: ${r.problems.slice(0, 3).join('; ')}`);
    const lat = Histogram.from(r.latency).summary();
    const sentText = `${formatNumber(r.requests)} × GET /api/v1/users?q=search-<1–3 digits>, one at a time`;
    const receivedText = `${JSON.stringify(r.statuses)}; ${formatNumber(r.messages)} users, ${formatNumber(r.bytes / r.requests)} B per answer`;
    result.figures.push(
      { figure: 'p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
      { figure: 'p99', value: lat.p99, unit: 'ms', target: below(lat.p99, TARGET_P99_MS, ' ms'), sent: sentText, received: receivedText },
      { figure: 'requests/s (sequential)', value: r.requests / ((r.finishedAt - r.startedAt) / 1000), unit: '/s', sent: sentText, received: receivedText },
    );
    result.notes.push(`${formatNumber(users)} users seeded by direct insert (not registration: scrypt) in ${seedSeconds.toFixed(1)} s`);
    result.details = { users, requests: r.requests, latencyMs: lat, statuses: r.statuses, seedSeconds };
    result.durationMs = Date.now() - began;
    emit(result);
  },
};
