import { describe, expect, it } from 'vitest';
import { attachmentsOf, fileIcon, fileUrl, formatBytes, isImage, thumbnailBox, thumbnailUrl, THUMBNAIL_BOX } from '../../src/client/attachments.js';
import { addPending, EMPTY_TIMELINE, markFailed, markSending } from '../../src/client/core/timeline.js';
import { admit, progressPercent, sendState, trayReducer, type TrayAction, type TrayItem } from '../../src/client/core/upload-tray.js';
import { FILE_LIMITS, type FileInfo } from '../../src/shared/file-shapes.js';
import type { Message } from '../../src/shared/protocol.js';

const stored = (id: string, extra: Partial<FileInfo> = {}): FileInfo => ({ id, name: `${id}.txt`, size: 10, mime: 'text/plain', ...extra });
const run = (...actions: TrayAction[]) => actions.reduce<readonly TrayItem[]>(trayReducer, []);
const add = (key: string, size = 1000, localType = 'text/plain'): TrayAction => ({ type: 'add', key, name: `${key}.bin`, size, localType });

describe('formatBytes', () => {
  it('counts bytes below a KiB, then binary units with one decimal under ten', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(23 * 1024 + 300)).toBe('23 KB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25 MB');
    expect(formatBytes(4.25 * 1024 * 1024)).toBe('4.3 MB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GB');
  });

  it('says "1 MB" rather than "1024 KB" just under a MiB, and survives nonsense', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MB');
    expect(formatBytes(-5)).toBe('0 B');
    expect(formatBytes(Number.NaN)).toBe('0 B');
  });
});

describe('thumbnailBox', () => {
  it('shrinks a large image into the box, keeping its proportions', () => {
    expect(thumbnailBox(4000, 3000)).toEqual({ width: 320, height: 240 });
    expect(thumbnailBox(1000, 4000)).toEqual({ width: 60, height: 240 });
    expect(thumbnailBox(3000, 1000)).toEqual({ width: 320, height: 107 });
  });

  it('never enlarges a small image', () => {
    expect(thumbnailBox(40, 30)).toEqual({ width: 40, height: 30 });
  });

  it('keeps a side of at least one pixel for a very thin image', () => {
    expect(thumbnailBox(10_000, 1)).toEqual({ width: 320, height: 1 });
  });

  it('falls back to the whole box when the dimensions are unusable', () => {
    expect(thumbnailBox(0, 100)).toEqual({ ...THUMBNAIL_BOX });
    expect(thumbnailBox(100, Number.NaN)).toEqual({ ...THUMBNAIL_BOX });
  });

  it('fits another box when given one', () => {
    expect(thumbnailBox(800, 600, { width: 100, height: 100 })).toEqual({ width: 100, height: 75 });
  });
});

describe('files in the timeline', () => {
  it('reads a message without attachments (an older server) as having none', () => {
    expect(attachmentsOf({ body: 'hi' } as Message)).toEqual([]);
    const file = stored('f1');
    expect(attachmentsOf({ body: '', attachments: [file] } as unknown as Message)).toEqual([file]);
  });

  it('treats a file with dimensions as an image with a thumbnail', () => {
    expect(isImage(stored('a', { mime: 'image/png', width: 10, height: 20 }))).toBe(true);
    expect(isImage(stored('b', { mime: 'image/svg+xml' }))).toBe(false);
  });

  it('picks the card icon by detected type, then by a plain-text name', () => {
    expect(fileIcon({ mime: 'image/png', name: 'a.png' })).toBe('image');
    expect(fileIcon({ mime: 'video/mp4', name: 'a.mp4' })).toBe('film');
    expect(fileIcon({ mime: 'audio/mpeg', name: 'a.mp3' })).toBe('music');
    expect(fileIcon({ mime: 'application/zip', name: 'a.zip' })).toBe('archive');
    expect(fileIcon({ mime: 'application/pdf', name: 'a.pdf' })).toBe('fileText');
    expect(fileIcon({ mime: 'application/octet-stream', name: 'server.LOG' })).toBe('fileText');
    expect(fileIcon({ mime: 'application/octet-stream', name: 'blob.bin' })).toBe('file');
  });

  it('builds the download and thumbnail paths with the id escaped', () => {
    expect(fileUrl('abc')).toBe('/api/v1/files/abc');
    expect(thumbnailUrl('a/b')).toBe('/api/v1/files/a%2Fb/thumbnail');
  });

  it('keeps a pending message\'s files through a failure and a retry', () => {
    const files = [stored('f1'), stored('f2')];
    const pending = addPending(EMPTY_TIMELINE, 'c1', '', files);
    expect(pending.pending[0]).toEqual({ clientId: 'c1', body: '', status: 'sending', attachments: files });
    const failed = markFailed(pending, 'c1', 'Refused.');
    expect(failed.pending[0]).toEqual({ clientId: 'c1', body: '', status: 'failed', error: 'Refused.', attachments: files });
    expect(markSending(failed, 'c1').pending[0]).toEqual({ clientId: 'c1', body: '', status: 'sending', attachments: files });
    expect(addPending(EMPTY_TIMELINE, 'c2', 'text').pending[0]).not.toHaveProperty('attachments');
  });
});

