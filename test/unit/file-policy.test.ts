/**
 * The pure parts of files: names as they are kept, the type from the bytes and how each
 * type is served, Content-Disposition, and which Range headers mean which bytes.
 */
import { describe, expect, it } from 'vitest';
import { contentDisposition, sanitiseFileName } from '../../src/server/files/file-names.js';
import { detectType, servingOf } from '../../src/server/files/file-types.js';
import { parseRange } from '../../src/server/files/files.routes.js';
import { TINY_PNG } from '../support/files.js';

describe('file names', () => {
  it('keeps the last path segment of either separator', () => {
    expect(sanitiseFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitiseFileName('C:\\Users\\a\\b.txt')).toBe('b.txt');
    expect(sanitiseFileName('folder/')).toBe('file');
  });

  it('removes control characters (C0, DEL, C1), bidi controls and invisible format characters, then composes (NFC)', () => {
    expect(sanitiseFileName('a\u0000b\u001fc\u007fd\u0085e\u009f.txt')).toBe('abcde.txt');
    for (const mark of ['\u061c', '\u200b', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\ufeff']) {
      expect(sanitiseFileName(`x${mark}y.pdf`), JSON.stringify(mark)).toBe('xy.pdf');
    }
    expect(sanitiseFileName('cafe\u0301.txt')).toBe('café.txt');
    expect(sanitiseFileName('cafe\u0301.txt')).toHaveLength(8);
  });

  it('trims dots and spaces at both ends, and names the empty name "file"', () => {
    expect(sanitiseFileName(' . report.txt .. ')).toBe('report.txt');
    expect(sanitiseFileName('..')).toBe('file');
    expect(sanitiseFileName('\u202e')).toBe('file');
    expect(sanitiseFileName('')).toBe('file');
  });

  it('shortens a long name to the limit, keeping the extension and never half a surrogate pair', () => {
    const long = sanitiseFileName(`${'a'.repeat(300)}.tar`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('a.tar')).toBe(true);
    const emoji = sanitiseFileName(`a${'😀'.repeat(150)}.png`);
    expect(emoji.length).toBeLessThanOrEqual(200);
    expect(emoji.endsWith('😀.png')).toBe(true);
    expect(emoji.isWellFormed()).toBe(true);
    expect(sanitiseFileName('x'.repeat(250))).toHaveLength(200);
  });

  it('gives Content-Disposition an ASCII fallback and the exact name percent-encoded (RFC 8187)', () => {
    expect(contentDisposition('attachment', 'a "quoted" \\ name%.txt')).toBe(
      `attachment; filename="a _quoted_ _ name_.txt"; filename*=UTF-8''a%20%22quoted%22%20%5C%20name%25.txt`,
    );
    expect(contentDisposition('inline', "it's (1).png")).toBe(`inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`);
  });
});

describe('file types', () => {
  const text = (s: string) => detectType(Buffer.from(s));

  it('comes from the bytes: a PNG is a PNG, plain UTF-8 is text, NUL or invalid UTF-8 is unknown', async () => {
    expect(await detectType(TINY_PNG)).toBe('image/png');
    expect(await text('just some notes, ünïcödé too\n')).toBe('text/plain');
    expect(await detectType(Buffer.from([0x68, 0x69, 0x00, 0x21]))).toBe('application/octet-stream');
    expect(await detectType(Buffer.from([0x68, 0xff, 0xfe, 0x21]))).toBe('application/octet-stream');
    // A character cut in half at the end of the sample is still text.
    expect(await detectType(Buffer.from('abc é', 'utf8').subarray(0, 5))).toBe('text/plain');
    expect(await detectType(Buffer.alloc(0))).toBe('text/plain');
  });

  it('calls markup a browser would render as a page HTML, XML or SVG, not text', async () => {
    expect(await text('<!DOCTYPE html><p>hi')).toBe('text/html');
    expect(await text('\ufeff  <html><body>')).toBe('text/html');
    expect(await text('<script>alert(1)</script>')).toBe('text/html');
    expect(await text('<svg xmlns="http://www.w3.org/2000/svg"/>')).toBe('image/svg+xml');
    expect(await text('<!-- drawn --><svg>')).toBe('image/svg+xml');
    expect(['application/xml', 'image/svg+xml']).toContain(await text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'));
    expect(await text('a < b and c > d')).toBe('text/plain');
  });

  it('shows raster images inline, keeps passive types on download, and serves everything active as application/octet-stream', () => {
    for (const mime of ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']) expect(servingOf(mime)).toEqual({ contentType: mime, inline: true });
    expect(servingOf('text/plain')).toEqual({ contentType: 'text/plain; charset=utf-8', inline: false });
    expect(servingOf('application/zip')).toEqual({ contentType: 'application/zip', inline: false });
    for (const mime of ['text/html', 'image/svg+xml', 'application/xml', 'text/xml', 'application/javascript', 'application/pdf', 'image/bmp', 'application/x-made-up']) {
      expect(servingOf(mime), mime).toEqual({ contentType: 'application/octet-stream', inline: false });
    }
  });
});

describe('Range headers', () => {
  it('reads one range of each form, clamped to the file', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
  });

  it('is unsatisfiable past the end, and ignores what it may ignore (several ranges, other units, nonsense)', () => {
    for (const header of ['bytes=1000-', 'bytes=1000-2000', 'bytes=-0', 'bytes=99999999999999999999-']) expect(parseRange(header, 1000), header).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    for (const header of [undefined, '', 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-2', 'bytes=-', 'bytes=a-b', 'bytes= 1-2']) expect(parseRange(header, 1000), header).toBeUndefined();
  });
});
