/**
 * Crash guarantees for files (issue 16):
 *   - `securechat keys rotate` (a process) SIGKILLed half-way through many files, on both
 *     databases × both storages, and run again: every file ends under the new key (its raw
 *     tokens read with the new key alone), every byte intact, no partial blob left behind;
 *     in between every file still reads with the keys the servers hold.
 *   - A process killed while it writes a blob to the data folder leaves nothing under the
 *     blob's name but the previous version (or nothing): only `<id>.partial` may remain, and
 *     reads see the old bytes or fail with MissingBlobError.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import type { FileStorageKind } from '../../src/server/db/schema.js';
import { encryptChunks, rechunk } from '../../src/server/files/chunk-cipher.js';
import { MissingBlobError } from '../../src/server/files/file-storage.js';
import { createLocalFileStorage } from '../../src/server/files/local-file-storage.js';
import { createFileStorages } from '../../src/server/files/storages.js';
import { prepareDatabase } from '../support/app.js';
import { DIALECTS, type Dialect } from '../support/databases.js';
import { CLI_SCRIPT, exitWithin, Resources, ROOT, waitUntil, type Proc } from '../support/process.js';
import { bytesOfLength, collect, piecesOf, rawTokens, readBlob, seedOwner, storeFile, type StoredFile } from '../support/stored-files.js';

const FILES = 300;
const CHUNK = 64 * 1024;
const COMBOS: Array<[Dialect, FileStorageKind]> = DIALECTS.flatMap((dialect) => (['local', 'database'] as const).map((kind): [Dialect, FileStorageKind] => [dialect, kind]));

/** The last "done/total" the rotation's progress bar printed. */
function progressOf(proc: Proc): { done: number; total: number } | undefined {
  const match = [...proc.stderr.matchAll(/ (\d+)\/(\d+) \(/g)].at(-1);
  return match ? { done: Number(match[1]), total: Number(match[2]) } : undefined;
}

/** Every `.partial` left in the data folder, and every partial blob in file_chunks. */
async function partials(folder: string, db: ReturnType<typeof openDatabase>['db']): Promise<string[]> {
  const found: string[] = [];
  if (existsSync(folder)) for (const entry of await fs.readdir(folder, { recursive: true })) if (entry.endsWith('.partial')) found.push(entry);
  const rows = await db.selectFrom('file_chunks').select('blob_id').distinct().where('blob_id', 'like', '%.partial').execute();
  return [...found, ...rows.map((row) => row.blob_id)];
}

describe('securechat keys rotate over many files, killed half-way', { timeout: 180_000 }, () => {
  const resources = new Resources();
  afterEach(async () => resources.dispose());

  it.for(COMBOS)('on %s with the %s storage: run again, every file is under the new key with its bytes intact', async ([dialect, kind]) => {
    const { dataDir, env: baseEnv, target } = await resources.dataFor(dialect);
    const folder = path.join(dataDir, 'files'); // FILES_DIR's default
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    const A = createKeyring(oldKey);
    const B = createKeyring(newKey);
    const AB = createKeyring(newKey, [oldKey]);

    // ---- as servers on key A left it: FILES files of 2 chunks (every 10th with a thumbnail) ----
    const handle = openDatabase(target);
    resources.defer(() => handle.close());
    const { db } = handle;
    const storages = createFileStorages({ storage: kind, folder }, db);
    await prepareDatabase(handle, A);
    const owner = await seedOwner(db, A);
    const files: StoredFile[] = [];
    for (let i = 0; i < FILES; i++) {
      files.push(
        await storeFile(db, storages, A, {
          ...owner,
          bytes: bytesOfLength(CHUNK + 1 + i, i + 1),
          meta: { name: `file ${i}.bin`, mime: 'application/octet-stream' },
          ...(i % 10 === 0 ? { thumbnail: bytesOfLength(2000, 1000 + i) } : {}),
        }),
      );
    }
    const env = { ...baseEnv, FILE_STORAGE: kind, MASTER_ENCRYPTION_KEY: newKey, MASTER_ENCRYPTION_KEY_FALLBACKS: oldKey };
    // The columns (1 email, FILES metas) come first, then the chunks: kill once well into the chunks.
    const columns = 1 + FILES;

    const killed = resources.spawnNode(CLI_SCRIPT, ['keys', 'rotate'], env, dataDir);
    let progressAtKill: { done: number; total: number } | undefined;
    killed.child.stderr!.on('data', () => {
      const progress = progressOf(killed);
      if (!progressAtKill && progress && progress.done >= columns + 100 && progress.done < progress.total) {
        progressAtKill = progress;
        killed.child.kill('SIGKILL');
      }
    });
    const killedExit = await exitWithin(killed, 90_000);
    expect(progressAtKill, killed.stderr + killed.stdout).toBeDefined();
    expect(killedExit.signal).toBe('SIGKILL');

    // ---- half-way: some files under B, some under A, every one readable with A and B ----
    const rows = await db.selectFrom('files').select(['id', 'content_key_id', 'meta_key_id', 'chunk_count', 'thumbnail_chunks']).execute();
    const halfUnderB = rows.filter((row) => row.content_key_id === B.primaryKeyId).length;
    expect(halfUnderB).toBeGreaterThan(0);
    expect(rows.filter((row) => row.content_key_id === A.primaryKeyId).length).toBeGreaterThan(0);
    for (const file of files.filter((_, i) => i % 7 === 0)) expect((await readBlob(storages, AB, kind, file.id, 2)).equals(file.bytes)).toBe(true);
    // At most the file in flight has a partial blob; none is visible under a blob's name.
    expect((await partials(folder, db)).length).toBeLessThanOrEqual(2);

    // ---- run again: to the end ----
    const resumed = await resources.cli(['keys', 'rotate'], env, dataDir, 120_000);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toMatch(/Every ciphertext is now under the primary key/);
    const reencrypted = Number(/Re-encrypted (\d+)/.exec(resumed.stdout)?.[1]);
    // The second run redid only what the first had not committed (chunks of files still on A, give or take the one in flight).
    expect(reencrypted).toBeLessThan(progressAtKill!.total);

    const after = await db.selectFrom('files').select(['id', 'content_key_id', 'meta_key_id']).execute();
    expect(new Set(after.flatMap((row) => [row.content_key_id, row.meta_key_id]))).toEqual(new Set([B.primaryKeyId]));
    for (const file of files) {
      const tokens = await rawTokens(db, folder, kind, file.id);
      expect(tokens).toHaveLength(2);
      expect(Buffer.concat(tokens.map((token) => B.decryptBytes(token))).equals(file.bytes), file.meta.name).toBe(true);
      if (file.thumbnail) {
        const thumb = await rawTokens(db, folder, kind, `${file.id}.thumb`);
        expect(Buffer.concat(thumb.map((token) => B.decryptBytes(token))).equals(file.thumbnail)).toBe(true);
      }
    }
    expect(await partials(folder, db)).toEqual([]);
    console.info(
      `[rotate-files-kill ${dialect}/${kind}] ${FILES} files; first run killed at ${progressAtKill!.done}/${progressAtKill!.total} ` +
        `(${halfUnderB} files under the new key then); second run re-encrypted ${reencrypted}`,
    );
  });
});

describe('a process killed while it writes a blob to the data folder', { timeout: 60_000 }, () => {
  const resources = new Resources();
  afterEach(async () => resources.dispose());
  const CHILD = path.join(ROOT, 'test/fault/write-blob-child.ts');

  it.for([
    ['over an existing blob', true],
    ['for a new blob', false],
  ] as const)('%s: leaves only a .partial beside the old version (or nothing), and reads see the old bytes or fail cleanly', async ([, existing]) => {
    const root = await resources.tempDir('securechat-blob-crash-');
    const key = generateFernetKey();
    const keyring = createKeyring(key);
    const storage = createLocalFileStorage(root);
    const blobId = crypto.randomUUID();
    const old = bytesOfLength(3 * CHUNK + 10, 3);
    if (existing) await storage.write(blobId, encryptChunks(keyring, rechunk(piecesOf(old), CHUNK)));

    const child = resources.spawnNode(CHILD, [root, blobId], { BLOB_KEY: key }, root);
    await waitUntil('the child has written 20 tokens', 30_000, () => /token 20\n/.test(child.stdout) || child.done);
    expect(child.done, child.stderr).toBe(false);
    child.child.kill('SIGKILL');
    expect((await exitWithin(child, 10_000)).signal).toBe('SIGKILL');

    const folder = path.join(root, blobId.slice(0, 2));
    expect((await fs.readdir(folder)).sort()).toEqual(existing ? [blobId, `${blobId}.partial`] : [`${blobId}.partial`]);
    if (existing) {
      const read = Buffer.concat(await collect((async function* () {
        for await (const token of storage.read(blobId, 0, 3)) yield keyring.decryptBytes(token);
      })()));
      expect(read.equals(old)).toBe(true);
    } else {
      await expect(collect(storage.read(blobId, 0, 0))).rejects.toBeInstanceOf(MissingBlobError);
    }
    // The next write of that blob (a retried rotation) replaces the partial and succeeds.
    const fresh = bytesOfLength(CHUNK + 5, 4);
    expect(await storage.write(blobId, encryptChunks(keyring, rechunk(piecesOf(fresh), CHUNK)))).toBe(2);
    expect((await fs.readdir(folder)).sort()).toEqual([blobId]);
    expect(Buffer.concat((await collect(storage.read(blobId, 0, 1))).map((token) => keyring.decryptBytes(token))).equals(fresh)).toBe(true);
  });
});
