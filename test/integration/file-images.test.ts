/**
 * Images through the upload route (the real image step, sharp), on both databases × both
 * storages: a photo's location is stripped before it is stored and a thumbnail is made;
 * one that cannot be read is refused, unless its metadata is kept: then it is stored as it
 * came, as a plain download that no browser decodes inline.
 */
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/shared/protocol.js';
import { apiClient, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { downloadFile, postFile, uploadFile } from '../support/files.js';
import { exifHasGps, jpegWithExifMarker } from '../support/images.js';

const STORAGES = ['local', 'database'] as const;

describe.each(DIALECTS)('images on %s', (dialect) => {
  describe.each(STORAGES)('in the %s storage', (storage) => {
    const folder = path.join(os.tmpdir(), `securechat-file-images-${randomUUID()}`);
    const t = useTestApp(dialect, { FILE_STORAGE: storage, FILES_DIR: folder });
    let alice: Session;
    let room: Room;
    beforeAll(async () => {
      alice = await signUp(t.app);
      room = await apiClient(() => t.app).createRoom(alice, { isPrivate: true });
    });
    afterAll(() => rm(folder, { recursive: true, force: true }));

    async function everythingStored() {
      const rows = await t.database.db.selectFrom('files').select('id').execute();
      const chunks = await t.database.db.selectFrom('file_chunks').select('blob_id').execute();
      const files = await readdir(folder, { recursive: true }).catch(() => []);
      return { rows: rows.length, blobs: [...files.map(String), ...chunks.map((c) => c.blob_id)].sort() };
    }

    it('strips a photo’s location before storing it, and refuses one it cannot read rather than keep its metadata', async () => {
      const photo = await jpegWithExifMarker('marker-lighthouse-road');
      expect(photo.includes('marker-lighthouse-road')).toBe(true);
      const file = await uploadFile(t.app, alice, room.id, { name: 'photo.jpg', data: photo });
      expect(file).toMatchObject({ mime: 'image/jpeg', width: expect.any(Number), height: expect.any(Number) });
      const stored = (await downloadFile(t.app, alice, file.id)).rawPayload;
      expect(stored.includes('marker-lighthouse-road')).toBe(false);
      expect(exifHasGps((await sharp(stored).metadata()).exif)).toBe(false);
      const thumbnail = await downloadFile(t.app, alice, file.id, { thumbnail: true });
      expect([thumbnail.statusCode, thumbnail.headers['content-type']]).toEqual([200, 'image/webp']);

      const before = await everythingStored();
      const damaged = await postFile(t.app, alice, room.id, { name: 'cut-off.jpg', data: photo.subarray(0, 600) });
      expect(damaged.statusCode).toBe(400);
      expect(damaged.json().error.message).toMatch(/could not be read, so its metadata \(such as where it was taken\) could not be removed/);
      expect(await everythingStored()).toEqual(before);
    });

    it('keeps an unreadable image as it came when its metadata is kept, served as a plain download', async () => {
      const cut = (await jpegWithExifMarker('marker-kept')).subarray(0, 600);
      const file = await uploadFile(t.app, alice, room.id, { name: 'cut-off.jpg', data: cut, keepMetadata: true });
      expect(file).toEqual({ id: file.id, name: 'cut-off.jpg', size: cut.length, mime: 'application/octet-stream' });
      const answer = await downloadFile(t.app, alice, file.id);
      expect([answer.headers['content-type'], answer.headers['content-disposition']?.split(';')[0]]).toEqual(['application/octet-stream', 'attachment']);
      expect(answer.rawPayload.equals(cut)).toBe(true);
      expect((await downloadFile(t.app, alice, file.id, { thumbnail: true })).statusCode).toBe(404);
    });
  });
});
