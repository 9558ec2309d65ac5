/**
 * How the built browser client is served: the brotli or gzip sibling the build wrote
 * (vite.config.ts) when the request accepts it, the plain file otherwise; hashed files
 * under /assets/ cached for good, everything else (index.html, which names them) revalidated.
 */
import path from 'node:path';
import type { FastifyStaticOptions } from '@fastify/static';

/** A file under assets/ has its content hash in its name: a new build gives a new name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and the unhashed files: the browser may keep them but asks each time (ETag). */
const REVALIDATE = 'no-cache';

export function clientStaticOptions(clientDir: string): FastifyStaticOptions {
  const assetsDir = path.join(clientDir, 'assets') + path.sep;
  return {
    root: clientDir,
    wildcard: false,
    index: false,
    preCompressed: true,
    // The compressed siblings are chosen by Accept-Encoding, never addressed by name.
    globIgnore: ['**/*.br', '**/*.gz'],
    setHeaders(reply, filePath) {
      reply.header('cache-control', filePath.startsWith(assetsDir) ? IMMUTABLE : REVALIDATE);
    },
  };
}
