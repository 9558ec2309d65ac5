/**
 * Message search (issue 17): 1,000,000 messages (20,000 in --quick) over 200 rooms, written
 * through the server's group commit (bench/lib/search-seed.ts) with bodies of 5–30 Zipf-drawn
 * words (bench/lib/search-corpus.ts). Then: the index built in this process by
 * buildSearchIndex (time, memory, index.stats().bytes); GET /api/v1/search for one word,
 * three words and a prefix, in all rooms and in one, by a member of all 200, timed over HTTP
 * and, separately, the index's own search call; and HTTP sends, as in the send scenario,
 * with SEARCH_INDEX=memory and off on the same data (alternating, to spread the noise).
 */
import { Histogram, type HistogramData, type LatencySummary } from '../lib/histogram.js';
import { below, type Target } from '../lib/report.js';
import type { RunningServer } from '../lib/server.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { QUERY_SHAPES, searchQueries, seededRandom, type BenchQuery, type QueryShape, type SampledMessage } from '../lib/search-corpus.js';
import { collectGarbage, measureIndexBuild, seedThroughWriter } from '../lib/search-seed.js';
import { timeHttp, timeIndex, waitForSearch } from '../lib/search-timing.js';
import { seedRooms, seedUsers, type BenchUser } from '../lib/seed.js';
import { formatBytes, formatNumber, progress, split, startCpuMeter } from '../lib/util.js';
import { stopWorkers, type WorkerHandle } from '../lib/workers.js';

const ROOMS = 200;
const MEMBERS = 10;
const TARGET_P99_MS = 50;
const MAX_SLOWDOWN = 0.1;
const BODY_BYTES = 100;
const MIB = 2 ** 20;

interface Size {
  messages: number;
  queries: number;
  senders: number;
  sendMs: number;
  /** An untimed load first, so every server is measured warm (JIT, connections), however long it ran before. */
  warmMs: number;
  /** The servers of the send A/B, in order; the first also answers the searches. */
  rounds: Array<'memory' | 'off'>;
}

const QUICK: Size = { messages: 20_000, queries: 100, senders: 16, sendMs: 3_000, warmMs: 1_000, rounds: ['memory', 'off'] };
const FULL: Size = { messages: 1_000_000, queries: 1_000, senders: 32, sendMs: 10_000, warmMs: 5_000, rounds: ['memory', 'off', 'off', 'memory'] };

interface HttpSendResult {
  sent: number;
  ackedCount: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  latency: HistogramData;
  startedAt: number;
  lastAckAt: number;
}

interface Case {
  id: string;
  shape: QueryShape;
  oneRoom: boolean;
  queries: BenchQuery[];
}

interface SendRound {
  mode: 'memory' | 'off';
  perSec: number;
  sent: number;
  acked: number;
  latency: LatencySummary;
  serverCores: number;
  rssBytes: number;
}

