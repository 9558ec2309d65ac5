/**
 * What the operator reads at start (main.ts): one plain line on stderr with the address,
 * and on the first run, where the new master key is and to back it up. stdout stays JSON.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitWithin, Resources } from '../support/process.js';

describe('start-up lines', { timeout: 60_000 }, () => {
  const resources = new Resources();
  afterEach(() => resources.dispose());

  it('says where it listens, and on the first run only where the master key was created', async () => {
    const dataDir = await resources.tempDir();
    const first = await resources.startServer({ DATA_DIR: dataDir }, dataDir);
    await expect.poll(() => first.proc.stderr).toContain(`SecureChat listening on ${first.url}`);
    expect(first.proc.stderr).toContain(`Created a new master key in ${path.join(dataDir, 'master.key')} (mode 0600). Back it up now`);
    for (const line of first.proc.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    first.proc.child.kill('SIGTERM');
    expect((await exitWithin(first.proc, 15_000)).code).toBe(0);

    const again = await resources.startServer({ DATA_DIR: dataDir }, dataDir);
    await expect.poll(() => again.proc.stderr).toContain(`SecureChat listening on ${again.url}`);
    expect(again.proc.stderr).not.toContain('Created a new master key');
  });
});
