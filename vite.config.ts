/**
 * Builds the browser client (src/client → dist/client) and serves it in development,
 * proxying the API, its WebSocket and the health probe to the server on port 3000.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';

const apiServer = 'http://localhost:3000';

// The server accepts WebSocket upgrades and state-changing requests only from its own
// origin, so the dev proxy presents requests as coming from it.
const sameOriginProxy: ProxyOptions = {
  target: apiServer,
  ws: true,
  configure(proxy) {
    proxy.on('proxyReq', (request) => request.setHeader('origin', apiServer));
    proxy.on('proxyReqWs', (request) => request.setHeader('origin', apiServer));
  },
};

const outDir = fileURLToPath(new URL('dist/client', import.meta.url));

/**
 * Writes a .br and a .gz beside each text file of the build, once, at the highest levels:
 * the server (@fastify/static preCompressed) sends them as they are, spending no CPU per request.
 */
function precompress(): Plugin {
  const compressible = /\.(js|css|html|svg|json|txt|map)$/;
  return {
    name: 'securechat-precompress',
    apply: 'build',
    closeBundle() {
      for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !compressible.test(entry.name)) continue;
        const file = path.join(entry.parentPath, entry.name);
        const content = readFileSync(file);
        // Tiny files gain nothing worth a second lookup.
        if (content.length < 512) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(content, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: content.length } }));
        writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('src/client', import.meta.url)),
  base: '/',
  plugins: [preact(), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    // One entry chunk and evergreen browsers: the preload polyfill would be dead weight.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': sameOriginProxy,
      '/healthz': { target: apiServer },
    },
  },
});
