import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without type declarations
import { isStale, writeStamp } from '../../scripts/build-if-stale.mjs';

function write(root: string, rel: string, when: number) {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  utimesSync(path, when / 1000, when / 1000);
}

describe('build-if-stale', () => {
  let root: string;
  const past = Date.now() - 60_000;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
    write(root, 'src/server/main.ts', past);
    utimesSync(join(root, 'src/server'), past / 1000, past / 1000);
    utimesSync(join(root, 'src'), past / 1000, past / 1000);
    write(root, 'package.json', past);
    write(root, 'tsconfig.build.json', past);
    write(root, 'dist/server/main.js', past);
    write(root, 'dist/client/index.html', past);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is stale without a stamp', () => {
    expect(isStale(root)).toMatchObject({ stale: true });
  });

  it('is fresh after a stamp newer than every input', () => {
    writeStamp(root);
    expect(isStale(root)).toMatchObject({ stale: false });
  });

  it('is stale when a source file is newer than the stamp', () => {
    writeStamp(root);
    write(root, 'src/server/main.ts', Date.now() + 5_000);
    expect(isStale(root)).toMatchObject({ stale: true });
  });

  it('is stale when a tsconfig or package.json is newer than the stamp', () => {
    writeStamp(root);
    write(root, 'tsconfig.build.json', Date.now() + 5_000);
    expect(isStale(root).stale).toBe(true);
  });

  it('is stale when a source was saved while the build ran (the stamp dates from its start)', () => {
    const startedAt = Date.now() - 10_000;
    write(root, 'src/server/main.ts', startedAt + 5_000);
    writeStamp(root, startedAt);
    expect(isStale(root)).toMatchObject({ stale: true });
  });

  it('is stale when a build output is missing', () => {
    writeStamp(root);
    rmSync(join(root, 'dist/server/main.js'));
    expect(isStale(root)).toMatchObject({ stale: true });
  });
});