describe('the upload tray', () => {
  it('starts an added file uploading at 0 and follows its progress, never backwards or past its size', () => {
    let items = run(add('a'));
    expect(items).toEqual([{ key: 'a', name: 'a.bin', size: 1000, localType: 'text/plain', loaded: 0, status: 'uploading', keepMetadata: false }]);
    items = trayReducer(items, { type: 'progress', key: 'a', loaded: 400 });
    expect(progressPercent(items[0]!)).toBe(40);
    items = trayReducer(items, { type: 'progress', key: 'a', loaded: 300 });
    expect(items[0]!.loaded).toBe(400);
    items = trayReducer(items, { type: 'progress', key: 'a', loaded: 5000 });
    expect(items[0]!.loaded).toBe(1000);
  });

  it('holds the stored file once done, and the server\'s message once failed', () => {
    const done = run(add('a'), { type: 'done', key: 'a', file: stored('f1') });
    expect(done[0]).toMatchObject({ status: 'done', file: stored('f1') });
    expect(progressPercent(done[0]!)).toBe(100);
    const failed = run(add('a'), { type: 'progress', key: 'a', loaded: 10 }, { type: 'failed', key: 'a', error: 'Files can be at most 1 MB.' });
    expect(failed[0]).toMatchObject({ status: 'failed', error: 'Files can be at most 1 MB.' });
    expect(failed[0]!.file).toBeUndefined();
  });

  it('starts a retry from zero with the error gone, and remembers the metadata choice', () => {
    const retried = run(add('a'), { type: 'failed', key: 'a', error: 'x' }, { type: 'restart', key: 'a', keepMetadata: true });
    expect(retried[0]).toMatchObject({ status: 'uploading', loaded: 0, keepMetadata: true });
    expect(retried[0]!.error).toBeUndefined();
  });

  it('removes one item, clears them all, and leaves the value alone for an unknown key', () => {
    const two = run(add('a'), add('b'));
    expect(trayReducer(two, { type: 'remove', key: 'a' }).map((item) => item.key)).toEqual(['b']);
    expect(trayReducer(two, { type: 'clear' })).toEqual([]);
    expect(trayReducer(two, { type: 'progress', key: 'nope', loaded: 3 })).toBe(two);
  });

  it('reports 0% for an empty file still going', () => {
    expect(progressPercent({ loaded: 0, size: 0, status: 'uploading' })).toBe(0);
  });

  it('admits files up to the per-message limit and counts the rest', () => {
    const max = FILE_LIMITS.attachmentsPerMessageMax;
    expect(admit(0, ['a', 'b'])).toEqual({ admitted: ['a', 'b'], refused: 0 });
    expect(admit(max - 1, ['a', 'b', 'c'])).toEqual({ admitted: ['a'], refused: 2 });
    expect(admit(max, ['a'])).toEqual({ admitted: [], refused: 1 });
  });
});

describe('when Send may go', () => {
  it('sends text alone, files alone, or both, with the stored files in order', () => {
    expect(sendState([], 5, false)).toEqual({ canSend: true, files: [] });
    expect(sendState([], 0, false).canSend).toBe(false);
    const items = run(add('a'), add('b'), { type: 'done', key: 'b', file: stored('f2') }, { type: 'done', key: 'a', file: stored('f1') });
    expect(sendState(items, 0, false)).toEqual({ canSend: true, files: [stored('f1'), stored('f2')] });
  });

  it('waits while an upload is in flight, and says why', () => {
    const state = sendState(run(add('a'), add('b'), { type: 'done', key: 'a', file: stored('f1') }), 5, false);
    expect(state.canSend).toBe(false);
    expect(state.reason).toMatch(/upload/);
  });

  it('waits for a failed upload to be retried or removed', () => {
    const state = sendState(run(add('a'), { type: 'failed', key: 'a', error: 'Too big.' }), 5, false);
    expect(state).toMatchObject({ canSend: false, reason: 'Retry or remove the file that failed.' });
  });

  it('refuses text over the limit even with files ready', () => {
    expect(sendState(run(add('a'), { type: 'done', key: 'a', file: stored('f1') }), 5000, true).canSend).toBe(false);
  });
});
