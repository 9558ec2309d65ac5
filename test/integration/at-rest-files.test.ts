/**
 * Files at rest, on both databases × both storages, uploaded through the real route: a
 * marker inside a text file, inside a JPEG's EXIF ImageDescription (uploaded once stripped and
 * once with its metadata kept, so the marker is really in what is stored), and in the files'
 * names is found nowhere in the raw bytes of the data folder, of the SQLite database (file and
 * WAL), or in the rows of files and file_chunks (PostgreSQL: every row as text).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { FileStorageKind } from '../../src/server/db/schema.js';
import { apiClient, signUp, startTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { downloadFile, uploadFile } from '../support/files.js';
import { jpegWithExifMarker } from '../support/images.js';

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
  it.for(KINDS)("with the %s storage: no marker of a text file, an image's EXIF or a name in the data folder or the database", async (kind) => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'securechat-at-rest-files-'));
    const t = await startTestApp(dialect, { FILE_STORAGE: kind, FILES_DIR: folder });
    const markers = { text: `QZX-TEXT-${kind}-${dialect}`, exif: `QZX-EXIF-${kind}-${dialect}`, name: `QZX-NAME-${kind}-${dialect}` };
    try {
      const alice = await signUp(t.app);
      const room = await apiClient(() => t.app).createRoom(alice, { isPrivate: true });
      const text = Buffer.from(`line one\nthe secret is ${markers.text}\n${'padding '.repeat(20_000)}\n${markers.text} again, past the first chunk\n`);
      const jpeg = await jpegWithExifMarker(markers.exif);
      // The markers are really in what is uploaded (else the scan below proves nothing).
      expect(jpeg.includes(Buffer.from(markers.exif))).toBe(true);
      const notes = await uploadFile(t.app, alice, room.id, { name: `${markers.name} notes.txt`, data: text });
      await uploadFile(t.app, alice, room.id, { name: `${markers.name} photo.jpg`, data: jpeg });
      const kept = await uploadFile(t.app, alice, room.id, { name: `${markers.name} kept.jpg`, data: jpeg, keepMetadata: true });
      // Read back with the key: the text whole, and the kept photo with its marker.
      expect((await downloadFile(t.app, alice, notes.id)).rawPayload.equals(text)).toBe(true);
      expect((await downloadFile(t.app, alice, kept.id)).rawPayload.includes(Buffer.from(markers.exif))).toBe(true);

      const db = t.database.db;
      const rows = await sql<{ row: string }>`select cast(f.id as text) || ' ' || f.meta_ciphertext || ' ' || f.storage as row from files f
        union all select c.blob_id || ' ' || c.token from file_chunks c`.execute(db);
      const dump = rows.rows.map((r) => r.row).join('\n');
      expect(dump).toMatch(/gAAAAA[A-Za-z0-9_-]{40,}/); // the meta is there, as Fernet tokens
      if (kind === 'database') expect(rows.rows.length).toBeGreaterThan(3 + 3);
      // SQLite: everything written to the file (or its WAL) before the scan.
      await t.app.close();
      await t.database.close();

      const raw = [dump];
      const target = t.testDatabase.target;
      if (target.dialect === 'sqlite') {
        const sqliteBytes = await Promise.all([target.file, `${target.file}-wal`].filter(existsSync).map(async (f) => (await readFile(f)).toString('latin1')));
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
      await t.close().catch(() => undefined);
      await t.testDatabase.drop();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
