/** The files bench's pure parts: the multipart framing it streams, its file contents and its arithmetic. */
import { createHash, randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { growthMiB, sampleMemory } from '../../bench/lib/memory-sampler.js';
import { benchFileContents, multipartFraming } from '../../bench/lib/multipart.js';
import { megabytesPerSecond, statusProblems } from '../../bench/lib/transfers.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('multipartFraming', () => {
  it('frames one file part that @fastify/multipart reads back byte for byte, with the Content-Length it announces', async () => {
    const app = Fastify();
    await app.register(multipart);
    app.post('/upload', async (request) => {
      const part = await request.file();
      if (!part) return { none: true };
      const bytes = await part.toBuffer();
      return { field: part.fieldname, fileName: part.filename, mime: part.mimetype, size: bytes.length, sha256: sha256(bytes) };
    });
    const contents = Buffer.concat([...benchFileContents('test-1', 300_000, randomBytes(100_000), 64 * 1024)]);
    const framing = multipartFraming({ field: 'file', fileName: 'bench-test-1.bin', contentType: 'application/octet-stream' });
    const body = Buffer.concat([framing.head, contents, framing.tail]);
    expect(body.length).toBe(framing.bodyLength(contents.length));
    const answer = await app.inject({ method: 'POST', url: '/upload', headers: { 'content-type': framing.contentType, 'content-length': String(body.length) }, payload: body });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ field: 'file', fileName: 'bench-test-1.bin', mime: 'application/octet-stream', size: 300_000, sha256: sha256(contents) });
    await app.close();
  });

  it('uses a fresh boundary each time unless one is given', () => {
    const part = { field: 'file', fileName: 'a.bin', contentType: 'application/octet-stream' };
    expect(multipartFraming(part).contentType).not.toBe(multipartFraming(part).contentType);
    expect(multipartFraming(part, 'xyz').contentType).toBe('multipart/form-data; boundary=xyz');
  });

  it('refuses a file name that would break out of its quoted header parameter', () => {
    expect(() => multipartFraming({ field: 'file', fileName: 'a"; name="other', contentType: 'text/plain' })).toThrow(/cannot be quoted/);
    expect(() => multipartFraming({ field: 'file', fileName: 'a\r\nX-Injected: 1', contentType: 'text/plain' })).toThrow(/cannot be quoted/);
  });
});

describe('benchFileContents', () => {
  const block = randomBytes(1000);

  it('yields exactly the size asked for, in pieces no larger than asked, starting with a line naming the file', () => {
    for (const size of [0, 1, 10, 999, 1000, 1001, 25_000]) {
      const pieces = [...benchFileContents('f', size, block, 300)];
      expect(pieces.reduce((s, p) => s + p.length, 0), `size ${size}`).toBe(size);
      expect(pieces.every((p) => p.length > 0 && p.length <= 300)).toBe(true);
    }
    expect(Buffer.concat([...benchFileContents('f-7', 5_000, block)]).subarray(0, 26).toString()).toBe('securechat bench file f-7\n');
  });

  it('makes different files for different labels from the same block', () => {
    const a = Buffer.concat([...benchFileContents('a', 4_000, block)]);
    const b = Buffer.concat([...benchFileContents('b', 4_000, block)]);
    expect(sha256(a)).not.toBe(sha256(b));
  });
});

describe('the files bench arithmetic', () => {
  it('rates bytes over the span from the first start to the last finish, in 10⁶ B/s', () => {
    const parts = [
      { bytes: 50e6, startedAt: 1_000, finishedAt: 1_500 },
      { bytes: 50e6, startedAt: 1_200, finishedAt: 2_000 },
    ];
    expect(megabytesPerSecond(parts)).toBe(100);
    expect(megabytesPerSecond([{ bytes: 0, startedAt: 0, finishedAt: 0 }])).toBe(0);
  });

  it('merges status counts and names every one that is not the expected status', () => {
    const merged = statusProblems([{ statuses: { 201: 3, 413: 1 } }, { statuses: { 201: 2, 'network-error': 1 } }], 201);
    expect(merged.statuses).toEqual({ 201: 5, 413: 1, 'network-error': 1 });
    expect(merged.problems).toBe('1 × 413, 1 × network-error');
    expect(statusProblems([{ statuses: { 200: 4 } }], 200).problems).toBe('');
  });

  it('keeps the value before, the peak and the value after of a sampled memory reading', () => {
    const readings = [100, 180, 120];
    const sampler = sampleMemory(() => readings.shift() ?? 0, 60_000);
    // No interval has passed: the first reading is "before"; stop() takes the last one.
    const window = sampler.stop();
    expect(window).toEqual({ beforeBytes: 100, peakBytes: 180, afterBytes: 180, samples: 2 });
    expect(growthMiB({ beforeBytes: 1024 * 1024, peakBytes: 3 * 1024 * 1024, afterBytes: 0, samples: 3 })).toBe(2);
    expect(growthMiB({ beforeBytes: 5, peakBytes: 5, afterBytes: 1, samples: 2 })).toBe(0);
  });
});
