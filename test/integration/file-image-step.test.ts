/**
 * Raster images go through the image step (images.ts; here a stand-in whose output is
 * recognisable) on both databases and both storages: what it makes is stored and served,
 * not the upload; its thumbnail is a second blob served like the file; keepMetadata reaches
 * it; an image it cannot read is refused, so no metadata is kept by accident.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrepareImage } from '../../src/server/files/files.service.js';
import { apiClient, signUp, startTestApp, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { downloadFile, postFile, randomFile, TINY_PNG, uploadFile } from '../support/files.js';

const STORAGES = ['local', 'database'] as const;

describe.each(DIALECTS)('images through the image step, on %s', (dialect) => {
  describe.each(STORAGES)('in the %s storage', (storage) => {
    let t: TestApp;
    let alice: Session;
    let bob: Session;
    let roomId: string;
    const calls: Array<{ mime: string; keepMetadata: boolean; bytes: number }> = [];
    // A stand-in for images.ts: what it returns is what must be stored and served.
    const prepareImage: PrepareImage = async (input, mime, options) => {
      calls.push({ mime, keepMetadata: options.keepMetadata, bytes: input.length });
      if (input.includes('damaged')) throw new Error('unreadable image');
      return { bytes: Buffer.from(`stripped ${mime}`), mime: 'image/webp', width: 640, height: 480, thumbnail: { bytes: randomFile(70_000), mime: 'image/webp', width: 360, height: 270 } };
    };
    beforeAll(async () => {
      t = await startTestApp(dialect, { FILE_STORAGE: storage }, { prepareImage });
      [alice, bob] = [await signUp(t.app), await signUp(t.app)];
      roomId = (await apiClient(() => t.app).createRoom(alice)).id;
    });
    afterAll(() => t?.close());

    it('stores what the image step made, not the upload, with its dimensions and a thumbnail to whoever may see the file', async () => {
      const upload = await postFile(t.app, alice, roomId, { name: 'holiday.png', data: TINY_PNG, keepMetadata: true });
      expect(upload.statusCode, upload.body).toBe(201);
      const { file } = upload.json();
      expect(file).toEqual({ id: expect.any(String), name: 'holiday.png', size: 'stripped image/png'.length, mime: 'image/webp', width: 640, height: 480 });
      expect(calls.at(-1)).toEqual({ mime: 'image/png', keepMetadata: true, bytes: TINY_PNG.length });
      const whole = await downloadFile(t.app, alice, file.id);
      expect([whole.headers['content-type'], whole.headers['content-disposition']?.split(';')[0], whole.body]).toEqual(['image/webp', 'inline', 'stripped image/png']);
      const thumbnail = await downloadFile(t.app, alice, file.id, { thumbnail: true });
      expect([thumbnail.statusCode, thumbnail.headers['content-type'], thumbnail.headers['content-length']]).toEqual([200, 'image/webp', '70000']);
      expect(thumbnail.headers['x-content-type-options']).toBe('nosniff');
      const row = await t.database.db.selectFrom('files').select(['thumbnail_chunks', 'meta_ciphertext', 'meta_key_id']).where('id', '=', file.id).executeTakeFirstOrThrow();
      expect(row.thumbnail_chunks).toBe(2);
      expect(JSON.parse(t.keyring.decrypt(row.meta_ciphertext, row.meta_key_id))).toEqual({
        name: 'holiday.png',
        mime: 'image/webp',
        width: 640,
        height: 480,
        thumbnail: { width: 360, height: 270, mime: 'image/webp', size: 70_000 },
      });
      const range = await downloadFile(t.app, alice, file.id, { thumbnail: true, range: 'bytes=65530-65539' });
      expect([range.statusCode, range.headers['content-range'], range.rawPayload.length]).toEqual([206, 'bytes 65530-65539/70000', 10]);
      // Before a message names it, the thumbnail is as hidden as the file.
      const unknown = await downloadFile(t.app, bob, randomUUID(), { thumbnail: true });
      const hidden = await downloadFile(t.app, bob, file.id, { thumbnail: true });
      expect([hidden.statusCode, hidden.body]).toEqual([404, unknown.body]);
    });

    it('strips by default, and refuses an image the step cannot read rather than keep its metadata', async () => {
      await uploadFile(t.app, alice, roomId, { name: 'plain.png', data: TINY_PNG });
      expect(calls.at(-1)?.keepMetadata).toBe(false);
      const before = await t.database.db.selectFrom('files').select('id').execute();
      const damaged = Buffer.concat([TINY_PNG, Buffer.from('damaged')]);
      const answer = await postFile(t.app, alice, roomId, { name: 'broken.png', data: damaged });
      expect([answer.statusCode, answer.json().error.code]).toEqual([400, 'validation_failed']);
      expect(await t.database.db.selectFrom('files').select('id').execute()).toEqual(before);
      // Not an image: the step is not asked.
      const count = calls.length;
      await uploadFile(t.app, alice, roomId, { name: 'notes.txt', data: Buffer.from('notes') });
      expect(calls).toHaveLength(count);
    });
  });
});
