// The operator's view: the real `securechat` CLI and server as separate processes (node with
// the tsx loader on the TypeScript sources), each in its own temporary DATA_DIR that is also its
// working folder (so no .env is picked up), with a minimal environment. The tests run
// concurrently; each one owns its processes, folders and databases, and ends them itself.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import type { DatabaseTarget } from '../../src/server/config.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { openDatabase } from '../../src/server/db/database.js';
import type { Me } from '../../src/shared/protocol.js';
import { prepareDatabase } from '../support/app.js';
import { TEST_PASSWORD } from '../support/factories.js';
import { call, cookieFrom } from '../support/http.js';
import { CLI_SCRIPT, exitWithin, Resources, type Exit, type ServerProcess } from '../support/process.js';
import type { Dialect } from '../support/databases.js';

const DIALECTS = ['sqlite', 'postgres'] as const;

/** One test's processes, folders and databases (test/fault's harness); all of them end when the test does. */
function harness(context: TestContext): Resources {
  const resources = new Resources();
  context.onTestFinished(() => resources.dispose());
  return resources;
}

/** A data folder (also the processes' working folder) with SQLite inside it, or a fresh PostgreSQL database. */
async function environment(h: Resources, dialect: Dialect): Promise<{ dataDir: string; env: Record<string, string>; target: DatabaseTarget }> {
  return h.dataFor(dialect, 'securechat-cli-');
}

/** SIGTERM, and the graceful stop must end the process with 0 within a few seconds. */
async function stopServer(server: ServerProcess): Promise<void> {
  server.proc.child.kill('SIGTERM');
  const exit = await exitWithin(server.proc, 8_000);
  expect(exit, exit.stderr).toMatchObject({ code: 0, signal: null });
}

async function register(server: ServerProcess, username: string, email: string): Promise<void> {
  const response = await call(server.url, 'POST', '/api/v1/auth/register', { body: { username, email, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD } });
  expect(response.status, response.text).toBe(201);
}

/** Signs in and returns GET /api/v1/me. */
async function me(server: ServerProcess, username: string): Promise<Me> {
  const login = await call(server.url, 'POST', '/api/v1/auth/login', { body: { username, password: TEST_PASSWORD } });
  expect(login.status, login.text).toBe(200);
  const response = await call<Me>(server.url, 'GET', '/api/v1/me', { headers: { cookie: cookieFrom(login) } });
  expect(response.status).toBe(200);
  return response.body;
}

/** The one line a refused start prints: exactly one non-empty line on stderr, nothing on stdout. */
function oneLine(exit: Exit): string {
  const lines = exit.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(exit.stdout.trim()).toBe('');
  return lines[0]!;
}

const sha256 = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');

function isFernetKey(text: string): boolean {
  return /^[A-Za-z0-9_-]{43}=$/.test(text) && Buffer.from(text, 'base64url').length === 32;
}

