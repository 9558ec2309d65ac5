/**
 * Builds the browser client (src/client → dist/client) and serves it in development,
 * proxying the API, its WebSocket and the health probe to the server on port 3000.
 */
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig, type ProxyOptions } from 'vite';

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

export default defineConfig({
  root: fileURLToPath(new URL('src/client', import.meta.url)),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('dist/client', import.meta.url)),
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
