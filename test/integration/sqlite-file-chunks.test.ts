/**
 * The database file storage on SQLite writes its chunks through the message writer's thread
 * (files/chunk-writer.ts): while a large upload streams in, message sends over a socket go
 * on being acknowledged, and no chunk is written on the main connection (whose commits
 * would block the event loop on their fsync and fight the writer for the lock).
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileInfo } from '../../src/shared/protocol.js';
import { as, listenOnLoopback, signUp, useTestApp, type Session } from '../support/app.js';
import { createRoom } from '../support/factories.js';
import { downloadFile } from '../support/files.js';
import { closedAfterEach, connectWs, sendWs } from '../support/ws-client.js';

const PIECE = 256 * 1024;
/** Far more than the test needs; reaching it means the sends never got through. */
const MAX_BYTES = 20 * 1024 * 1024;
const SENDS = 5;

/** A multipart upload whose file part is streamed piece by piece until `more()` says stop. */
function streamUpload(base: string, session: Session, roomId: string, more: () => Promise<boolean>) {
  const boundary = `----securechat${randomBytes(8).toString('hex')}`;
  const hash = createHash('sha256');
  let bytes = 0;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base}/api/v1/rooms/${roomId}/files`, {
      method: 'POST',
      headers: { ...as(session), 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('error', reject);
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    void (async () => {
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      while (await more()) {
        if (bytes >= MAX_BYTES) throw new Error(`streamed ${bytes} bytes and the sends were still not acknowledged`);
        const piece = randomBytes(PIECE);
        hash.update(piece);
        bytes += piece.length;
        if (!req.write(piece)) await new Promise((drained) => req.once('drain', drained));
      }
      req.end(`\r\n--${boundary}--\r\n`);
    })().catch((error: unknown) => (req.destroy(error as Error), reject(error)));
  });
  return { answer, written: () => ({ bytes, sha256: hash.digest('hex') }) };
}

describe('database file storage on SQLite', () => {
  const t = useTestApp('sqlite', { FILE_STORAGE: 'database' });
  const sockets = closedAfterEach();
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  const partialChunks = async () =>
    Number((await t.database.db.selectFrom('file_chunks').select((eb) => eb.fn.countAll().as('n')).where('blob_id', 'like', '%.partial').executeTakeFirstOrThrow()).n);

  it('acknowledges socket sends while a large upload streams, and writes its chunks off the main connection', async () => {
    const alice = await signUp(t.app);
    const room = await createRoom(t.app, alice);
    const socket = await connectWs(base, { cookie: alice.cookie });
    sockets.push(socket);
    t.queries.length = 0;

    // The sends start once some chunks of the upload are stored, and the upload goes on until all are acknowledged.
    let acked = 0;
    let sends: Promise<void> | undefined;
    const upload = streamUpload(base, alice, room.id, async () => {
      if (!sends && (await partialChunks()) > 0) {
        sends = (async () => {
          for (let i = 0; i < SENDS; i++) {
            await sendWs(socket, room.id, `while uploading ${i}`);
            acked += 1;
          }
        })();
      }
      return acked < SENDS;
    });

    const answer = await upload.answer;
    await sends;
    expect(answer.status, answer.body).toBe(201);
    expect(acked).toBe(SENDS);
    const written = upload.written();
    const file = (JSON.parse(answer.body) as { file: FileInfo }).file;
    expect(file.size).toBe(written.bytes);

    const stored = await t.database.db.selectFrom('messages').select('seq').where('room_id', '=', room.id).execute();
    expect(stored).toHaveLength(SENDS);
    expect(t.queries.filter((sql) => /(insert into|update|delete from) "file_chunks"/i.test(sql))).toEqual([]);

    const download = await downloadFile(t.app, alice, file.id);
    expect(download.statusCode).toBe(200);
    expect(createHash('sha256').update(download.rawPayload).digest('hex')).toBe(written.sha256);
  });
});
