/**
 * The two blob storages behind files (data folder, database table) on SQLite and
 * PostgreSQL: tokens round-trip in order, a range reads only its chunks, a replaced blob
 * is whole, a failed write leaves nothing, and the data folder's modes are private. On
 * SQLite the database storage runs both on the main connection (the CLI's) and through
 * the message writer's thread (the server's).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { chunkSpan, decryptChunks, encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { createDatabaseFileStorage } from '../../src/server/files/database-file-storage.js';
import type { FileStorage } from '../../src/server/files/file-storage.js';
import { createLocalFileStorage } from '../../src/server/files/local-file-storage.js';
import { createSqliteMessageStore } from '../../src/server/messages/sqlite-message-store.js';
import { useTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';

const CHUNK = 1024;

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('chunking', () => {
  it('cuts any piece sizes into full chunks and one short last chunk, and an empty input into one empty chunk', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const chunks = await collect(rechunk(pieces(bytes, 333), CHUNK));
    expect(chunks.map((c) => c.length)).toEqual([1024, 1024, 1024, 1024, 904]);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect((await collect(rechunk(pieces(Buffer.alloc(2048), 2048), CHUNK))).map((c) => c.length)).toEqual([1024, 1024]);
    expect((await collect(rechunk(pieces(Buffer.alloc(0), 1), CHUNK))).map((c) => c.length)).toEqual([0]);
    expect(chunkSpan(1023, 1024, CHUNK)).toEqual({ from: 0, to: 1 });
  });
});

describe.each(DIALECTS)('file storages on %s', (dialect) => {
  const t = useTestApp(dialect);
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'securechat-files-'));
  });
  afterAll(async () => rm(folder, { recursive: true, force: true }));
  let writerThread: ReturnType<typeof createSqliteMessageStore> | undefined;
  afterAll(async () => writerThread?.close());
  const throughWriterThread = (): FileStorage => {
    const target = t.testDatabase.target;
    if (target.dialect !== 'sqlite') throw new Error('expected SQLite');
    writerThread ??= createSqliteMessageStore(target.file);
    return createDatabaseFileStorage(t.database.db, writerThread.chunks);
  };

  const storages: Array<[string, () => FileStorage]> = [
    ['local', () => createLocalFileStorage(path.join(folder, dialect))],
    ['database', () => createDatabaseFileStorage(t.database.db)],
    ...(dialect === 'sqlite' ? [['database through the writer thread', throughWriterThread] as [string, () => FileStorage]] : []),
  ];

  describe.each(storages)('%s', (_kind, storageOf) => {
    const keyring = createKeyring(generateFernetKey());
    const bytes = Buffer.from(Array.from({ length: 10 * CHUNK + 17 }, (_, i) => (i * 7) % 256));
    const store = (storage: FileStorage, id: string, data: Buffer) => storage.write(id, encryptChunks(keyring, rechunk(pieces(data, 700), CHUNK)));
    const readBack = async (storage: FileStorage, id: string, from: number, to: number) => Buffer.concat(await collect(decryptChunks(keyring, storage.read(id, from, to))));

    it('stores tokens that decrypt back to the bytes, whole and by chunk range', async () => {
      const storage = storageOf();
      const id = crypto.randomUUID();
      expect(await store(storage, id, bytes)).toBe(11);
      expect((await readBack(storage, id, 0, 10)).equals(bytes)).toBe(true);
      expect((await readBack(storage, id, 3, 4)).equals(bytes.subarray(3 * CHUNK, 5 * CHUNK))).toBe(true);
      expect((await readBack(storage, id, 10, 10)).equals(bytes.subarray(10 * CHUNK))).toBe(true);
      await expect(collect(storage.read(id, 9, 11))).rejects.toThrow(/chunk|lacks/);
    });

    it('replaces a blob whole, and deletes it', async () => {
      const storage = storageOf();
      const id = crypto.randomUUID();
      await store(storage, id, bytes);
      const shorter = Buffer.from('a much shorter second version');
      expect(await store(storage, id, shorter)).toBe(1);
      expect((await readBack(storage, id, 0, 0)).toString()).toBe(shorter.toString());
      await storage.delete(id);
      await expect(collect(storage.read(id, 0, 0))).rejects.toThrow(/not in the data folder|lacks/);
      await storage.delete(id);
    });

    it('keeps nothing of a write that fails half-way', async () => {
      const storage = storageOf();
      const id = crypto.randomUUID();
      async function* failing(): AsyncGenerator<string> {
        yield keyring.encryptBytes(Buffer.alloc(CHUNK)).ciphertext;
        throw new Error('the client went away');
      }
      await expect(storage.write(id, failing())).rejects.toThrow('the client went away');
      await expect(collect(storage.read(id, 0, 0))).rejects.toThrow(/not in the data folder|lacks/);
      if (storage.kind === 'database') {
        const left = await t.database.db.selectFrom('file_chunks').select('blob_id').where('blob_id', 'like', `${id}%`).execute();
        expect(left).toEqual([]);
      } else {
        expect(await readdir(path.join(folder, dialect, id.slice(0, 2)))).not.toContain(`${id}.partial`);
      }
    });
  });

  it('keeps the data folder private: folders 0700, blobs 0600', async () => {
    const root = path.join(folder, `${dialect}-modes`);
    const storage = createLocalFileStorage(root);
    const id = crypto.randomUUID();
    await storage.write(id, (async function* () { yield 'token'; })());
    expect((await stat(path.join(root, id.slice(0, 2)))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(root, id.slice(0, 2), id))).mode & 0o777).toBe(0o600);
  });
});