async function writeKeyFile(file: string, keys: string[]): Promise<void> {
  await fs.writeFile(file, `${keys.join('\n')}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

/**
 * The database as a server on `oldKey` would leave it (canary, alice with her encrypted email,
 * General), plus `rows` encrypted messages written straight into it.
 */
async function seedMessages(target: DatabaseTarget, oldKey: string, rows: number): Promise<void> {
  const A = createKeyring(oldKey);
  const handle = openDatabase(target);
  try {
    const { db } = handle;
    await prepareDatabase(handle, A);
    const email = A.encrypt('alice@example.com');
    await db
      .insertInto('users')
      .values({
        id: 'u-alice',
        username: 'alice',
        username_key: 'alice',
        email_ciphertext: email.ciphertext,
        email_key_id: email.keyId,
        email_index: A.blindIndex('alice@example.com'),
        password_hash: 'scrypt:32768:8:1$unused$00',
        created_at: Date.now(),
      })
      .execute();
    await db
      .insertInto('rooms')
      .values({
        id: 'r-general',
        name: 'General',
        name_key: 'general',
        description_ciphertext: null,
        description_key_id: null,
        is_private: 0,
        owner_id: 'u-alice',
        last_seq: rows,
        created_at: Date.now(),
      })
      .execute();
    await db.transaction().execute(async (trx) => {
      for (let start = 0; start < rows; start += 1_000) {
        const values = [];
        for (let seq = start + 1; seq <= Math.min(rows, start + 1_000); seq++) {
          const { ciphertext, keyId } = A.encrypt(`message number ${seq}`);
          values.push({
            id: `m-${String(seq).padStart(6, '0')}`,
            room_id: 'r-general',
            seq,
            sender_id: 'u-alice',
            client_id: `c-${seq}`,
            body_format: 'fernet',
            body_ciphertext: ciphertext,
            body_key_id: keyId,
            created_at: Date.now(),
            edited_at: null,
          });
        }
        await trx.insertInto('messages').values(values).execute();
      }
    });
  } finally {
    await handle.close();
  }
}

async function readRotated(target: DatabaseTarget) {
  const handle = openDatabase(target);
  try {
    const messages = await handle.db.selectFrom('messages').select(['seq', 'body_ciphertext', 'body_key_id']).orderBy('seq').execute();
    const user = await handle.db.selectFrom('users').select(['email_ciphertext', 'email_key_id', 'email_index']).executeTakeFirstOrThrow();
    return { messages, user };
  } finally {
    await handle.close();
  }
}

describe.concurrent('securechat CLI and server processes', { timeout: 120_000 }, () => {
  it('keys generate prints a new valid Fernet key each time', async (context) => {
    const h = harness(context);
    const cwd = await h.tempDir('securechat-cli-');
    const [first, second] = await Promise.all([h.cli(['keys', 'generate'], {}, cwd), h.cli(['keys', 'generate'], {}, cwd)]);
    for (const run of [first!, second!]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^\S+\n$/);
      const key = run.stdout.trim();
      expect(key).toHaveLength(44);
      expect(isFernetKey(key), key).toBe(true);
      expect(() => createKeyring(key)).not.toThrow();
    }
    expect(first!.stdout).not.toBe(second!.stdout);
  });

  it.for(DIALECTS)('migrate on a fresh %s database applies the migrations, then is up to date', async (dialect, context) => {
    const h = harness(context);
    const { dataDir, env } = await environment(h, dialect);
    const first = await h.cli(['migrate'], env, dataDir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toMatch(/^Applied: 001-initial(, \d{3}-[\w-]+)*$/);
    const second = await h.cli(['migrate'], env, dataDir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('The database is up to date.');
    expect(existsSync(path.join(dataDir, 'securechat.db'))).toBe(dialect === 'sqlite');
  });

  it('the server creates its secrets on first run, stops cleanly, and refuses a wrong key without touching the data', async (context) => {
    const h = harness(context);
    const { dataDir, env } = await environment(h, 'sqlite');
    const server = await h.startServer(env, dataDir);

    const keyFile = path.join(dataDir, 'master.key');
    expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
    const keyText = (await fs.readFile(keyFile, 'utf8')).trim();
    expect(isFernetKey(keyText)).toBe(true);
    const secretFile = path.join(dataDir, 'session.secret');
    expect((await fs.readFile(secretFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await fs.stat(secretFile)).mode & 0o077).toBe(0);

    await register(server, 'alice', 'Alice@Example.com');
    expect(await me(server, 'alice')).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    await stopServer(server);

    const dbFile = path.join(dataDir, 'securechat.db');
    const dbHash = await sha256(dbFile);
    const secretBefore = await fs.readFile(secretFile, 'utf8');

    // Another key, or a garbled one: refused at start with one line saying what is wrong; data untouched.
    const wrongKey = generateFernetKey();
    const [refused, garbled] = await Promise.all([
      h.refusedServer({ ...env, MASTER_ENCRYPTION_KEY: wrongKey }, dataDir),
      h.refusedServer({ ...env, MASTER_ENCRYPTION_KEY: 'not-a-key' }, dataDir),
    ]);
    expect(refused!.code).toBe(1);
    const message = oneLine(refused!);
    expect(message).toMatch(/master key/i);
    expect(message).toMatch(/MASTER_ENCRYPTION_KEY/);
    expect(message).not.toContain(wrongKey);
    expect(message).not.toContain(keyText);
    expect(garbled!.code).toBe(1);
    expect(oneLine(garbled!)).toMatch(/MASTER_ENCRYPTION_KEY is not a valid key/);
    expect(await sha256(dbFile)).toBe(dbHash);
    expect((await fs.readFile(keyFile, 'utf8')).trim()).toBe(keyText);

    expect(await fs.readFile(secretFile, 'utf8')).toBe(secretBefore);
  });

  it('a missing key file on a database that holds data is refused, naming the file, and no new key is made up', async (context) => {
    const h = harness(context);
    const { dataDir, env, target } = await environment(h, 'sqlite');
    // Data written under a key whose file is not there (a restore that forgot it, a wrong DATA_DIR).
    await seedMessages(target, generateFernetKey(), 3);
    const dbFile = path.join(dataDir, 'securechat.db');
    const dbHash = await sha256(dbFile);
    const keyFile = path.join(dataDir, 'master.key');

    const missing = await h.refusedServer(env, dataDir);
    expect(missing.code).toBe(1);
    expect(oneLine(missing)).toContain(keyFile);
    expect(await sha256(dbFile)).toBe(dbHash);
    // "Created on first run" only: a key made up now could never read the data, and a file
    // in its place hides that the real one is missing (the next start would just say "wrong key").
    expect(existsSync(keyFile)).toBe(false);
  });

  it.for(DIALECTS)('keys rotate (%s) beside a running server; afterwards the new key alone is enough', async (dialect, context) => {
    const h = harness(context);
    const { dataDir, env } = await environment(h, dialect);
    const keyFile = path.join(dataDir, 'master.key');

    const first = await h.startServer(env, dataDir);
    await register(first, 'alice', 'alice@example.com');
    await register(first, 'bob', 'bob@example.com');
    await stopServer(first);
    const oldKey = (await fs.readFile(keyFile, 'utf8')).trim();
    const newKey = generateFernetKey();
    await writeKeyFile(keyFile, [newKey, oldKey]);

    // The server runs on new key + old fallback (from the key file) while the rotation runs.
    const during = await h.startServer(env, dataDir);
    const [rotation] = await Promise.all([h.cli(['keys', 'rotate'], env, dataDir), register(during, 'carol', 'carol@example.com')]);
    expect(rotation.code, rotation.stderr + rotation.stdout).toBe(0);
    expect(rotation.stderr).toMatch(/^Re-encrypting \[\.+\] 0\/\d+ \(0%\)$/m);
    expect(rotation.stderr).toMatch(/^Re-encrypting \[#+\] (\d+)\/\1 \(100%\)$/m);
    expect(rotation.stdout).toContain(`under key ${createKeyring(newKey).primaryKeyId}.`);
    expect(rotation.stdout).toMatch(/Every ciphertext is now under the primary key/);
    await stopServer(during);

    // Only the new key: the server starts and decrypts every email.
    const after = await h.startServer({ ...env, MASTER_ENCRYPTION_KEY: newKey }, dataDir);
    expect(await me(after, 'alice')).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    expect(await me(after, 'bob')).toMatchObject({ email: 'bob@example.com' });
    expect(await me(after, 'carol')).toMatchObject({ email: 'carol@example.com' });
    await stopServer(after);
  });

  it.for(DIALECTS)('keys rotate (%s) killed with SIGKILL half-way resumes to completion on the next run', async (dialect, context) => {
    const ROWS = 5_000; // 10 batches of 500 (plus the user's email)
    const h = harness(context);
    const { dataDir, env, target } = await environment(h, dialect);
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    await seedMessages(target, oldKey, ROWS);
    await writeKeyFile(path.join(dataDir, 'master.key'), [newKey, oldKey]);
    const B = createKeyring(newKey);

    // SIGKILL as soon as the progress shows a committed batch (>= 10%) but not the end.
    const killed = h.spawnNode(CLI_SCRIPT, ['keys', 'rotate'], env, dataDir);
    let sawPartial = false;
    killed.child.stderr!.on('data', () => {
      const match = [...killed.stderr.matchAll(/ (\d+)\/(\d+) \(/g)].at(-1);
      if (!sawPartial && match && Number(match[1]) > 1 && Number(match[1]) < Number(match[2])) {
        sawPartial = true;
        killed.child.kill('SIGKILL');
      }
    });
    const killedExit = await exitWithin(killed, 30_000);
    expect(sawPartial, killed.stderr + killed.stdout).toBe(true);
    expect(killedExit.signal).toBe('SIGKILL');

    const half = await readRotated(target);
    expect(half.messages).toHaveLength(ROWS);
    const underNew = half.messages.filter((row) => row.body_key_id === B.primaryKeyId).length;
    expect(underNew).toBeGreaterThan(0);
    expect(underNew).toBeLessThan(ROWS);

    const resumed = await h.cli(['keys', 'rotate'], env, dataDir);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toContain(`Re-encrypted ${ROWS - underNew} ciphertexts`);

    const done = await readRotated(target);
    expect(done.messages).toHaveLength(ROWS);
    expect(done.user.email_key_id).toBe(B.primaryKeyId);
    expect(B.decrypt(done.user.email_ciphertext, done.user.email_key_id)).toBe('alice@example.com');
    expect(done.user.email_index).toBe(B.blindIndex('alice@example.com'));
    const wrong = done.messages.filter(
      (row, index) => row.seq !== index + 1 || row.body_key_id !== B.primaryKeyId || B.decrypt(row.body_ciphertext, row.body_key_id) !== `message number ${index + 1}`,
    );
    expect(wrong).toEqual([]);
  });

  it('a bad configuration value stops the process with one line naming the variable', async (context) => {
    const h = harness(context);
    const dataDir = await h.tempDir('securechat-cli-');
    const [badPort, production, cliBadPort] = await Promise.all([
      h.refusedServer({ DATA_DIR: dataDir, PORT: 'abc' }, dataDir),
      h.refusedServer({ DATA_DIR: dataDir, NODE_ENV: 'production' }, dataDir),
      h.cli(['migrate'], { DATA_DIR: dataDir, PORT: 'abc' }, dataDir),
    ]);
    expect(badPort!.code).toBe(1);
    expect(oneLine(badPort!)).toMatch(/\bPORT\b.*"abc"/);
    expect(production!.code).toBe(1);
    expect(oneLine(production!)).toMatch(/\bSESSION_SECRET\b/);
    expect(cliBadPort!.code).toBe(1);
    expect(oneLine(cliBadPort!)).toMatch(/\bPORT\b/);
    // A start that never got past its configuration created nothing.
    expect(await fs.readdir(dataDir)).toEqual([]);
  });
});
