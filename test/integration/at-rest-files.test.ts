/**
 * Files at rest, on both databases × both storages: a marker inside a text file, inside a
 * JPEG's EXIF ImageDescription (and its thumbnail), and in the files' names is found nowhere
 * in the raw bytes of the data folder, of the SQLite database (file and WAL), or in the rows of
 * files and file_chunks (PostgreSQL: every row as text). The files are written through the
 * storages with encrypted meta, as the files service writes them; the lead will switch
 * this to the upload route.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import type { FileStorageKind } from '../../src/server/db/schema.js';
import { createFileStorages } from '../../src/server/files/storages.js';
import { prepareDatabase } from '../support/app.js';
import { createTestDatabase, DIALECTS } from '../support/databases.js';
import { readBlob, seedOwner, storeFile } from '../support/stored-files.js';

const KINDS: FileStorageKind[] = ['local', 'database'];

/** Every file under `folder`, as latin1 text (bytes kept one to one). */
async function folderBytes(folder: string): Promise<string> {
  if (!existsSync(folder)) return '';
  const parts: string[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(path.join(entry.parentPath, entry.name))).toString('latin1'));
  }
  return parts.join('\n');
}

describe.each(DIALECTS)('files at rest on %s', (dialect) => {
  it.for(KINDS)('with the %s storage: no marker of a text file, an image\'s EXIF or a name in the data folder or the database', async (kind) => {
    const testDatabase = await createTestDatabase(dialect);
    const database = openDatabase(testDatabase.target);
    const folder = await mkdtemp(path.join(os.tmpdir(), 'securechat-at-rest-files-'));
    const markers = { text: `QZX-TEXT-${kind}-${dialect}`, exif: `QZX-EXIF-${kind}-${dialect}`, name: `QZX-NAME-${kind}-${dialect}` };
    try {
      const keyring = createKeyring(generateFernetKey());
      await prepareDatabase(database, keyring);
      const owner = await seedOwner(database.db, keyring);
      const storages = createFileStorages({ storage: kind, folder }, database.db);

      const text = Buffer.from(`line one\nthe secret is ${markers.text}\n${'padding '.repeat(20_000)}\n${markers.text} again, past the first chunk\n`);
      const jpeg = await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 30, g: 120, b: 200 } } })
        .jpeg()
        .withExif({ IFD0: { ImageDescription: markers.exif } })
        .toBuffer();
      // The markers are really in what is stored (else the scan below proves nothing).
      expect(jpeg.includes(Buffer.from(markers.exif))).toBe(true);
      expect(text.includes(Buffer.from(markers.text))).toBe(true);
      const stored = [
        await storeFile(database.db, storages, keyring, { ...owner, bytes: text, meta: { name: `${markers.name} notes.txt`, mime: 'text/plain' } }),
        await storeFile(database.db, storages, keyring, {
          ...owner,
          bytes: jpeg,
          thumbnail: jpeg,
          meta: { name: `${markers.name} photo.jpg`, mime: 'image/jpeg', width: 320, height: 200, thumbnail: { width: 320, height: 200, mime: 'image/jpeg' } },
        }),
      ];
      // Both read back whole with the key.
      expect((await readBlob(storages, keyring, kind, stored[0]!.id, 3)).equals(text)).toBe(true);
      expect((await readBlob(storages, keyring, kind, stored[1]!.id, 1)).equals(jpeg)).toBe(true);

      // The rows as the database holds them, every column as text.
      const rows = await sql<{ row: string }>`select cast(f.id as text) || ' ' || f.meta_ciphertext || ' ' || f.storage as row from files f
        union all select c.blob_id || ' ' || c.token from file_chunks c`.execute(database.db);
      const dump = rows.rows.map((r) => r.row).join('\n');
      expect(dump).toMatch(/gAAAAA[A-Za-z0-9_-]{40,}/); // the meta is there, as Fernet tokens
      if (kind === 'database') expect(rows.rows.length).toBeGreaterThan(stored.length + 3);
      await database.close(); // SQLite: everything written to the file (or its WAL) before the scan

      const raw = [dump];
      if (testDatabase.target.dialect === 'sqlite') {
        const file = testDatabase.target.file;
        const sqliteBytes = await Promise.all([file, `${file}-wal`].filter(existsSync).map(async (f) => (await readFile(f)).toString('latin1')));
        expect(sqliteBytes.join('').length).toBeGreaterThan(0);
        raw.push(...sqliteBytes);
      }
      const folderText = await folderBytes(folder);
      if (kind === 'local') expect(folderText).toMatch(/^gAAAAA/m); // the blobs are there, as tokens
      raw.push(folderText);
      const all = raw.join('\n');
      for (const marker of Object.values(markers)) expect(all).not.toContain(marker);
      expect(all).not.toContain('QZX-');
      // Nor the image's own bytes in the clear (its JPEG header and the EXIF block).
      expect(all).not.toContain(jpeg.subarray(0, 64).toString('latin1'));
    } finally {
      await database.close().catch(() => undefined); // already closed unless the test failed early
      await testDatabase.drop();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

