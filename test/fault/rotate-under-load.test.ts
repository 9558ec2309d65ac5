/**
 * Key rotation under load, killed half-way (product.md §1 "key rotation", §3 invariants 5
 * and 6). The database is seeded directly (Kysely + the old key A): users with encrypted
 * emails and blind indexes, rooms with encrypted descriptions, and thousands of messages.
 * The real server runs as a process with the new key B primary and A as a fallback, and two
 * clients (HTTP and WebSocket) keep sending, a new user registers and a room is created with
 * a description, while `securechat keys rotate` (a process) runs, is SIGKILLed once its
 * progress bar shows 40% committed, and is run again to completion. Afterwards:
 *   - every key id in the database is B's, every blind index is B's, the canary is under B;
 *   - a server started with ONLY B reads every email (/me of every user), description
 *     (/rooms) and message body (every room's history) back exactly as written;
 *   - every send made during the rotation was accepted and is stored once.
 * And a start with a wrong key (a random one, or the old A alone) is refused with one clear
 * line and a non-zero exit, and leaves the database byte-for-byte (SQLite) / row-for-row
 * (PostgreSQL) as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring, type Keyring } from '../../src/server/crypto/keyring.js';
import { hashPassword } from '../../src/server/crypto/passwords.js';
import { openDatabase } from '../../src/server/db/database.js';
import { DIALECTS, type Dialect } from '../support/databases.js';
import { connectWs, type WsClient } from '../support/ws-client.js';
import { isReply } from '../support/frames.js';
import type { Message, Room } from '../../src/shared/protocol.js';
import { prepareDatabase } from '../support/app.js';
import { call, type Session } from '../support/http.js';
import { logIn, readAll, register, sequenceProblems, TEST_PASSWORD } from '../support/factories.js';
import { CLI_SCRIPT, exitWithin, Resources, sleep, type Proc } from '../support/process.js';

const USERS = 12;
const ROOMS_WITH_DESCRIPTION = 5;
/** Enough rows that the kill lands mid-way (batches of 500): SQLite rotates faster than PostgreSQL. */
const MESSAGES: Record<Dialect, number> = { sqlite: 12_000, postgres: 4_000 };

const userName = (i: number) => `rot_user${String(i).padStart(2, '0')}`;
const emailOf = (name: string) => `${name}@example.com`;

interface Seeded {
  rooms: Array<{ id: string; name: string; description: string | null; bodies: string[] }>;
}

/** The database as servers on key A would have left it, written straight in. */
async function seed(target: DatabaseTarget, A: Keyring, messages: number): Promise<Seeded> {
  const handle = openDatabase(target);
  try {
    const { db } = handle;
    await prepareDatabase(handle, A);
    const passwordHash = await hashPassword(TEST_PASSWORD); // one production-cost hash, shared
    const now = Date.now();
    const users = Array.from({ length: USERS }, (_, i) => {
      const email = emailOf(userName(i));
      const encrypted = A.encrypt(email);
      return {
        id: `u-${String(i).padStart(2, '0')}`,
        username: userName(i),
        username_key: userName(i),
        email_ciphertext: encrypted.ciphertext,
        email_key_id: encrypted.keyId,
        email_index: A.blindIndex(email),
        password_hash: passwordHash,
        created_at: now,
      };
    });
    await db.insertInto('users').values(users).execute();

    const rooms: Seeded['rooms'] = [{ id: 'r-0', name: 'General', description: null, bodies: [] }];
    for (let r = 1; r <= ROOMS_WITH_DESCRIPTION; r++) rooms.push({ id: `r-${r}`, name: `Seeded room ${r}`, description: `What room ${r} is about (secret ${r})`, bodies: [] });
    const perRoom = Math.ceil(messages / rooms.length);
    for (const room of rooms) room.bodies = Array.from({ length: perRoom }, (_, s) => `seeded ${room.id} #${s + 1}`);
    await db
      .insertInto('rooms')
      .values(
        rooms.map((room) => {
          const description = room.description === null ? null : A.encrypt(room.description);
          return {
            id: room.id,
            name: room.name,
            name_key: room.name.toLowerCase(),
            description_ciphertext: description?.ciphertext ?? null,
            description_key_id: description?.keyId ?? null,
            is_private: 0,
            owner_id: users[0]!.id,
            last_seq: room.bodies.length,
            created_at: now,
          };
        }),
      )
      .execute();
    await db
      .insertInto('room_members')
      .values(rooms.flatMap((room) => users.map((user, i) => ({ room_id: room.id, user_id: user.id, role: i === 0 ? ('owner' as const) : ('member' as const), joined_at: now, last_read_seq: 0 }))))
      .execute();
    await db.transaction().execute(async (trx) => {
      for (const room of rooms) {
        for (let start = 0; start < room.bodies.length; start += 500) {
          const values = room.bodies.slice(start, start + 500).map((body, k) => {
            const seq = start + k + 1;
            const { ciphertext, keyId } = A.encrypt(body);
            return {
              id: `m-${room.id}-${String(seq).padStart(6, '0')}`,
              room_id: room.id,
              seq,
              sender_id: users[seq % USERS]!.id,
              client_id: `seed-${seq}`,
              body_format: 'fernet',
              body_ciphertext: ciphertext,
              body_key_id: keyId,
              created_at: now,
              edited_at: null,
            };
          });
          await trx.insertInto('messages').values(values).execute();
        }
      }
    });
    return { rooms };
  } finally {
    await handle.close();
  }
}

