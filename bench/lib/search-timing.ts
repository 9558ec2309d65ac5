/**
 * Timing message search two ways: the index's own answer (in this process, the call the
 * search service makes, for its first page), and GET /api/v1/search over HTTP on loopback,
 * one request at a time from the runner (which does nothing else meanwhile), timed from the
 * request's start to the answer's last byte. Each HTTP answer is checked against the index's.
 */
import http from 'node:http';
import { parseSearchQuery } from '../../src/shared/search-words.js';
import type { SearchIndex } from '../../src/server/search/search-index.js';
import { Histogram } from './histogram.js';
import type { BenchQuery } from './search-corpus.js';
import { sleep } from './util.js';

/** The service's default page; it asks the index for one more, to know whether a next page exists. */
export const SEARCH_PAGE = 20;

export const searchPath = (query: BenchQuery) => `/api/v1/search?q=${encodeURIComponent(query.q)}${query.roomId ? `&roomId=${query.roomId}` : ''}`;

export interface IndexTimes {
  latency: Histogram;
  /** Each query's first page as `roomId:seq`, newest first. */
  pages: string[][];
  /** The slowest few queries, slowest first: where the index spends its time. */
  slowest: Array<{ q: string; oneRoom: boolean; ms: number; hits: number }>;
}

export function timeIndex(index: SearchIndex, queries: readonly BenchQuery[], allRooms: readonly string[]): IndexTimes {
  const latency = new Histogram();
  const pages: string[][] = [];
  const times: IndexTimes['slowest'] = [];
  for (const query of queries) {
    const { words, prefix } = parseSearchQuery(query.q);
    const roomIds = query.roomId ? [query.roomId] : allRooms;
    const begin = performance.now();
    const hits = index.search({ words, prefix, roomIds, limit: SEARCH_PAGE + 1 });
    const ms = performance.now() - begin;
    latency.record(ms);
    times.push({ q: query.q, oneRoom: query.roomId !== undefined, ms: Math.round(ms * 1000) / 1000, hits: hits.length });
    pages.push(hits.slice(0, SEARCH_PAGE).map((hit) => `${hit.roomId}:${hit.seq}`));
  }
  return { latency, pages, slowest: times.sort((a, b) => b.ms - a.ms).slice(0, 5) };
}

interface Answer {
  status: number;
  body: string;
}

function get(agent: http.Agent, url: string, cookie: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers: { cookie } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.setTimeout(30_000, () => request.destroy(new Error(`GET ${url}: no answer within 30 s`)));
    request.on('error', reject);
  });
}

export interface HttpTimes {
  latency: Histogram;
  statuses: Record<string, number>;
  problems: string[];
  /** Results in all answers, and answers with none. */
  results: number;
  empty: number;
  bytes: number;
  seconds: number;
}

/** `expected`: each query's first page from the index; an answer that differs is a problem. */
export async function timeHttp(baseUrl: string, cookie: string, queries: readonly BenchQuery[], expected?: readonly string[][]): Promise<HttpTimes> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: HttpTimes = { latency: new Histogram(), statuses: {}, problems: [], results: 0, empty: 0, bytes: 0, seconds: 0 };
  const started = performance.now();
  try {
    for (const [i, query] of queries.entries()) {
      const begin = performance.now();
      const answer = await get(agent, `${baseUrl}${searchPath(query)}`, cookie);
      out.latency.record(performance.now() - begin);
      out.statuses[answer.status] = (out.statuses[answer.status] ?? 0) + 1;
      out.bytes += answer.body.length;
      if (answer.status !== 200) {
        if (out.problems.length < 5) out.problems.push(`${searchPath(query)}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
        continue;
      }
      const page = (JSON.parse(answer.body) as { results: Array<{ message: { roomId: string; seq: number } }> }).results.map((r) => `${r.message.roomId}:${r.message.seq}`);
      out.results += page.length;
      if (page.length === 0) out.empty += 1;
      const want = expected?.[i];
      if (want && want.join(' ') !== page.join(' ') && out.problems.length < 5) {
        out.problems.push(`${searchPath(query)}: ${page.length} results (${page.slice(0, 2).join(', ')}…), the index alone found ${want.length} (${want.slice(0, 2).join(', ')}…)`);
      }
    }
  } finally {
    agent.destroy();
  }
  out.seconds = (performance.now() - started) / 1000;
  return out;
}

/** Asks until search answers 200 (503 while the index is built); the ms it took. */
export async function waitForSearch(baseUrl: string, cookie: string, timeoutMs: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  try {
    for (;;) {
      const answer = await get(agent, `${baseUrl}/api/v1/search?q=the`, cookie);
      if (answer.status === 200) return performance.now() - started;
      if (answer.status !== 503) throw new Error(`GET /api/v1/search answered ${answer.status} while waiting for the index: ${answer.body.slice(0, 200)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`the search index was not built within ${Math.round(timeoutMs / 1000)} s`);
      await sleep(100);
    }
  } finally {
    agent.destroy();
  }
}
