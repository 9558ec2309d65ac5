/**
 * The data folder is this user's only: the folder 0700, and the SQLite database, its
 * -wal and -shm files, the key file and the session secret 0600, on a first start and on
 * a start over files left wider by an older version. A folder or file the process does not
 * own is left as it is, with a warning, and the start goes on.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openPlatform, sessionSecretFor } from '../../src/server/boot.js';
import { loadConfig } from '../../src/server/config.js';
import { myRooms, sendMessage, signUp } from '../support/factories.js';
import { testServices } from '../support/app.js';

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

/** Starts the server's platform on the folder as `npm start` does, writes a message (the writer thread too), stops. */
async function startAndWrite(dataDir: string): Promise<void> {
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const platform = await openPlatform(config);
  const sessionSecret = await sessionSecretFor(config);
  const app = await buildApp(testServices({ config, database: platform.database, keyring: platform.keyring, sessionSecret }));
  try {
    const alice = await signUp(app);
    await sendMessage(app, alice, (await myRooms(app, alice))[0]!.id, 'hello');
    // Still open: the -wal and -shm files exist now.
    const db = path.join(dataDir, 'securechat.db');
    for (const file of [db, `${db}-wal`, `${db}-shm`]) expect(existsSync(file), file).toBe(true);
    expectPrivate(dataDir);
  } finally {
    await app.close();
    await platform.database.close();
  }
}

function expectPrivate(dataDir: string): void {
  const db = path.join(dataDir, 'securechat.db');
  expect(modeOf(dataDir)).toBe('700');
  for (const file of [db, `${db}-wal`, `${db}-shm`, path.join(dataDir, 'master.key'), path.join(dataDir, 'session.secret')]) {
    if (existsSync(file)) expect(modeOf(file), file).toBe('600');
  }
}

describe('the data folder', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is created 0700 with the database, its WAL and SHM, the key and the secret 0600', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'securechat-perms-'));
    const previous = process.umask(0o022); // the usual umask, which leaves new files 0644
    try {
      await startAndWrite(path.join(dir, 'data'));
    } finally {
      process.umask(previous);
    }
  });

  it('narrows a folder and database files left readable by others', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'securechat-perms-'));
    const dataDir = path.join(dir, 'data');
    await startAndWrite(dataDir);
    const db = path.join(dataDir, 'securechat.db');
    chmodSync(dataDir, 0o755);
    chmodSync(db, 0o644);
    writeFileSync(`${db}-shm`, '');
    chmodSync(`${db}-shm`, 0o644);
    await startAndWrite(dataDir);
  });

  // Only root can hand a folder to another user; the refused-chmod branch is in test/unit/private-modes.test.ts.
  it.skipIf(process.getuid?.() !== 0)("leaves a folder and a database file another user owns as they are, with a warning, and starts", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'securechat-perms-'));
    const dataDir = path.join(dir, 'data');
    const db = path.join(dataDir, 'securechat.db');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(db, '', { mode: 0o644 });
    chmodSync(db, 0o644);
    const nobody = 65534;
    chownSync(dataDir, nobody, nobody);
    chownSync(db, nobody, nobody);

    const platform = await openPlatform(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
    try {
      expect(platform.warnings).toEqual([
        expect.stringMatching(new RegExp(`^${dataDir} is open to other users \\(mode 0755\\) and owned by uid ${nobody}`)),
        expect.stringMatching(new RegExp(`^${db} is open to other users \\(mode 0644\\) and owned by uid ${nobody}`)),
      ]);
      expect(await platform.database.db.selectFrom('users').select('id').execute()).toEqual([]);
    } finally {
      await platform.database.close();
    }
    expect(modeOf(dataDir)).toBe('755');
    expect(modeOf(db)).toBe('644');
  });
});