/** Every stored key id and blind index, and a dump of every row that a refused start must leave alone. */
async function snapshot(target: DatabaseTarget) {
  const handle = openDatabase(target);
  try {
    const { db } = handle;
    const users = await db.selectFrom('users').select(['id', 'username', 'email_ciphertext', 'email_key_id', 'email_index', 'password_hash']).orderBy('id').execute();
    const rooms = await db.selectFrom('rooms').select(['id', 'name', 'description_ciphertext', 'description_key_id', 'last_seq']).orderBy('id').execute();
    const messages = await db.selectFrom('messages').select(['id', 'room_id', 'seq', 'client_id', 'body_format', 'body_ciphertext', 'body_key_id']).orderBy('id').execute();
    const canary = await db.selectFrom('key_canary').selectAll().execute();
    const sessions = await db.selectFrom('sessions').select(['id', 'last_seen_at', 'expires_at']).orderBy('id').execute();
    const members = await db.selectFrom('room_members').selectAll().orderBy('room_id').orderBy('user_id').execute();
    return { users, rooms, messages, canary, sessions, members };
  } finally {
    await handle.close();
  }
}

/** SHA-256 of the SQLite database and its -wal/-shm files, as present. */
async function sqliteChecksum(file: string): Promise<string> {
  const hash = createHash('sha256');
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(file + suffix)) continue;
    hash.update(suffix).update(await fs.readFile(file + suffix));
  }
  return hash.digest('hex');
}