/** The send scenario's HTTP load (one message in flight per sender, each alone in its room) against `server`. */
async function sendRound(workers: WorkerHandle[], server: RunningServer, senders: readonly BenchUser[], roomIds: readonly string[], durationMs: number) {
  const csrf = await workers[0]!.call<string[]>('csrfTokens', { baseUrl: server.baseUrl, cookies: senders.map((u) => u.cookie) });
  const plan = senders.map((u, i) => ({ cookie: u.cookie, csrf: csrf[i]!, roomId: roomIds[i]! }));
  const serverCpu = startCpuMeter([server.pid]);
  const parts = await Promise.all(
    split(plan, workers.length).map((share, w) => workers[w]!.call<HttpSendResult>('sendLoop', { baseUrl: server.baseUrl, senders: share, durationMs, bodyBytes: BODY_BYTES })),
  );
  const serverCores = serverCpu();
  const latency = new Histogram();
  for (const part of parts) latency.merge(part.latency);
  const statuses: Record<string, number> = {};
  for (const part of parts) for (const [k, n] of Object.entries(part.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const sent = parts.reduce((s, p) => s + p.sent, 0);
  const acked = parts.reduce((s, p) => s + p.ackedCount, 0);
  const seconds = (Math.max(...parts.map((p) => p.lastAckAt)) - Math.min(...parts.map((p) => p.startedAt))) / 1000;
  const problem = acked === sent ? undefined : `${sent - acked} of ${sent} sends not answered 201: ${JSON.stringify(statuses)}; ${parts.flatMap((p) => p.errorSamples).slice(0, 2).join('; ')}`;
  return { perSec: acked / seconds, sent, acked, latency: latency.summary(), serverCores, problem };
}

function casesFor(samples: readonly SampledMessage[], count: number): Case[] {
  const random = seededRandom(41);
  const shapes: QueryShape[] = ['one-word', 'three-words', 'prefix'];
  return shapes.flatMap((shape) =>
    [false, true].map((oneRoom) => ({ id: `search-${shape}-${oneRoom ? 'room' : 'all'}`, shape, oneRoom, queries: searchQueries(shape, samples, count, oneRoom, random) })),
  );
}

export const searchScenario: Scenario = {
  id: 'search',
  title: 'Message search',
  limitMs: (ctx) => (ctx.quick ? 150_000 : 1_800_000),
  async run(ctx, scope, emit) {
    const size = ctx.quick ? QUICK : FULL;
    const total = formatNumber(size.messages);
    const instance = await scope.instance('search');
    progress(`Message search: seeding ${total} messages in ${ROOMS} rooms through the group commit`);
    const seeded = await instance.seed(async (seed) => {
      const members = await seedUsers(seed, 'searcher', MEMBERS, { sessions: true });
      const roomIds = await seedRooms(seed, 'search-room', Array.from({ length: ROOMS }, () => members.map((u) => u.id)));
      const senders = await seedUsers(seed, 'search-sender', size.senders, { sessions: true });
      const sendRooms = await seedRooms(seed, 'search-send-room', senders.map((u) => [u.id]));
      const seedStarted = performance.now();
      let reported = 0;
      const samples = await seedThroughWriter(seed, {
        roomIds,
        senderIds: members.map((u) => u.id),
        total: size.messages,
        samples: 2_000,
        onProgress: (done) => {
          if (done - reported < 100_000) return;
          reported = done;
          progress(`Message search: ${formatNumber(done)} seeded (${formatNumber(done / ((performance.now() - seedStarted) / 1000))}/s)`);
        },
      });
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      progress(`Message search: seeded in ${seedSeconds.toFixed(1)} s; building the index in the bench process`);
      const build = await measureIndexBuild(seed);
      progress(`Message search: index built in ${build.seconds.toFixed(1)} s, ${formatBytes(build.stats.bytes)} by index.stats(), ${formatNumber(build.stats.words)} words; timing the index alone`);
      const cases = casesFor(samples, size.queries);
      // Warm-up (JIT): every query once, not counted; then counted, with each first page kept for the HTTP check.
      for (const c of cases) timeIndex(build.index, c.queries, roomIds);
      const indexTimes = cases.map((c) => timeIndex(build.index, c.queries, roomIds));
      const { index: _index, ...buildFigures } = build;
      return { searcher: members[0]!, roomIds, senders, sendRooms, seedSeconds, build: buildFigures, cases, indexTimes };
    });
    collectGarbage();
    const { build, cases, indexTimes } = seeded;

    const rounds: SendRound[] = [];
    const ready: Record<'memory' | 'off', number[]> = { memory: [], off: [] };
    for (const [round, mode] of size.rounds.entries()) {
      const startedAt = performance.now();
      const server = await instance.start({ SEARCH_INDEX: mode });
      if (mode === 'memory') await waitForSearch(server.baseUrl, seeded.searcher.cookie, Math.max(60_000, size.messages / 5));
      ready[mode].push(performance.now() - startedAt);
      const rssBytes = server.rssBytes();
      if (round === 0) {
        progress(`Message search: ${cases.length} cases of ${size.queries} searches over HTTP`);
        for (const c of cases) await timeHttp(server.baseUrl, seeded.searcher.cookie, c.queries.slice(0, 50));
        for (const [i, c] of cases.entries()) {
          const began = Date.now();
          const http = await timeHttp(server.baseUrl, seeded.searcher.cookie, c.queries, indexTimes[i]!.pages);
          const lat = http.latency.summary();
          const own = indexTimes[i]!.latency.summary();
          const where = c.oneRoom ? 'one room (the query message\'s)' : `all ${ROOMS} rooms`;
          const result = newResult(ctx, c.id, `Search ${c.shape}, ${where}: ${total} messages`);
          if (http.problems.length > 0) fail(result, `wrong answers: ${http.problems.slice(0, 3).join('; ')}`);
          const sentText = `${formatNumber(c.queries.length)} × GET /api/v1/search?q=<${QUERY_SHAPES[c.shape]}>${c.oneRoom ? '&roomId=' : ''}, one at a time, by a member of all ${ROOMS} rooms`;
          const receivedText = `${JSON.stringify(http.statuses)}; ${formatNumber(http.results / c.queries.length)} results per answer (page of 20), ${http.empty} with none; ${formatNumber(http.bytes / c.queries.length)} B per answer`;
          result.figures.push(
            { figure: 'p50', value: lat.p50, unit: 'ms', sent: sentText, received: receivedText },
            { figure: 'p99', value: lat.p99, unit: 'ms', target: below(lat.p99, TARGET_P99_MS, ' ms'), sent: sentText, received: receivedText },
            { figure: 'index.search alone p50', value: own.p50, unit: 'ms', sent: sentText, received: receivedText },
            { figure: 'index.search alone p99', value: own.p99, unit: 'ms', sent: sentText, received: receivedText },
            { figure: 'requests/s (sequential)', value: c.queries.length / http.seconds, unit: '/s', sent: sentText, received: receivedText },
          );
          const slowest = indexTimes[i]!.slowest.map((t) => `"${t.q}" ${t.ms} ms (${t.hits} hits)`).join(', ');
          result.notes.push(`index.search alone (the same queries in the bench process, limit 21 as the service asks): max ${own.max} ms; HTTP max ${lat.max} ms; slowest in the index: ${slowest}`);
          result.details = { messages: size.messages, rooms: ROOMS, queries: c.queries.length, examples: c.queries.slice(0, 3).map((q) => q.q), latencyMs: lat, indexLatencyMs: own, slowestInIndex: indexTimes[i]!.slowest, statuses: http.statuses, results: http.results, empty: http.empty };
          result.durationMs = Date.now() - began;
          emit(result);
        }
      }
      progress(`Message search: sends with SEARCH_INDEX=${mode} (${size.sendMs / 1000} s, ${size.senders} senders)`);
      // Fresh client processes each round: a worker numbers its clientIds from 0 on each load, and a reused one is a retry.
      const warm = await scope.startWorkers('http', `search-warm-${round}`, ctx.clientProcesses);
      await sendRound(warm, server, seeded.senders, seeded.sendRooms, size.warmMs);
      await stopWorkers(warm);
      const workers = await scope.startWorkers('http', `search-send-${round}`, ctx.clientProcesses);
      const sends = await sendRound(workers, server, seeded.senders, seeded.sendRooms, size.sendMs);
      await stopWorkers(workers);
      if (sends.problem) throw new Error(`sends with SEARCH_INDEX=${mode}: ${sends.problem}`);
      rounds.push({ mode, perSec: sends.perSec, sent: sends.sent, acked: sends.acked, latency: sends.latency, serverCores: sends.serverCores, rssBytes });
      await instance.stop();
    }

    emit(buildResult(ctx, size, seeded.seedSeconds, build, ready, rounds));
    emit(sendResult(ctx, size, rounds));
  },
};

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

function buildResult(ctx: Parameters<Scenario['run']>[0], size: Size, seedSeconds: number, build: Omit<Awaited<ReturnType<typeof measureIndexBuild>>, 'index'>, ready: Record<'memory' | 'off', number[]>, rounds: SendRound[]) {
  const result = newResult(ctx, 'search-build', `Search index build: ${formatNumber(size.messages)} messages in ${ROOMS} rooms`);
  const sentText = `buildSearchIndex over the seeded database (SQL pages of 2,000, each body decrypted and split), in the bench process`;
  const receivedText = `${formatNumber(build.stats.messages)} messages, ${formatNumber(build.stats.words)} distinct words, ${build.undecryptable} undecryptable`;
  const rss = (mode: 'memory' | 'off') => mean(rounds.filter((r) => r.mode === mode).map((r) => r.rssBytes));
  const serverText = `the server started with SEARCH_INDEX=memory (ready: GET /search answers 200) and =off (ready: /readyz)`;
  const serverReceived = `RSS at ready: ${formatBytes(rss('memory'))} with the index, ${formatBytes(rss('off'))} without`;
  result.figures.push(
    { figure: 'build time', value: build.seconds, unit: 's', sent: sentText, received: receivedText },
    { figure: 'build rate', value: build.stats.messages / build.seconds, unit: 'messages/s', sent: sentText, received: receivedText },
    { figure: 'index.stats().bytes', value: build.stats.bytes / MIB, unit: 'MiB', sent: sentText, received: receivedText },
    { figure: 'heap + external after GC, increase', value: (build.heapBytes + build.externalBytes) / MIB, unit: 'MiB', sent: sentText, received: receivedText },
    { figure: 'RSS increase (peak during the build)', value: build.peakRssBytes / MIB, unit: 'MiB', sent: sentText, received: receivedText },
    { figure: 'server start → search ready', value: mean(ready.memory) / 1000, unit: 's', sent: serverText, received: serverReceived },
    { figure: 'server start → ready, index off', value: mean(ready.off) / 1000, unit: 's', sent: serverText, received: serverReceived },
    { figure: 'server RSS, index on − off', value: (rss('memory') - rss('off')) / MIB, unit: 'MiB', sent: serverText, received: serverReceived },
  );
  const seedRate = size.messages / seedSeconds;
  result.notes.push(
    `seeding ${formatNumber(size.messages)} messages through the group commit (message-writer.ts, ${ctx.databases.dialect} store; bodies encrypted by the keyring as a send does) took ${seedSeconds.toFixed(1)} s (${formatNumber(seedRate)}/s)`,
    `heap ${formatBytes(build.heapBytes)} + external ${formatBytes(build.externalBytes)} after a full GC; RSS ${formatBytes(build.rssBytes)} more after it than before the build, ${formatBytes(build.peakRssBytes)} at the peak`,
  );
  result.details = { messages: size.messages, rooms: ROOMS, seedSeconds, buildSeconds: build.seconds, stats: build.stats, heapBytes: build.heapBytes, externalBytes: build.externalBytes, rssBytes: build.rssBytes, peakRssBytes: build.peakRssBytes, readyMs: ready, serverRss: rounds.map((r) => ({ mode: r.mode, rssBytes: r.rssBytes })) };
  return result;
}

function sendResult(ctx: Parameters<Scenario['run']>[0], size: Size, rounds: SendRound[]) {
  const result = newResult(ctx, 'search-send', `Sends over HTTP with the search index on and off, ${size.senders} senders`);
  const of = (mode: 'memory' | 'off') => rounds.filter((r) => r.mode === mode);
  const on = mean(of('memory').map((r) => r.perSec));
  const off = mean(of('off').map((r) => r.perSec));
  const slowdown = 1 - on / off;
  const target: Target = { text: `≤ ${MAX_SLOWDOWN * 100} % slower`, met: slowdown <= MAX_SLOWDOWN };
  const sentText = `the send scenario's HTTP load (${size.senders} senders, each alone in its room, ${BODY_BYTES} B bodies, one in flight each, ${size.sendMs / 1000} s after ${size.warmMs / 1000} s untimed) on the ${formatNumber(size.messages)}-message database; servers in the order ${rounds.map((r) => r.mode).join(', ')}`;
  const receivedText = rounds.map((r) => `${r.mode}: ${formatNumber(r.acked)} × 201, ${formatNumber(r.perSec)}/s, p99 ${r.latency.p99} ms`).join('; ');
  result.figures.push(
    { figure: 'acked/s, SEARCH_INDEX=memory', value: on, unit: '/s', sent: sentText, received: receivedText },
    { figure: 'acked/s, SEARCH_INDEX=off', value: off, unit: '/s', sent: sentText, received: receivedText },
    { figure: 'slower with the index on', value: slowdown * 100, unit: '%', target, sent: sentText, received: receivedText },
    { figure: 'ack latency p99, SEARCH_INDEX=memory', value: mean(of('memory').map((r) => r.latency.p99)), unit: 'ms', sent: sentText, received: receivedText },
    { figure: 'ack latency p99, SEARCH_INDEX=off', value: mean(of('off').map((r) => r.latency.p99)), unit: 'ms', sent: sentText, received: receivedText },
  );
  result.notes.push(`server CPU during the sends: ${rounds.map((r) => `${r.mode} ${r.serverCores.toFixed(2)} cores`).join(', ')}`);
  result.notes.push('each send body is the send scenario\'s ("t=<time>;xxx…"), so about one message in five adds a new word (a timestamp) to the dictionary');
  result.details = { rounds: rounds.map(({ mode, perSec, sent, acked, latency, serverCores }) => ({ mode, perSec: Math.round(perSec), sent, acked, latencyMs: latency, serverCores: Number(serverCores.toFixed(2)) })), slowdown };
  return result;
}
