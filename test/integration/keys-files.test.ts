/**
 * Key rotation of files, on both databases × both storages: every file's chunks, thumbnail
 * and encrypted meta end under the new key (checked on the raw tokens: the new key alone
 * reads them, the old key alone does not) with the bytes unchanged; a file stored under the
 * old key while rotation runs is reported in `remaining` or rotated, and the next run picks
 * it up; a kill between a blob's rewrite and its row's update is redone; a read of a blob
 * while rotation rewrites it still returns every byte; only one rotation runs at a time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring, type Keyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { FileStorageKind } from '../../src/server/db/schema.js';
import { decryptChunks, encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { thumbnailBlobId } from '../../src/server/files/file-storage.js';
import { createFileStorages, type FileStorages } from '../../src/server/files/storages.js';
import { createKeysRepository } from '../../src/server/keys/keys.repository.js';
import { createKeysService, type RotationProgress } from '../../src/server/keys/keys.service.js';
import { RotationBusyError, withRotationLock } from '../../src/server/keys/rotation-lock.js';
import { prepareDatabase, TestClock } from '../support/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { bytesOfLength, collect, piecesOf, rawTokens, readBlob, seedOwner, storeFile, type StoredFile } from '../support/stored-files.js';

const KINDS: FileStorageKind[] = ['local', 'database'];
const CHUNK = 64 * 1024;

describe.each(DIALECTS)('file key rotation on %s', (dialect) => {
  describe.each(KINDS)('%s storage', (kind) => {
    const keyA = generateFernetKey();
    const keyB = generateFernetKey();
    const A = createKeyring(keyA);
    const B = createKeyring(keyB);
    const AB = createKeyring(keyB, [keyA]);
    let testDatabase: TestDatabase;
    let database: DatabaseHandle;
    let folder: string;
    let storages: FileStorages;
    let owner: { userId: string; roomId: string };

    beforeEach(async () => {
      testDatabase = await createTestDatabase(dialect);
      database = openDatabase(testDatabase.target);
      folder = await mkdtemp(path.join(os.tmpdir(), 'securechat-keys-files-'));
      storages = createFileStorages({ storage: kind, folder }, database.db);
      await prepareDatabase(database, A);
      owner = await seedOwner(database.db, A);
    });
    afterEach(async () => {
      await database.close();
      await testDatabase.drop();
      await rm(folder, { recursive: true, force: true });
    });

    const rotation = (keyring: Keyring = AB) =>
      createKeysService({ db: database.db, keys: createKeysRepository(dialect), keyring, clock: new TestClock(), storages });
    const store = (keyring: Keyring, bytes: Buffer, name: string, extra: Partial<Parameters<typeof storeFile>[3]> = {}) =>
      storeFile(database.db, storages, keyring, { ...owner, bytes, meta: { name, mime: 'application/octet-stream' }, ...extra });
    const row = (id: string) => database.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    /** The raw tokens of the file's blobs all read with `good` alone and fail with `bad` alone; the bytes are the file's. */
    async function expectUnder(file: StoredFile, good: Keyring, bad: Keyring): Promise<void> {
      const stored = await row(file.id);
      expect(stored.content_key_id, file.meta.name).toBe(good.primaryKeyId);
      expect(stored.meta_key_id, file.meta.name).toBe(good.primaryKeyId);
      expect(JSON.parse(good.decrypt(stored.meta_ciphertext))).toEqual(file.meta);
      expect(() => bad.decrypt(stored.meta_ciphertext)).toThrow();
      const blobs: Array<[string, Buffer | undefined]> = [
        [file.id, file.bytes],
        [thumbnailBlobId(file.id), file.thumbnail],
      ];
      for (const [blobId, bytes] of blobs) {
        if (!bytes) continue;
        const tokens = await rawTokens(database.db, folder, kind, blobId);
        expect(tokens.length, blobId).toBe(Math.max(1, Math.ceil(bytes.length / CHUNK)));
        expect(Buffer.concat(tokens.map((token) => good.decryptBytes(token))).equals(bytes), blobId).toBe(true);
        for (const token of tokens) expect(() => bad.decryptBytes(token)).toThrow();
        // And through the storage, as a download reads it.
        expect((await readBlob(storages, good, kind, blobId, tokens.length)).equals(bytes)).toBe(true);
      }
    }

    it('re-encrypts chunks, thumbnails and names under the new key, bytes unchanged; uploads in progress are left to their writer and reported', async () => {
      const files = [
        await store(A, Buffer.alloc(0), 'empty.txt'),
        await store(A, Buffer.from('one short line\n'), 'short ünïcode name.txt'),
        await store(A, bytesOfLength(CHUNK, 2), 'exactly one chunk.bin'),
        await store(A, bytesOfLength(3 * CHUNK + 17, 3), 'photo.jpg', { thumbnail: bytesOfLength(5000, 4) }),
      ];
      const uploading = await store(A, bytesOfLength(2 * CHUNK, 5), 'still uploading.bin', { state: 'uploading' });
      const released = await store(A, bytesOfLength(100, 6), 'being purged.bin', { state: 'released' });
      const progress: RotationProgress[] = [];

      const result = await rotation().rotate({ onProgress: (p) => progress.push({ ...p }) });

      // 1 email + 6 metas + chunks of the stored files: 1 + 1 + 1 + (4 + 1 thumbnail).
      const chunks = 1 + 1 + 1 + 5;
      expect(result).toEqual({ reencrypted: 1 + 6 + chunks, remaining: 2 });
      expect(progress[0]).toEqual({ done: 0, total: 1 + 6 + chunks });
      expect(progress.at(-1)).toEqual({ done: 1 + 6 + chunks, total: 1 + 6 + chunks });
      for (const file of files) await expectUnder(file, B, A);
      // The upload and the released file keep their contents under A (the meta is rotated).
      for (const file of [uploading, released]) {
        const stored = await row(file.id);
        expect([stored.content_key_id, stored.meta_key_id]).toEqual([A.primaryKeyId, B.primaryKeyId]);
        expect(Buffer.concat((await rawTokens(database.db, folder, kind, file.id)).map((token) => A.decryptBytes(token))).equals(file.bytes)).toBe(true);
      }
      // Once the upload is stored, the next run rotates it.
      await database.db.updateTable('files').set({ state: 'stored' }).where('id', '=', uploading.id).execute();
      expect(await rotation().rotate()).toEqual({ reencrypted: 2, remaining: 0 });
      await expectUnder(uploading, B, A);
    });

    it('a file stored under the old key while rotation runs is counted in remaining or rotated, and the next run rotates it', async () => {
      const before = [await store(A, bytesOfLength(2 * CHUNK + 5, 7), 'a.bin'), await store(A, bytesOfLength(10, 8), 'b.bin')];
      // A second instance still on A stores two files as the rotation rewrites its first blob:
      // one sorting before every file (the walk has passed it), one after (the walk reaches it).
      const late: StoredFile[] = [];
      const real = storages.of(kind);
      const watched: FileStorages = {
        current: real,
        of: () => ({
          ...real,
          write: async (blobId, tokens) => {
            if (late.length === 0) {
              late.push(await store(A, bytesOfLength(3 * CHUNK, 9), 'late first.bin', { id: `00000000-${crypto.randomUUID().slice(9)}` }));
              late.push(await store(A, bytesOfLength(CHUNK + 1, 10), 'late last.bin', { id: `ffffffff-${crypto.randomUUID().slice(9)}` }));
            }
            return real.write(blobId, tokens);
          },
        }),
      };
      const first = await createKeysService({ db: database.db, keys: createKeysRepository(dialect), keyring: AB, clock: new TestClock(), storages: watched }).rotate();
      // The early one (meta and 3 chunks) is behind the walk; the late one's contents are rotated, its meta was written after the metas were.
      expect(first.remaining).toBe(1 + 3 + 1);
      expect((await row(late[0]!.id)).content_key_id).toBe(A.primaryKeyId);
      expect((await row(late[1]!.id)).content_key_id).toBe(B.primaryKeyId);
      for (const file of before) await expectUnder(file, B, A);

      expect(await rotation().rotate()).toEqual({ reencrypted: 5, remaining: 0 });
      for (const file of [...before, ...late]) await expectUnder(file, B, A);
    });

    it('a kill between a blob rewrite and its row update is redone by the next run', async () => {
      const file = await store(A, bytesOfLength(2 * CHUNK + 3, 11), 'half done.bin', { thumbnail: bytesOfLength(900, 12) });
      // As a killed run leaves it: the blob (not the thumbnail) already under B, the row still naming A.
      const storage = storages.of(kind);
      await storage.write(file.id, encryptChunks(B, rechunk(piecesOf(file.bytes), CHUNK)));
      expect((await row(file.id)).content_key_id).toBe(A.primaryKeyId);
      // Readers (who try every key) read it meanwhile.
      expect((await readBlob(storages, AB, kind, file.id, 3)).equals(file.bytes)).toBe(true);

      expect(await rotation().rotate()).toEqual({ reencrypted: 1 + 1 + 3 + 1, remaining: 0 }); // email, meta, chunks, thumbnail
      await expectUnder(file, B, A);
    });

    it('a start whose keyring lacks the key of some file contents is refused, naming that key', async () => {
      const file = await store(A, bytesOfLength(100, 16), 'needs A.bin');
      // Everything else already under B: only the file's contents still need A.
      await rotation().rotate();
      await database.db.updateTable('files').set({ content_key_id: A.primaryKeyId }).where('id', '=', file.id).execute();
      await expect(rotation(B).verify()).rejects.toThrow(new RegExp(`file contents are encrypted with key ${A.primaryKeyId}`));
      await expect(rotation(AB).verify()).resolves.toBeUndefined();
    });

    it('a blob lost from the storage is reported and left as it is; the rest is rotated', async () => {
      const lost = await store(A, bytesOfLength(100, 13), 'lost.bin');
      const kept = await store(A, bytesOfLength(100, 14), 'kept.bin');
      await storages.of(kind).delete(lost.id);
      const result = await rotation().rotate();
      expect(result.brokenFiles).toEqual([lost.id]);
      expect((await row(lost.id)).content_key_id).toBe(A.primaryKeyId);
      await expectUnder(kept, B, A);
    });

    it('a read of a blob while rotation rewrites it returns every byte, before, across and after the swap', async () => {
      // 40 small chunks: more than one batch of the database storage's reads (16).
      const small = 1024;
      const bytes = bytesOfLength(40 * small - 100, 15);
      const id = crypto.randomUUID();
      const storage = storages.of(kind);
      await storage.write(id, encryptChunks(A, rechunk(piecesOf(bytes), small)));
      const reader = storage.read(id, 0, 39)[Symbol.asyncIterator]();
      const tokens: string[] = [];
      for (let i = 0; i < 20; i++) tokens.push((await reader.next()).value as string);
      // The rewrite rotation makes, swapped in while the read is half-way.
      await storage.write(id, (async function* () {
        for await (const token of storage.read(id, 0, 39)) yield B.encryptBytes(AB.decryptBytes(token)).ciphertext;
      })());
      for (let next = await reader.next(); !next.done; next = await reader.next()) tokens.push(next.value);
      expect(tokens).toHaveLength(40);
      // Each token is whole and under A or B (the database storage's later batches see the new
      // version; the data folder's reader keeps the file it opened): the bytes are the same.
      expect(Buffer.concat(tokens.map((token) => AB.decryptBytes(token))).equals(bytes)).toBe(true);
      expect(Buffer.concat(await collect(decryptChunks(B, storage.read(id, 0, 39)))).equals(bytes)).toBe(true);

      // And downloads running all through a real rotation of several files get every byte.
      const files = await Promise.all(Array.from({ length: 6 }, (_, i) => store(A, bytesOfLength(2 * CHUNK + 1 + i, 20 + i), `busy ${i}.bin`)));
      let rotating = true;
      const downloads = (async () => {
        let reads = 0;
        while (rotating || reads < files.length) {
          const file = files[reads % files.length]!;
          expect((await readBlob(storages, AB, kind, file.id, 3)).equals(file.bytes)).toBe(true);
          reads += 1;
        }
        return reads;
      })();
      await rotation().rotate();
      rotating = false;
      expect(await downloads).toBeGreaterThanOrEqual(files.length);
      for (const file of files) await expectUnder(file, B, A);
    });
  });
});

