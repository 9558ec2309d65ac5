/**
 * Attachments over HTTP on both databases and both storages: upload and download by the
 * uploader; nobody else before a message names the file (404, the very answer an unknown id
 * gets), the room's current members after; 401 signed out; FILE_MAX_MB and FILE_QUOTA_MB
 * answered 413 with nothing kept; the type from the bytes (an HTML page called x.png, an
 * SVG: downloads as application/octet-stream); sanitised names; Range reads; the sweep and
 * the purge of released files.
 */
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentFileRow } from '../../src/server/files/file-view.js';
import type { Room } from '../../src/shared/protocol.js';
import { apiClient, as, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { downloadFile, postFile, randomFile, TINY_PNG, uploadFile } from '../support/files.js';

const STORAGES = ['local', 'database'] as const;
const MIB = 1024 * 1024;

async function filesUnder(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

describe.each(DIALECTS)('files on %s', (dialect) => {
  describe.each(STORAGES)('in the %s storage', (storage) => {
    const folder = path.join(os.tmpdir(), `securechat-files-test-${randomUUID()}`);
    const t = useTestApp(dialect, { FILE_STORAGE: storage, FILES_DIR: folder, FILE_MAX_MB: '1', FILE_QUOTA_MB: '2' });
    const api = apiClient(() => t.app);
    let alice: Session;
    let bob: Session;
    let stranger: Session;
    let room: Room;
    beforeAll(async () => {
      [alice, bob, stranger] = [await signUp(t.app), await signUp(t.app), await signUp(t.app)];
      room = await api.createRoom(alice, { isPrivate: true });
      await api.invite(alice, room.id, bob);
    });
    afterAll(() => rm(folder, { recursive: true, force: true }));

    /** Every file row and every blob (data folder files or file_chunks rows), to show a refusal kept nothing. */
    async function everythingStored() {
      const rows = await t.database.db.selectFrom('files').select(['id', 'state']).execute();
      const chunks = await t.database.db.selectFrom('file_chunks').select('blob_id').execute();
      return { rows: rows.length, blobs: [...(await filesUnder(folder)), ...chunks.map((c) => c.blob_id)].sort() };
    }

    it('stores an upload and gives its uploader the same bytes back, with the headers of a safe download', async () => {
      const data = Buffer.from(`minutes of the meeting ${randomUUID()}\n`.repeat(200));
      const upload = await postFile(t.app, alice, room.id, { name: 'minutes.txt', data, contentType: 'application/x-made-up' });
      expect(upload.statusCode, upload.body).toBe(201);
      const { file } = upload.json();
      expect(file).toEqual({ id: expect.any(String), name: 'minutes.txt', size: data.length, mime: 'text/plain' });
      const answer = await downloadFile(t.app, alice, file.id);
      expect(answer.statusCode).toBe(200);
      expect(answer.rawPayload.equals(data)).toBe(true);
      expect(answer.headers).toMatchObject({
        'content-type': 'text/plain; charset=utf-8',
        'content-disposition': `attachment; filename="minutes.txt"; filename*=UTF-8''minutes.txt`,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "sandbox; default-src 'none'",
        'cache-control': 'no-store',
        'accept-ranges': 'bytes',
        'content-length': String(data.length),
      });
      const head = await downloadFile(t.app, alice, file.id, { method: 'HEAD' });
      expect([head.statusCode, head.headers['content-length'], head.body]).toEqual([200, String(data.length), '']);
    });

    it('round-trips a binary file of several chunks, stored as ciphertext only', async () => {
      const data = randomFile(300 * 1024 + 17);
      const file = await uploadFile(t.app, alice, room.id, { name: 'blob.bin', data });
      expect(file.mime).toBe('application/octet-stream');
      expect((await downloadFile(t.app, alice, file.id)).rawPayload.equals(data)).toBe(true);
      const row = await t.database.db.selectFrom('files').selectAll().where('id', '=', file.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'stored', storage, size: data.length, chunk_count: 5, chunk_size: 64 * 1024, content_key_id: t.keyring.primaryKeyId, message_seq: null });
      expect(row.meta_ciphertext).not.toContain('blob.bin');
      expect(presentFileRow(row, t.keyring)).toEqual(file);
    });

    it('stores and serves an empty file', async () => {
      const file = await uploadFile(t.app, alice, room.id, { name: 'empty.txt', data: Buffer.alloc(0) });
      expect([file.size, file.mime]).toEqual([0, 'text/plain']);
      const answer = await downloadFile(t.app, alice, file.id);
      expect([answer.statusCode, answer.headers['content-length'], answer.rawPayload.length]).toEqual([200, '0', 0]);
      expect((await downloadFile(t.app, alice, file.id, { range: 'bytes=0-' })).statusCode).toBe(416);
    });

    it('shows a raster image inline', async () => {
      // Metadata kept, so the image step stores the bytes as sent and they compare equal.
      const file = await uploadFile(t.app, alice, room.id, { name: 'dot.png', data: TINY_PNG, contentType: 'text/html', keepMetadata: true });
      expect(file.mime).toBe('image/png');
      const answer = await downloadFile(t.app, alice, file.id);
      expect(answer.headers['content-type']).toBe('image/png');
      expect(answer.headers['content-disposition']).toMatch(/^inline; /);
      expect(answer.rawPayload.equals(TINY_PNG)).toBe(true);
    });

    it('serves an HTML page called x.png and claimed image/png as an application/octet-stream attachment', async () => {
      const page = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');
      const file = await uploadFile(t.app, alice, room.id, { name: 'x.png', data: page, contentType: 'image/png' });
      expect(file.mime).toBe('text/html');
      const answer = await downloadFile(t.app, alice, file.id);
      expect(answer.headers['content-type']).toBe('application/octet-stream');
      expect(answer.headers['content-disposition']).toBe(`attachment; filename="x.png"; filename*=UTF-8''x.png`);
      expect(answer.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
    });

    it('serves an SVG as a download, never as an image a browser would run scripts in', async () => {
      const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      const file = await uploadFile(t.app, alice, room.id, { name: 'logo.svg', data: svg, contentType: 'image/svg+xml' });
      expect(['image/svg+xml', 'application/xml']).toContain(file.mime);
      const answer = await downloadFile(t.app, alice, file.id);
      expect(answer.headers['content-type']).toBe('application/octet-stream');
      expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="logo.svg"/);
      const bare = await uploadFile(t.app, alice, room.id, { name: 'icon.svg', data: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
      expect(bare.mime).toBe('image/svg+xml');
      expect((await downloadFile(t.app, alice, bare.id)).headers['content-type']).toBe('application/octet-stream');
    });

    it('keeps only a bare, visible name: no folders, control characters or direction overrides', async () => {
      const names: Array<[string, string]> = [
        ['../../etc/passwd', 'passwd'],
        ['C:\\Users\\alice\\report.txt', 'report.txt'],
        ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
        ['a\u0001b\u007fc\u200Bd\u2066.txt', 'abcd.txt'],
        ['...', 'file'],
        ['  .hidden  ', 'hidden'],
      ];
      for (const [sent, kept] of names) {
        const file = await uploadFile(t.app, alice, room.id, { name: sent, data: Buffer.from('x') });
        expect(file.name, JSON.stringify(sent)).toBe(kept);
      }
      const accented = await uploadFile(t.app, alice, room.id, { name: 'Café – résumé.txt', data: Buffer.from('x') });
      expect((await downloadFile(t.app, alice, accented.id)).headers['content-disposition']).toBe(
        `attachment; filename="Caf_ _ r_sum_.txt"; filename*=UTF-8''Caf%C3%A9%20%E2%80%93%20r%C3%A9sum%C3%A9.txt`,
      );
    });

    it('hides a file nobody has attached from everyone but its uploader: the same 404 as an unknown id', async () => {
      const file = await uploadFile(t.app, alice, room.id, { name: 'draft.txt', data: Buffer.from('not yet sent') });
      const unknown = await downloadFile(t.app, bob, randomUUID());
      expect(unknown.statusCode).toBe(404);
      for (const [who, session] of [['another member', bob], ['a non-member', stranger]] as const) {
        for (const thumbnail of [false, true]) {
          const answer = await downloadFile(t.app, session, file.id, { thumbnail });
          expect([answer.statusCode, answer.body], `${who}${thumbnail ? ' (thumbnail)' : ''}`).toEqual([404, unknown.body]);
        }
      }
      expect(unknown.json()).toEqual({ error: { code: 'not_found', message: 'That file was not found.' } });
      // Its uploader has no thumbnail of a text file either.
      expect((await downloadFile(t.app, alice, file.id, { thumbnail: true })).statusCode).toBe(404);
    });

    it('shows an attached file to the room’s current members only: not to a non-member, nor to a member once removed', async () => {
      const carol = await signUp(t.app);
      await api.invite(alice, room.id, carol);
      const data = Buffer.from('the attached report');
      const file = await uploadFile(t.app, alice, room.id, { name: 'report.txt', data });
      const message = await api.send(alice, room.id, 'here it is');
      await t.database.db.updateTable('files').set({ message_seq: message.seq }).where('id', '=', file.id).execute();
      for (const session of [alice, bob, carol]) expect((await downloadFile(t.app, session, file.id)).rawPayload.equals(data)).toBe(true);
      const unknown = await downloadFile(t.app, stranger, randomUUID());
      expect([(await downloadFile(t.app, stranger, file.id)).statusCode, (await downloadFile(t.app, stranger, file.id)).body]).toEqual([404, unknown.body]);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/members/${carol.user.id}/remove`, headers: as(alice) })).statusCode).toBe(204);
      const removed = await downloadFile(t.app, carol, file.id);
      expect([removed.statusCode, removed.body]).toEqual([404, unknown.body]);
    });

    it('asks a signed-out caller to sign in, and refuses an upload without the CSRF token', async () => {
      const file = await uploadFile(t.app, alice, room.id, { name: 'a.txt', data: Buffer.from('a') });
      for (const answer of [
        await downloadFile(t.app, null, file.id),
        await downloadFile(t.app, null, file.id, { thumbnail: true }),
        await postFile(t.app, null, room.id, { name: 'b.txt', data: Buffer.from('b') }),
      ]) {
        expect([answer.statusCode, answer.json().error.code]).toEqual([401, 'auth_required']);
      }
      const noCsrf = await postFile(t.app, { ...alice, csrfToken: 'wrong' }, room.id, { name: 'b.txt', data: Buffer.from('b') });
      expect([noCsrf.statusCode, noCsrf.json().error.code]).toEqual([403, 'csrf_failed']);
    });

    it('takes uploads from members only, and only as multipart', async () => {
      const before = await everythingStored();
      const outsider = await postFile(t.app, stranger, room.id, { name: 'a.txt', data: Buffer.from('a') });
      const nowhere = await postFile(t.app, stranger, randomUUID(), { name: 'a.txt', data: Buffer.from('a') });
      expect([outsider.statusCode, outsider.body]).toEqual([404, nowhere.body]);
      const json = await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/files`, headers: as(alice), payload: { file: 'a' } });
      expect([json.statusCode, json.json().error.code]).toEqual([415, 'unsupported_media_type']);
      expect(await everythingStored()).toEqual(before);
    });

    it('refuses a file over FILE_MAX_MB with 413 and keeps nothing of it, whether its length was declared or only found out', async () => {
      const dave = await signUp(t.app);
      const own = await api.createRoom(dave);
      const before = await everythingStored();
      for (const size of [3 * MIB, MIB + 1000]) {
        const answer = await postFile(t.app, dave, own.id, { name: 'big.bin', data: randomFile(size) });
        expect(answer.statusCode, `${size} bytes`).toBe(413);
        expect(answer.json().error).toEqual({ code: 'file_too_large', message: 'The file is too large: the limit is 1 MiB.', field: 'file' });
        expect(await everythingStored()).toEqual(before);
      }
      // Exactly the limit is fine.
      expect((await postFile(t.app, dave, own.id, { name: 'max.bin', data: randomFile(MIB) })).statusCode).toBe(201);
    });

    it('refuses a file past the uploader’s FILE_QUOTA_MB with 413 quota_exceeded, keeping the files before it', async () => {
      const erin = await signUp(t.app);
      const own = await api.createRoom(erin);
      const first = await uploadFile(t.app, erin, own.id, { name: 'one.bin', data: randomFile(0.9 * MIB) });
      await uploadFile(t.app, erin, own.id, { name: 'two.bin', data: randomFile(0.9 * MIB) });
      const before = await everythingStored();
      const second = await postFile(t.app, erin, own.id, { name: 'three.bin', data: randomFile(0.6 * MIB) });
      expect(second.statusCode).toBe(413);
      expect(second.json().error.code).toBe('quota_exceeded');
      expect(second.json().error.message).toMatch(/quota of 2 MiB \(your files take 1\.8 MiB already\)/);
      expect(await everythingStored()).toEqual(before);
      expect((await downloadFile(t.app, erin, first.id)).statusCode).toBe(200);
      // Another user's quota is their own.
      expect((await postFile(t.app, alice, room.id, { name: 'mine.bin', data: randomFile(0.6 * MIB) })).statusCode).toBe(201);
    });

    it('answers Range reads: from the start, across a chunk boundary, a suffix, open-ended, and 416 past the end', async () => {
      const data = randomFile(200 * 1024);
      const file = await uploadFile(t.app, alice, room.id, { name: 'range.bin', data });
      const size = data.length;
      for (const [range, start, end] of [
        ['bytes=0-99', 0, 99],
        ['bytes=65500-65600', 65500, 65600],
        ['bytes=131000-200000', 131000, 200000],
        ['bytes=-100', size - 100, size - 1],
        ['bytes=200000-', 200000, size - 1],
        ['bytes=100-999999999', 100, size - 1],
      ] as const) {
        const answer = await downloadFile(t.app, alice, file.id, { range });
        expect(answer.statusCode, range).toBe(206);
        expect(answer.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
        expect(answer.headers['content-length'], range).toBe(String(end - start + 1));
        expect(answer.rawPayload.equals(data.subarray(start, end + 1)), range).toBe(true);
      }
      for (const range of [`bytes=${size}-`, 'bytes=999999-1000000', 'bytes=-0']) {
        const answer = await downloadFile(t.app, alice, file.id, { range });
        expect([answer.statusCode, answer.headers['content-range'], answer.json().error.code], range).toEqual([416, `bytes */${size}`, 'range_not_satisfiable']);
      }
      // Several ranges, another unit, a malformed one: the whole file.
      for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-3']) {
        const answer = await downloadFile(t.app, alice, file.id, { range });
        expect([answer.statusCode, answer.rawPayload.equals(data)], range).toEqual([200, true]);
      }
    });

    it('deletes a deleted room’s files, rows and bytes, thumbnails too', async () => {
      const doomed = await api.createRoom(alice, { isPrivate: true });
      const before = await everythingStored();
      const photo = await uploadFile(t.app, alice, doomed.id, { name: 'dot.png', data: TINY_PNG });
      await uploadFile(t.app, alice, doomed.id, { name: 'notes.txt', data: Buffer.from('to be deleted with the room') });
      expect((await everythingStored()).rows).toBe(before.rows + 2);
      expect((await everythingStored()).blobs).toContain(`${photo.id}.thumb`);
      const deleted = await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${doomed.id}`, headers: as(alice) });
      expect(deleted.statusCode).toBe(204);
      await expect.poll(everythingStored).toEqual(before);
      expect((await downloadFile(t.app, alice, photo.id)).statusCode).toBe(404);
    });

    it('sweeps uploads never attached after a day, and purges released files, bytes first', async () => {
      const fresh = await uploadFile(t.app, alice, room.id, { name: 'fresh.txt', data: Buffer.from('fresh') });
      const stale = await uploadFile(t.app, alice, room.id, { name: 'stale.txt', data: Buffer.from('stale') });
      const attached = await uploadFile(t.app, alice, room.id, { name: 'kept.txt', data: Buffer.from('kept') });
      const released = await uploadFile(t.app, alice, room.id, { name: 'gone.txt', data: Buffer.from('gone') });
      const dayAgo = t.clock.now() - 25 * 60 * 60 * 1000;
      const db = t.database.db;
      await db.updateTable('files').set({ created_at: dayAgo }).where('id', 'in', [stale.id, attached.id]).execute();
      await db.updateTable('files').set({ message_seq: 1 }).where('id', '=', attached.id).execute();
      await db.updateTable('files').set({ state: 'released' }).where('id', '=', released.id).execute();
      const blobsBefore = (await everythingStored()).blobs.length;
      expect(await t.services.files.sweep(t.clock.now())).toBe(2);
      const left = await db.selectFrom('files').select('id').where('id', 'in', [fresh.id, stale.id, attached.id, released.id]).execute();
      expect(left.map((r) => r.id).sort()).toEqual([fresh.id, attached.id].sort());
      expect((await everythingStored()).blobs.length).toBe(blobsBefore - 2);
      expect((await downloadFile(t.app, alice, stale.id)).statusCode).toBe(404);
      expect(await t.services.files.purgeReleased()).toBe(0);
    });
  });
});
