/**
 * 4. History: in a room of 100,000 messages (seeded by direct inserts, encrypted with
 * the server's key), the newest 50-message page and the catch-up of the last 500 (`after=`),
 * one request at a time, timed by the client. The server remembers recently read bodies,
 * so those repeated reads decrypt once; every 50-message page of the room read once, in a
 * shuffled order (`before=`), shows the cost of reading what it does not remember.
 */
import { Histogram, type HistogramData } from '../lib/histogram.js';
import { below } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { seedMessages, seedRooms, seedUsers } from '../lib/seed.js';
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

const QUERY_SHOWN: Record<string, (total: number) => string> = {
  'history-page': () => '?limit=50',
  'history-catchup': (total) => `?after=${formatNumber(total - 500)}`,
  'history-older': (total) => `?before=<each page end 51, 101 … ${formatNumber(total - 49)} once, shuffled>&limit=50`,
};

/**
 * The `before=` of every whole 50-message page of a room of `total`, in an order that
 * is the same every run (Fisher–Yates with a fixed-seed 31-bit LCG). Each page is read
 * once, so only the newest few, read by the cases before, are remembered by the server.
 */
function shuffledPageEnds(total: number): number[] {
  const ends = Array.from({ length: Math.floor(total / 50) }, (_, page) => 51 + 50 * page);
  let state = 12_345;
  for (let i = ends.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fffffff;
    const j = state % (i + 1);
    [ends[i], ends[j]] = [ends[j]!, ends[i]!];
  }
  return ends;
}

export const historyScenario: Scenario = {
  id: 'history',
  title: 'History',
  limitMs: (ctx) => (ctx.quick ? 45_000 : 240_000),
  async run(ctx, scope, emit) {
    const total = ctx.quick ? 10_000 : 100_000;
    const pageRequests = ctx.quick ? 300 : 2_000;
    const catchUpRequests = ctx.quick ? 60 : 300;
    const instance = await scope.instance('history');
    progress(`History: seeding ${formatNumber(total)} messages`);
    const seedStarted = Date.now();
    const { reader, roomId } = await instance.seed(async (seed) => {
      const users = await seedUsers(seed, 'hist', 10, { sessions: true });
      const [room] = await seedRooms(seed, 'history-room', [users.map((u) => u.id)]);
      await seedMessages(seed, room!, users.map((u) => u.id), total);
      return { reader: users[0]!, roomId: room! };
    });
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const server = await instance.start();
    const [worker] = await scope.startWorkers('http', 'history', 1);
    const base = `/api/v1/rooms/${roomId}/messages`;
    // Warm-up (JIT, caches): not counted.
    await worker!.call<GetResult>('getLoop', { baseUrl: server.baseUrl, cookie: reader.cookie, paths: Array(30).fill(`${base}?limit=50`), expectMessages: 50 });

    const cases = [
      {
        id: 'history-page',
        name: `History: newest 50 of ${formatNumber(total)}`,
        paths: Array<string>(pageRequests).fill(`${base}?limit=50`),
        expect: 50,
        target: true,
      },
      {
        id: 'history-catchup',
        name: `History: catch-up of 500 in ${formatNumber(total)}`,
        // What a client that missed the last 500 messages asks (no limit: the server's catch-up page holds up to 1,000).
        paths: Array<string>(catchUpRequests).fill(`${base}?after=${total - 500}`),
        expect: 500,
        target: false,
      },
      {
        id: 'history-older',
        name: `History: older pages of 50 in ${formatNumber(total)}`,
        paths: shuffledPageEnds(total).slice(0, pageRequests).map((seq) => `${base}?before=${seq}&limit=50`),
        expect: 50,
        target: false,
      },
    ];
    for (const c of cases) {
      const began = Date.now();
      const result = newResult(ctx, c.id, c.name);
      progress(`${c.name}: ${c.paths.length} requests`);
      const r = await worker!.call<GetResult>('getLoop', { baseUrl: server.baseUrl, cookie: reader.cookie, paths: c.paths, expectMessages: c.expect });
      const lat = Histogram.from(r.latency).summary();
      if (r.problems.length > 0) fail(result, `wrong answers: ${r.problems.slice(0, 3).join('; ')}`);
      const sentText = `${formatNumber(r.requests)} × GET …/messages${QUERY_SHOWN[c.id]!(total)}, one at a time`;
      const receivedText = `${JSON.stringify(r.statuses)}; ${formatNumber(r.messages)} messages, ${formatNumber(r.bytes / r.requests)} B per answer`;
      result.figures.push(
        { figure: 'p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
        { figure: 'p99', value: lat.p99, unit: 'ms', target: c.target ? below(lat.p99, 5, ' ms') : undefined, sent: sentText, received: receivedText },
        { figure: 'requests/s (sequential)', value: r.requests / ((r.finishedAt - r.startedAt) / 1000), unit: '/s', sent: sentText, received: receivedText },
      );
      result.details = { roomMessages: total, requests: r.requests, latencyMs: lat, statuses: r.statuses, bytesPerAnswer: Math.round(r.bytes / r.requests), seedSeconds };
      if (c.id === 'history-page') result.notes.push(`seeding ${formatNumber(total)} messages by direct insert took ${seedSeconds.toFixed(1)} s`);
      result.durationMs = Date.now() - began;
      emit(result);
    }
  },
};