describe.each(DIALECTS)('one rotation at a time on %s', (dialect) => {
  it('a second rotation is refused while one runs, and runs once it ended; a lock left by a process that is gone is taken over', async () => {
    const testDatabase = await createTestDatabase(dialect);
    const database = openDatabase(testDatabase.target);
    try {
      await migrateToLatest(database.db);
      let release!: () => void;
      const holding = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const first = withRotationLock(database, async () => {
        started();
        await holding;
        return 'first';
      });
      await running;
      await expect(withRotationLock(database, async () => 'second')).rejects.toBeInstanceOf(RotationBusyError);
      release();
      expect(await first).toBe('first');
      expect(await withRotationLock(database, async () => 'third')).toBe('third');

      if (testDatabase.target.dialect === 'sqlite') {
        const lockFile = `${testDatabase.target.file}.rotate-lock`;
        expect(existsSync(lockFile)).toBe(false);
        // A lock file naming a process that has exited (a killed rotation).
        const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
        await writeFile(lockFile, gone.stdout);
        expect(await withRotationLock(database, async () => 'after a kill')).toBe('after a kill');
        expect(existsSync(lockFile)).toBe(false);
        // One naming a live process is respected.
        await writeFile(lockFile, `${process.pid}\n`);
        await expect(withRotationLock(database, async () => 'no')).rejects.toThrow(new RegExp(`process ${process.pid}`));
      }
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });
});
