/**
 * The import-cycle check that `npm run lint` runs (scripts/check-import-cycles.ts): it finds
 * a file cycle and a folder cycle in a tree made for the test, passes a tree without one,
 * and finds none in src/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkImportCycles } from '../../scripts/check-import-cycles.js';

let roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

describe('the import-cycle check', () => {
  it('finds a file-level cycle, type-only imports included', () => {
    const root = tree({
      'server/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'server/b.ts': "import type { A } from './c.js';\nexport const b = 1 as unknown as A;\n",
      'server/c.ts': "import { a } from './a.js';\nexport type A = typeof a;\n",
    });
    const result = checkImportCycles({ root });
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toMatch(/a\.ts -> .*b\.ts -> .*c\.ts -> .*a\.ts/);
  });

  it('finds a cycle between folders of src/server made of files that form no cycle', () => {
    const root = tree({
      'server/rooms/service.ts': "import { publish } from '../realtime/bus.js';\nexport const join = publish;\n",
      'server/realtime/bus.ts': 'export const publish = () => undefined;\n',
      'server/realtime/gateway.ts': "import { join } from '../rooms/service.js';\nexport const open = join;\n",
    });
    expect(checkImportCycles({ root }).ok).toBe(true);
    const withFolders = checkImportCycles({ root, folders: true });
    expect(withFolders.ok).toBe(false);
    expect(withFolders.lines.join('\n')).toContain('realtime -> rooms -> realtime');
  });

  it('passes a tree without cycles, and the real src/', () => {
    const root = tree({
      'server/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'server/b.ts': 'export const b = 1;\n',
    });
    expect(checkImportCycles({ root, folders: true }).ok).toBe(true);
    const real = checkImportCycles({ root: 'src', folders: true });
    expect(real.lines).toEqual([expect.stringMatching(/^No file- or folder-level import cycles in src/)]);
    expect(real.ok).toBe(true);
  });
});
