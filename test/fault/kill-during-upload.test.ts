/**
 * `kill -9` of the server while a file is half uploaded, on both databases × both storages:
 * the upload was never acknowledged, so nothing of it may be visible after a restart. Its
 * row is still 'uploading' (served to nobody: the same 404 as an unknown id), the next
 * upload works, and the sweep a day later removes the row and every byte written (the
 * blob's `.partial` in the data folder, or its chunks in file_chunks).
 */
import http from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import type { FileStorageKind } from '../../src/server/db/schema.js';
import { composeFiles } from '../../src/server/files/compose-files.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import { createRateLimiter } from '../../src/server/http/rate-limit.js';
import { createMemoryCounterStore } from '../../src/server/platform/cluster/counters.js';
import { createLogger } from '../../src/server/logger.js';
import { loadConfig } from '../../src/server/config.js';
import { multipart, randomFile } from '../support/files.js';
import { createRoom, signUp } from '../support/factories.js';
import { as, call, type Session } from '../support/http.js';
import { DIALECTS, type Dialect } from '../support/databases.js';
import { exitWithin, Resources, waitUntil } from '../support/process.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const STORAGES: FileStorageKind[] = ['local', 'database'];

/** Sends the first `sent` bytes of a multipart upload of `data` and leaves the request open. */
function halfUpload(base: string, session: Session, roomId: string, data: Buffer, sent: number): http.ClientRequest {
  const { payload, contentType } = multipart([{ name: 'file', filename: 'half.bin', data }]);
  const request = http.request(`${base}/api/v1/rooms/${roomId}/files`, {
    method: 'POST',
    headers: { ...as(session), 'content-type': contentType, 'content-length': String(payload.length) },
  });
  request.on('error', () => undefined); // the server dies under it
  request.write(payload.subarray(0, sent));
  return request;
}

async function filesUnder(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

describe('kill -9 during an upload', { timeout: 120_000 }, () => {
  const resources = new Resources();
  afterEach(async () => resources.dispose());

  const cases = DIALECTS.flatMap((dialect) => STORAGES.map((storage) => [dialect, storage] as [Dialect, FileStorageKind]));
  it.for(cases)('on %s with the %s storage: nothing of it is visible after a restart, and the sweep removes every byte', async ([dialect, storage]) => {
    const { dataDir, env: dataEnv, target } = await resources.dataFor(dialect);
    const env = { ...dataEnv, FILE_STORAGE: storage };
    const filesDir = path.join(dataDir, 'files');
    let server = await resources.startServer(env, dataDir);
    const alice = await signUp(server.url);
    const room = await createRoom(server.url, alice);

    const database = openDatabase(target);
    resources.defer(() => database.close());
    const rows = () => database.db.selectFrom('files').select(['id', 'state']).execute();
    const chunks = async () => (await database.db.selectFrom('file_chunks').select('blob_id').execute()).length;

    // 2 MiB sent of 4: some chunks are written (a .partial, or rows of file_chunks) when the kill comes.
    halfUpload(server.url, alice, room.id, randomFile(4 * 1024 * 1024), 2 * 1024 * 1024);
    await waitUntil('chunks of the half upload to be written', 20_000, async () =>
      storage === 'database' ? (await chunks()) > 0 : (await filesUnder(filesDir)).some((name) => name.endsWith('.partial')),
    );
    server.proc.child.kill('SIGKILL');
    await exitWithin(server.proc, 10_000);

    const [row] = await rows();
    expect(row?.state).toBe('uploading');
    server = await resources.startServer(env, dataDir);
    // Served to nobody, its uploader included: the answer an unknown id gets.
    const hidden = await call(server.url, 'GET', `/api/v1/files/${row!.id}`, { session: alice });
    const unknown = await call(server.url, 'GET', `/api/v1/files/${crypto.randomUUID()}`, { session: alice });
    expect([hidden.status, hidden.body]).toEqual([404, unknown.body]);

    // A day later the sweep removes the row and every byte it wrote.
    const config = { ...loadConfig({ ...env, DATA_DIR: dataDir }), database: target };
    const keyring = createKeyring((await readFile(path.join(dataDir, 'master.key'), 'utf8')).split('\n')[0]!.trim());
    const clock = { now: () => Date.now() + DAY_MS + 60_000 };
    const { files, close } = composeFiles({
      config,
      db: database.db,
      keyring,
      rooms: { authorize: async () => undefined },
      clock,
      limiter: createRateLimiter(createMemoryCounterStore(), clock),
      metrics: createMetrics(),
      log: createLogger({ logLevel: 'silent' }),
    });
    resources.defer(close);
    expect(await files.sweep()).toBeGreaterThanOrEqual(1);
    expect(await rows()).toEqual([]);
    expect(await chunks()).toBe(0);
    expect(await filesUnder(filesDir)).toEqual([]);
  });
});
