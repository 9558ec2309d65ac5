/**
 * Files in /metrics, over real sockets on both databases: an upload in flight while its body
 * is still arriving (and its 'uploading' row, readable by nobody), the bytes received and
 * served, the bytes stored; chunks stored while the body still arrives; and a client that
 * hangs up half-way leaves nothing behind.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Room } from '../../src/shared/protocol.js';
import { as, apiClient, listenOnLoopback, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { downloadFile, multipart, randomFile, uploadFile } from '../support/files.js';
import { parsePrometheus, value } from '../support/prometheus.js';

describe.each(DIALECTS)('file metrics and interrupted uploads on %s', (dialect) => {
  const t = useTestApp(dialect, { FILE_STORAGE: 'database' });
  const api = apiClient(() => t.app);
  let base: string;
  let alice: Session;
  let room: Room;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
    alice = await signUp(t.app);
    room = await api.createRoom(alice);
  });
  afterAll(() => t.app.server.closeAllConnections());

  const scrape = async () => parsePrometheus(await (await fetch(`${base}/metrics`)).text());
  const rowsOf = () => t.database.db.selectFrom('files').select(['id', 'state']).where('uploader_id', '=', alice.user.id).execute();

  /** Starts an upload over a real connection and sends the first `sent` bytes of the body; the rest is up to the test. */
  function startUpload(data: Buffer, sent: number, declaredLength?: number) {
    const { payload, contentType } = multipart([{ name: 'file', filename: 'slow.bin', data }]);
    const request = http.request(`${base}/api/v1/rooms/${room.id}/files`, {
      method: 'POST',
      headers: { ...as(alice), 'content-type': contentType, 'content-length': String(declaredLength ?? payload.length) },
    });
    const answer = new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      request.on('response', (response) => {
        let body = '';
        response.on('data', (piece: Buffer) => (body += piece.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }));
      });
      request.on('error', reject);
    });
    request.write(payload.subarray(0, sent));
    return { request, answer, rest: payload.subarray(sent) };
  }

  it('reports the upload in flight while its body arrives, then the bytes received, served and stored', async () => {
    const before = await scrape();
    expect(value(before, 'securechat_file_uploads_in_flight')).toBe(0);
    const data = randomFile(300 * 1024);
    const upload = startUpload(data, 100 * 1024);
    await vi.waitFor(async () => expect(value(await scrape(), 'securechat_file_uploads_in_flight')).toBe(1), { timeout: 5_000 });
    // Written first, as an upload nobody can read yet.
    const [row] = await rowsOf();
    expect(row?.state).toBe('uploading');
    expect((await downloadFile(t.app, alice, row!.id)).statusCode).toBe(404);
    upload.request.end(upload.rest);
    const { status, body } = await upload.answer;
    expect(status, body).toBe(201);
    const { file } = JSON.parse(body) as { file: { id: string; size: number } };

    expect((await downloadFile(t.app, alice, file.id)).rawPayload.equals(data)).toBe(true);
    expect((await downloadFile(t.app, alice, file.id, { range: 'bytes=0-999' })).statusCode).toBe(206);
    const after = await scrape();
    const delta = (name: string) => value(after, name) - value(before, name);
    expect(value(after, 'securechat_file_uploads_in_flight')).toBe(0);
    expect(delta('securechat_file_upload_bytes_total')).toBe(data.length);
    expect(delta('securechat_file_download_bytes_total')).toBe(data.length + 1000);
    expect(delta('securechat_file_stored_bytes')).toBe(data.length);
    for (const [name, type] of [
      ['securechat_file_uploads_in_flight', 'gauge'],
      ['securechat_file_upload_bytes_total', 'counter'],
      ['securechat_file_download_bytes_total', 'counter'],
      ['securechat_file_stored_bytes', 'gauge'],
    ] as const) {
      expect(after.get(name)?.type, name).toBe(type);
    }
  });

  it('streams: chunks are stored while the rest of the body is still on its way, so no upload is held whole in memory', async () => {
    const data = randomFile(3 * 1024 * 1024);
    const upload = startUpload(data, 2 * 1024 * 1024);
    const partial = () => t.database.db.selectFrom('file_chunks').select('idx').where('blob_id', 'like', '%.partial').execute();
    // 2 MiB sent of 3: encrypted chunks of it are already in the database (written in batches of 8).
    await vi.waitFor(async () => expect((await partial()).length).toBeGreaterThanOrEqual(8), { timeout: 5_000 });
    upload.request.end(upload.rest);
    const { status, body } = await upload.answer;
    expect(status, body).toBe(201);
    expect(await partial()).toEqual([]);
    expect((await downloadFile(t.app, alice, (JSON.parse(body) as { file: { id: string } }).file.id)).rawPayload.equals(data)).toBe(true);
  });

  it('answers a declared length far over FILE_MAX_MB at once, before the body has arrived, and closes the connection', async () => {
    const upload = startUpload(randomFile(100 * 1024), 100 * 1024, 30 * 1024 * 1024);
    const { status, body, connection } = await upload.answer;
    expect([status, JSON.parse(body).error.code, connection]).toEqual([413, 'file_too_large', 'close']);
    upload.request.destroy();
  });

  it('removes the row and every chunk of an upload whose client hung up half-way', async () => {
    const rowsBefore = (await rowsOf()).length;
    const chunksBefore = (await t.database.db.selectFrom('file_chunks').select('blob_id').execute()).length;
    const upload = startUpload(randomFile(400 * 1024), 200 * 1024);
    upload.answer.catch(() => undefined);
    await vi.waitFor(async () => expect((await rowsOf()).length).toBe(rowsBefore + 1), { timeout: 5_000 });
    upload.request.destroy();
    await vi.waitFor(
      async () => {
        expect(value(await scrape(), 'securechat_file_uploads_in_flight')).toBe(0);
        expect((await rowsOf()).length).toBe(rowsBefore);
        expect((await t.database.db.selectFrom('file_chunks').select('blob_id').execute()).length).toBe(chunksBefore);
      },
      { timeout: 5_000 },
    );
    // The server is fine: the next upload goes through.
    expect((await uploadFile(t.app, alice, room.id, { name: `after-${randomUUID()}.txt`, data: Buffer.from('after') })).size).toBe(5);
  });
});
