#!/usr/bin/env node
// `npm start` runs this (prestart): it runs `npm run build` only when dist/ is missing or
// older than the sources. Plain Node, no dependencies.
//
// Inputs: src/ (recursively), package.json, package-lock.json, tsconfig*.json,
// vite.config.ts (the client's index.html is in src/). After a build succeeds, dist/.build-stamp is written; the
// build is stale when any input's mtime is newer than the stamp, or the stamp is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STAMP = join('dist', '.build-stamp');

/** Newest mtime (ms) of a file, or of every file under a folder; 0 when absent. */
function newestMtime(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file changes its folder's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** The build inputs under root (existing ones only). */
export function buildInputs(root) {
  const names = readdirSync(root).filter(
    (n) => n === 'package.json' || n === 'package-lock.json' || n === 'vite.config.ts' || /^tsconfig.*\.json$/.test(n),
  );
  return ['src', ...names].map((n) => join(root, n)).filter((p) => existsSync(p));
}

/**
 * Whether root needs a build: { stale, reason }. Stale when the stamp file is missing or
 * any input is newer than it.
 */
export function isStale(root) {
  const stamp = join(root, STAMP);
  let stampMtime;
  try {
    stampMtime = statSync(stamp).mtimeMs;
  } catch {
    return { stale: true, reason: `${STAMP} missing` };
  }
  for (const out of ['dist/server/main.js', 'dist/client/index.html']) {
    if (!existsSync(join(root, out))) return { stale: true, reason: `${out} missing` };
  }
  for (const input of buildInputs(root)) {
    if (newestMtime(input) > stampMtime) return { stale: true, reason: `${input} changed since the last build` };
  }
  return { stale: false, reason: 'dist is up to date' };
}

/** Marks the build current as of `startedAt` (ms): a source saved while it ran stays newer than the stamp. */
export function writeStamp(root, startedAt = Date.now()) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const stamp = join(root, STAMP);
  writeFileSync(stamp, `${new Date(startedAt).toISOString()}\n`);
  utimesSync(stamp, startedAt / 1000, startedAt / 1000);
}

function main() {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const { stale, reason } = isStale(root);
  if (!stale) {
    console.log(`build-if-stale: ${reason}; skipping the build`);
    return;
  }
  console.log(`build-if-stale: ${reason}; running npm run build`);
  const startedAt = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeStamp(root, startedAt);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