/** Two clients sending until stopped; every answer is kept. */
function startLoad(base: string, sender: Session, socket: WsClient, roomIds: string[]) {
  const sent: Array<{ clientId: string; roomId: string; body: string; result: string | number; message?: Message }> = [];
  let running = true;
  const http = async () => {
    for (let i = 0; running; i++) {
      const clientId = `load-http-${i}`;
      const roomId = roomIds[i % roomIds.length]!;
      const body = `sent during the rotation over HTTP #${i}`;
      try {
        const answer = await call<{ message: Message }>(base, 'POST', `/api/v1/rooms/${roomId}/messages`, { session: sender, body: { body, clientId } });
        sent.push({ clientId, roomId, body, result: answer.status, message: answer.body.message });
      } catch (error) {
        sent.push({ clientId, roomId, body, result: `network: ${(error as Error).name}` });
      }
      await sleep(10);
    }
  };
  const ws = async () => {
    for (let i = 0; running && socket.socket.readyState === WebSocket.OPEN; i++) {
      const clientId = `load-ws-${i}`;
      const roomId = roomIds[(i + 1) % roomIds.length]!;
      const body = `sent during the rotation over the socket #${i}`;
      const since = socket.frames.length;
      socket.send({ type: 'send', roomId, body, clientId });
      try {
        const frame = await socket.waitFor(isReply(clientId), { since, timeoutMs: 15_000 });
        sent.push({ clientId, roomId, body, result: frame.type === 'ack' ? 'ack' : JSON.stringify(frame), message: (frame as { message?: Message }).message });
      } catch (error) {
        sent.push({ clientId, roomId, body, result: String(error) });
      }
      await sleep(10);
    }
  };
  const done = Promise.all([http(), ws()]);
  return {
    sent,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The last "done/total" the rotation's progress bar printed. */
function progressOf(proc: Proc): { done: number; total: number } | undefined {
  const match = [...proc.stderr.matchAll(/ (\d+)\/(\d+) \(/g)].at(-1);
  return match ? { done: Number(match[1]), total: Number(match[2]) } : undefined;
}

describe('securechat keys rotate under load, killed half-way', { timeout: 150_000 }, () => {
  const resources = new Resources();
  afterEach(async () => resources.dispose());

  it.for(DIALECTS)('on %s: afterwards everything decrypts with only the new key; a wrong key is refused and changes nothing', async (dialect: Dialect) => {
    const timings: string[] = [];
    const mark = (() => {
      let last = performance.now();
      return (what: string) => {
        const now = performance.now();
        timings.push(`${what} ${((now - last) / 1000).toFixed(1)} s`);
        last = now;
      };
    })();
    const { dataDir, env: baseEnv, target } = await resources.dataFor(dialect);
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    const A = createKeyring(oldKey);
    const B = createKeyring(newKey);
    const seeded = await seed(target, A, MESSAGES[dialect]);
    mark('seed');

    // ---- the server on B + fallback A, under load, while the rotation runs, is killed, and runs again ----
    const rotatingEnv = { ...baseEnv, MASTER_ENCRYPTION_KEY: newKey, MASTER_ENCRYPTION_KEY_FALLBACKS: oldKey };
    const during = await resources.startServer(rotatingEnv, dataDir);
    const httpSender = await logIn(during.url, userName(1));
    const wsSender = await logIn(during.url, userName(2));
    const socket = await connectWs(during.url, { cookie: wsSender.cookie });
    resources.defer(() => socket.close());
    const load = startLoad(during.url, httpSender, socket, seeded.rooms.map((room) => room.id));
    mark('server up, load started');

    const killed = resources.spawnNode(CLI_SCRIPT, ['keys', 'rotate'], rotatingEnv, dataDir);
    let progressAtKill: { done: number; total: number } | undefined;
    killed.child.stderr!.on('data', () => {
      const progress = progressOf(killed);
      if (!progressAtKill && progress && progress.done >= 0.4 * progress.total && progress.done < progress.total) {
        progressAtKill = progress;
        killed.child.kill('SIGKILL');
      }
    });
    // Meanwhile: a new account (email under B) and a new room with a description (under B).
    await register(during.url, 'rot_newbie');
    const owner = await logIn(during.url, userName(0));
    const created = await call<{ room: Room }>(during.url, 'POST', '/api/v1/rooms', { session: owner, body: { name: 'Made during the rotation', description: 'Described under the new key' } });
    expect(created.status).toBe(201);
    const killedExit = await exitWithin(killed, 60_000);
    mark('first rotation, killed');
    expect(progressAtKill, killed.stderr + killed.stdout).toBeDefined();
    expect(killedExit.signal).toBe('SIGKILL');

    const half = await snapshot(target);
    const halfUnderB = half.messages.filter((row) => row.body_key_id === B.primaryKeyId).length;
    const halfUnderA = half.messages.filter((row) => row.body_key_id === A.primaryKeyId).length;
    expect(halfUnderA).toBeGreaterThan(0); // killed half-way: some rows still on A ...
    expect(halfUnderB).toBeGreaterThan(0); // ... and some already on B
    // Nothing unreadable in between: every row decrypts with the keys the servers hold.
    const both = createKeyring(newKey, [oldKey]);
    expect(half.messages.filter((row) => !both.hasKey(row.body_key_id!))).toEqual([]);
    for (const row of half.messages.filter((_, i) => i % 97 === 0)) expect(() => both.decrypt(row.body_ciphertext, row.body_key_id!)).not.toThrow();

    const resumed = await resources.cli(['keys', 'rotate'], rotatingEnv, dataDir, 90_000);
    mark('second rotation');
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(resumed.stdout).toMatch(/Every ciphertext is now under the primary key/);
    await sleep(300); // a few more sends after the rotation ended
    await load.stop();
    await socket.close();
    during.proc.child.kill('SIGTERM');
    expect((await exitWithin(during.proc, 15_000)).code).toBe(0);

    // Every send during the rotation was accepted.
    const sent = load.sent;
    expect(sent.length).toBeGreaterThan(20);
    expect(sent.filter((s) => s.result !== 201 && s.result !== 'ack')).toEqual([]);

    // ---- in the database: only B ----
    const after = await snapshot(target);
    const keyIds = {
      emails: [...new Set(after.users.map((u) => u.email_key_id))],
      descriptions: [...new Set(after.rooms.filter((r) => r.description_ciphertext !== null).map((r) => r.description_key_id))],
      bodies: [...new Set(after.messages.filter((m) => m.body_format === 'fernet').map((m) => m.body_key_id))],
      canary: [...new Set(after.canary.map((c) => c.key_id))],
    };
    expect(keyIds).toEqual({ emails: [B.primaryKeyId], descriptions: [B.primaryKeyId], bodies: [B.primaryKeyId], canary: [B.primaryKeyId] });
    for (const user of after.users) expect(user.email_index, user.username).toBe(B.blindIndex(emailOf(user.username)));

    // ---- a server with ONLY the new key reads everything back ----
    const onlyNew = { ...baseEnv, MASTER_ENCRYPTION_KEY: newKey };
    const reader = await resources.startServer(onlyNew, dataDir);
    mark('checks in the database, server on B alone');
    for (const name of [...Array.from({ length: USERS }, (_, i) => userName(i)), 'rot_newbie']) {
      const session = await logIn(reader.url, name);
      const me = await call<{ username: string; email: string }>(reader.url, 'GET', '/api/v1/me', { session });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ username: name, email: emailOf(name) });
    }
    const first = await logIn(reader.url, userName(0));
    const rooms = await call<Room[]>(reader.url, 'GET', '/api/v1/rooms', { session: first });
    expect(rooms.status).toBe(200);
    const descriptions = Object.fromEntries(rooms.body.map((room) => [room.name, room.description]));
    expect(descriptions).toEqual({
      ...Object.fromEntries(seeded.rooms.map((room) => [room.name, room.description ?? ''])),
      'Made during the rotation': 'Described under the new key',
    });
    let bodiesRead = 0;
    for (const room of seeded.rooms) {
      const messages = await readAll(reader.url, first, room.id);
      expect(sequenceProblems(messages), room.id).toEqual({ outOfPlace: [], duplicateClientIds: [] });
      const expected = [...room.bodies, ...sent.filter((s) => s.roomId === room.id).sort((a, b) => a.message!.seq - b.message!.seq).map((s) => s.body)];
      expect(messages.map((m) => m.body)).toEqual(expected);
      bodiesRead += messages.length;
    }
    mark('everything read through the API');
    reader.proc.child.kill('SIGTERM');
    expect((await exitWithin(reader.proc, 15_000)).code).toBe(0);

    // ---- a wrong key is refused, with one line, and changes nothing ----
    const before = await snapshot(target);
    const checksum = dialect === 'sqlite' ? await sqliteChecksum((target as { file: string }).file) : undefined;
    const wrongKey = generateFernetKey();
    for (const [label, env] of [
      ['a random key', { ...baseEnv, MASTER_ENCRYPTION_KEY: wrongKey }],
      ['the old key alone', { ...baseEnv, MASTER_ENCRYPTION_KEY: oldKey }],
    ] as const) {
      const refused = await resources.refusedServer(env, dataDir);
      expect(refused.code, label).not.toBe(0);
      expect(refused.signal, label).toBeNull();
      const lines = refused.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines, `${label}: ${refused.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(/^securechat: .*master key/i);
      expect(lines[0]).toContain('MASTER_ENCRYPTION_KEY');
      for (const key of [wrongKey, oldKey, newKey]) expect(lines[0]).not.toContain(key);
      expect(refused.stdout.trim(), label).toBe('');
      if (checksum) expect(await sqliteChecksum((target as { file: string }).file), label).toBe(checksum);
      expect(await snapshot(target), label).toEqual(before);
    }
    expect(existsSync(path.join(dataDir, 'master.key'))).toBe(false);
    mark('wrong keys refused');

    console.info(
      `[rotate-under-load ${dialect}] ${after.messages.length} messages, ${after.users.length} emails, ${keyIds.descriptions.length && after.rooms.filter((r) => r.description_ciphertext).length} descriptions; ` +
        `first run killed at ${progressAtKill!.done}/${progressAtKill!.total} (in the database then: ${halfUnderB} bodies under B, ${halfUnderA} under A); ` +
        `second run: ${/Re-encrypted (\d+)/.exec(resumed.stdout)?.[1]} re-encrypted; ${sent.length} sends during the rotation, all accepted; ${bodiesRead} bodies read back with B alone; ` +
        timings.join(', '),
    );
  });
});
