/**
 * The built client as the server sends it (run `npm run build:client` first; `npm test`
 * does): hashed files under /assets/ in the precompressed form the request accepts and
 * cached for good, the plain file without Accept-Encoding, and index.html — also as the
 * page of the client's own routes — revalidated every time, under the same CSP.
 * Not storage-related: one database is enough.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';

const CLIENT_DIR = path.resolve('dist/client');
const IMMUTABLE = 'public, max-age=31536000, immutable';

function builtScript(): string {
  const name = readdirSync(path.join(CLIENT_DIR, 'assets')).find((file) => /^[\w-]+-[\w-]{8}\.js$/.test(file));
  if (!name) throw new Error(`no hashed script in ${CLIENT_DIR}/assets: run npm run build:client`);
  return name;
}

describe('the built client', () => {
  const t = useTestApp('sqlite');
  const script = builtScript();
  const plain = readFileSync(path.join(CLIENT_DIR, 'assets', script));

  it('sends a hashed script brotli-compressed to a browser that accepts br, cached as immutable', async () => {
    const response = await t.app.inject({ url: `/assets/${script}`, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['content-type']).toMatch(/^text\/javascript|^application\/javascript/);
    expect(response.headers['cache-control']).toBe(IMMUTABLE);
    expect(response.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(response.rawPayload).equals(plain)).toBe(true);
    expect(response.rawPayload.length).toBeLessThan(plain.length / 2);
  });

  it('sends gzip to a client that accepts only gzip', async () => {
    const response = await t.app.inject({ url: `/assets/${script}`, headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['cache-control']).toBe(IMMUTABLE);
    expect(gunzipSync(response.rawPayload).equals(plain)).toBe(true);
  });

  it('sends the plain file when the request names no encoding', async () => {
    const response = await t.app.inject({ url: `/assets/${script}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['cache-control']).toBe(IMMUTABLE);
    expect(response.rawPayload.equals(plain)).toBe(true);
  });

  it('does not serve the compressed siblings under their own names', async () => {
    const response = await t.app.inject({ url: `/assets/${script}.br`, headers: { accept: 'text/html' } });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.rawPayload.equals(plain)).toBe(false);
  });

  it.each(['/index.html', '/chat', '/chat/some-room'])('answers %s with index.html, revalidated each time, under the CSP', async (url) => {
    const response = await t.app.inject({ url, headers: { accept: 'text/html', 'accept-encoding': 'br' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    const html = response.headers['content-encoding'] === 'br' ? brotliDecompressSync(response.rawPayload) : response.rawPayload;
    expect(html.toString('utf8')).toContain(`/assets/${script}`);
  });
});
