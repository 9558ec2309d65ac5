/**
 * docs/operations.md says how to read a file with the key alone, in Python: these run the
 * exact snippets from the document (taken from between its `<!-- snippet: … -->` markers,
 * so the document and the test cannot drift) with python3 and `cryptography`, on blobs
 * written through the real storages, and compare the bytes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import { thumbnailBlobId } from '../../src/server/files/file-storage.js';
import { createFileStorages } from '../../src/server/files/storages.js';
import { prepareDatabase } from '../support/app.js';
import { createTestDatabase, DIALECTS } from '../support/databases.js';
import { ROOT } from '../support/process.js';
import { bytesOfLength, rawTokens, seedOwner, storeFile } from '../support/stored-files.js';

/** The python code between `<!-- snippet: name … -->` and `<!-- /snippet -->` in docs/operations.md. */
async function snippet(name: string): Promise<string> {
  const doc = await readFile(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name}\\b[^>]*-->\\s*\`\`\`python\\n([\\s\\S]*?)\`\`\`\\s*<!-- /snippet -->`).exec(doc);
  if (!match) throw new Error(`docs/operations.md has no snippet "${name}"`);
  return match[1]!;
}

function python(script: string, args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('reading files with the key alone, as docs/operations.md shows', () => {
  let work: string;
  let readBlobPy: string;
  let readMetaPy: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'securechat-files-python-'));
    readBlobPy = path.join(work, 'read-blob.py');
    readMetaPy = path.join(work, 'read-meta.py');
    await writeFile(readBlobPy, await snippet('read-blob'));
    await writeFile(readMetaPy, await snippet('read-meta'));
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  // Half-way through a rotation: the file under the old key, the key file listing the new one first.
  const oldKey = generateFernetKey();
  const newKey = generateFernetKey();
  const keyFile = `# SecureChat master keys, primary first\n${newKey}\n\n${oldKey}\n`;

  it.for(DIALECTS)('on %s: read-blob.py decrypts a data-folder blob, a thumbnail, and file_chunks tokens on stdin, byte for byte', async (dialect) => {
    const testDatabase = await createTestDatabase(dialect);
    const database = openDatabase(testDatabase.target);
    const folder = path.join(work, `files-${dialect}`);
    try {
      const A = createKeyring(oldKey);
      await prepareDatabase(database, A);
      const owner = await seedOwner(database.db, A);
      const storages = createFileStorages({ storage: 'local', folder }, database.db);
      const bytes = bytesOfLength(3 * 64 * 1024 + 999, 5);
      const thumbnail = bytesOfLength(4321, 6);
      const local = await storeFile(database.db, storages, A, { ...owner, bytes, thumbnail, meta: { name: 'a.bin', mime: 'application/octet-stream' } });
      const inDatabase = await storeFile(database.db, storages, A, { ...owner, bytes, meta: { name: 'b.bin', mime: 'application/octet-stream' }, storage: 'database' });

      const cases: Array<[string, string[], string, Buffer]> = [
        ['data folder', [path.join(folder, local.id.slice(0, 2), local.id)], '', bytes],
        ['thumbnail', [path.join(folder, local.id.slice(0, 2), thumbnailBlobId(local.id))], '', thumbnail],
        // As `psql -At -c "select token from file_chunks where blob_id = … order by idx"` prints them.
        ['file_chunks on stdin', ['-'], `${(await rawTokens(database.db, folder, 'database', inDatabase.id)).join('\n')}\n`, bytes],
      ];
      for (const [label, args, stdin, expected] of cases) {
        const output = path.join(work, `out-${dialect}-${label.replace(/\W/g, '-')}`);
        const run = await python(readBlobPy, [...args, output], { SECURECHAT_KEYS: keyFile }, stdin);
        expect(run.code, `${label}: ${run.stderr}`).toBe(0);
        expect((await readFile(output)).equals(expected), label).toBe(true);
      }
      // A wrong key fails loudly rather than writing garbage.
      const wrong = await python(readBlobPy, [cases[0]![1][0]!, path.join(work, 'wrong')], { SECURECHAT_KEYS: generateFernetKey() });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/InvalidToken/);
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });

  it('on sqlite: read-meta.py lists every file with its decrypted name and writes one from the database storage', async () => {
    const testDatabase = await createTestDatabase('sqlite');
    const database = openDatabase(testDatabase.target);
    try {
      const A = createKeyring(oldKey);
      await prepareDatabase(database, A);
      const owner = await seedOwner(database.db, A);
      const storages = createFileStorages({ storage: 'database', folder: path.join(work, 'unused') }, database.db);
      const bytes = bytesOfLength(70_000, 7);
      const photo = await storeFile(database.db, storages, A, { ...owner, bytes: bytesOfLength(500, 8), meta: { name: 'Ünïcode photo — 1.jpg', mime: 'image/jpeg', width: 40, height: 30 } });
      const report = await storeFile(database.db, storages, A, { ...owner, bytes, meta: { name: 'report.pdf', mime: 'application/pdf' } });
      await database.close(); // as a backup copy: everything in the main file

      const file = (testDatabase.target as { file: string }).file;
      const output = path.join(work, 'report.pdf');
      const run = await python(readMetaPy, [file, report.id, output], { SECURECHAT_KEYS: keyFile });
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      const parsed = lines.map((line) => {
        const [id, storage, size, ...meta] = line.split(' ');
        return { id, storage, size: Number(size), meta: JSON.parse(meta.join(' ')) as unknown };
      });
      expect(parsed).toEqual(
        expect.arrayContaining([
          { id: photo.id, storage: 'database', size: 500, meta: photo.meta },
          { id: report.id, storage: 'database', size: bytes.length, meta: report.meta },
        ]),
      );
      expect((await readFile(output)).equals(bytes)).toBe(true);
    } finally {
      await database.close().catch(() => undefined);
      await testDatabase.drop();
    }
  });
});
