/**
 * A client process uploading and downloading files over HTTP/1.1 keep-alive: each client
 * streams a multipart body piece by piece (with backpressure, never the whole file in
 * memory), one upload in flight per client; downloads are streamed, hashed and compared
 * with what was uploaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Histogram } from '../lib/histogram.js';
import { benchFileContents, multipartFraming } from '../lib/multipart.js';
import { wallNow } from '../lib/util.js';
import { serve } from './rpc.js';

const workerName = process.argv[2] ?? 'files';
/** Random bytes the files are cut from (random, so nothing on the way compresses them). */
const BLOCK = randomBytes(1024 * 1024);
let agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let stopRequested = false;
let fileCounter = 0;

export interface FileClient {
  cookie: string;
  roomId: string;
}

export interface UploadedFile {
  id: string;
  size: number;
  sha256: string;
  /** The uploader's cookie (before a message names it, only the uploader may read it). */
  cookie: string;
}

interface Answer {
  status: number;
  body: Buffer;
}

function countStatus(statuses: Record<string, number>, key: string | number): void {
  statuses[key] = (statuses[key] ?? 0) + 1;
}

function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

async function csrfToken(baseUrl: string, cookie: string): Promise<string> {
  const answer = await new Promise<Answer>((resolve, reject) => {
    const req = http.request(`${baseUrl}/api/v1/auth/session`, { agent, headers: { cookie } }, (res) => {
      readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
    });
    req.on('error', reject);
    req.end();
  });
  if (answer.status !== 200) throw new Error(`GET /api/v1/auth/session answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
  return (JSON.parse(answer.body.toString()) as { csrfToken: string }).csrfToken;
}

/** Resolves when `req` can take more, or has closed (then nothing more is written). */
function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

/** One streamed upload: answers the status, the body, and the SHA-256 of the contents sent. */
function uploadOne(baseUrl: string, client: FileClient & { csrf: string }, size: number): Promise<Answer & { sha256: string }> {
  const label = `${workerName}-${fileCounter++}-${randomBytes(6).toString('hex')}`;
  const framing = multipartFraming({ field: 'file', fileName: `bench-${label}.bin`, contentType: 'application/octet-stream' });
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/api/v1/rooms/${client.roomId}/files`,
      {
        method: 'POST',
        agent,
        headers: {
          cookie: client.cookie,
          'x-csrf-token': client.csrf,
          origin: baseUrl,
          'content-type': framing.contentType,
          'content-length': String(framing.bodyLength(size)),
        },
      },
      (res) => {
        readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, body, sha256: hash.digest('hex') }), reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error('upload: no answer within 120 s')));
    req.on('error', reject);
    const write = async () => {
      req.write(framing.head);
      for (const piece of benchFileContents(label, size, BLOCK)) {
        hash.update(piece);
        // An early answer (413, 401…) ends the request: stop writing.
        if (req.destroyed) return;
        if (!req.write(piece)) await drained(req);
      }
      req.end(framing.tail);
    };
    write().catch((error: unknown) => req.destroy(error as Error));
  });
}

interface UploadRequest {
  baseUrl: string;
  clients: FileClient[];
  sizeBytes: number;
  /** Files each client uploads, one after another; absent: until `stop`. */
  filesEach?: number;
}

/** Each client uploads its files one at a time; answers what was stored and how long it took. */
async function upload(request: UploadRequest) {
  agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, request.clients.length) });
  stopRequested = false;
  const clients = await Promise.all(request.clients.map(async (c) => ({ ...c, csrf: await csrfToken(request.baseUrl, c.cookie) })));
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  const files: UploadedFile[] = [];
  let bytes = 0;
  const startedAt = wallNow();
  let finishedAt = startedAt;
  await Promise.all(
    clients.map(async (client) => {
      for (let n = 0; request.filesEach === undefined ? !stopRequested : n < request.filesEach; n++) {
        const begin = wallNow();
        try {
          const answer = await uploadOne(request.baseUrl, client, request.sizeBytes);
          countStatus(statuses, answer.status);
          if (answer.status !== 201) {
            if (errorSamples.length < 5) errorSamples.push(`POST files ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
            break; // one error is enough to fail the run; no flood of them
          }
          const end = wallNow();
          latency.record(end - begin);
          finishedAt = Math.max(finishedAt, end);
          bytes += request.sizeBytes;
          const stored = (JSON.parse(answer.body.toString()) as { file: { id: string; size: number } }).file;
          if (stored.size !== request.sizeBytes && errorSamples.length < 5) errorSamples.push(`file ${stored.id}: size ${stored.size}, sent ${request.sizeBytes}`);
          files.push({ id: stored.id, size: stored.size, sha256: answer.sha256, cookie: client.cookie });
        } catch (error) {
          countStatus(statuses, 'network-error');
          if (errorSamples.length < 5) errorSamples.push(`POST files: ${(error as Error).message}`);
          break;
        }
      }
    }),
  );
  return { files, bytes, statuses, errorSamples, latency: latency.toJSON(), startedAt, finishedAt };
}

interface DownloadRequest {
  baseUrl: string;
  files: UploadedFile[];
  /** Downloads in flight at once (one per client). */
  concurrency: number;
}

/** Streams each file, hashing it; a wrong status, size or hash is an error. */
async function download(request: DownloadRequest) {
  agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, request.concurrency) });
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let bytes = 0;
  let mismatches = 0;
  let next = 0;
  const startedAt = wallNow();
  let finishedAt = startedAt;
  const lane = async () => {
    for (let i = next++; i < request.files.length; i = next++) {
      const file = request.files[i]!;
      const begin = wallNow();
      try {
        const got = await new Promise<{ status: number; size: number; sha256: string; text: string }>((resolve, reject) => {
          const req = http.request(`${request.baseUrl}/api/v1/files/${file.id}`, { agent, headers: { cookie: file.cookie } }, (res) => {
            const hash = createHash('sha256');
            let size = 0;
            let text = '';
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              hash.update(chunk);
              if (res.statusCode !== 200 && text.length < 200) text += chunk.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex'), text }));
            res.on('error', reject);
          });
          req.setTimeout(120_000, () => req.destroy(new Error('download: no answer within 120 s')));
          req.on('error', reject);
          req.end();
        });
        countStatus(statuses, got.status);
        if (got.status !== 200) {
          if (errorSamples.length < 5) errorSamples.push(`GET files/${file.id} ${got.status}: ${got.text.slice(0, 200)}`);
          continue;
        }
        const end = wallNow();
        latency.record(end - begin);
        finishedAt = Math.max(finishedAt, end);
        bytes += got.size;
        if (got.size !== file.size || got.sha256 !== file.sha256) {
          mismatches += 1;
          if (errorSamples.length < 5) errorSamples.push(`GET files/${file.id}: ${got.size} B (sha256 ${got.sha256.slice(0, 12)}), uploaded ${file.size} B (${file.sha256.slice(0, 12)})`);
        }
      } catch (error) {
        countStatus(statuses, 'network-error');
        if (errorSamples.length < 5) errorSamples.push(`GET files/${file.id}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, lane));
  return { downloaded: request.files.length, bytes, mismatches, statuses, errorSamples, latency: latency.toJSON(), startedAt, finishedAt };
}

serve({
  upload,
  download,
  /** Ends an open-ended upload loop: each client finishes the file it is sending, then upload answers. */
  stop: () => {
    stopRequested = true;
  },
  exit: () => agent.destroy(),
});
