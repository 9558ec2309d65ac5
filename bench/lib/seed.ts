/**
 * Seeding by direct inserts. Registering thousands of users through HTTP would spend
 * ~100 ms of scrypt each, and sending 100,000 messages through the API is what the other
 * scenarios measure; so bench data goes straight into the tables, encrypted with the
 * same keyring the server uses (it verifies the key against this data at start).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import cookiePlugin from '@fastify/cookie';
import type { Kysely } from 'kysely';
import type { Keyring } from '../../src/server/crypto/keyring.js';
import type { DatabaseHandle } from '../../src/server/db/database.js';
import { hashPassword } from '../../src/server/crypto/passwords.js';
import type { Database, MessagesTable, RoomMembersTable, SessionsTable, UsersTable } from '../../src/server/db/schema.js';

/** The password of every bench user (never a real one). */
export const BENCH_PASSWORD = 'bench-password-7Qx!';
const DAY_MS = 24 * 60 * 60 * 1000;
const CHUNK = 500;

export interface SeedContext {
  db: Kysely<Database>;
  /** The open database `db` belongs to (for the server's message store: seeding through its group commit). */
  database: DatabaseHandle;
  keyring: Keyring;
  sessionSecret: string;
  /** The session cookie's name under the server's configuration (`sessionCookieName`). */
  cookieName: string;
}

export interface BenchUser {
  id: string;
  username: string;
  /** `Cookie` header value for the user's session (when seeded with one). */
  cookie: string;
}

let passwordHash: Promise<string> | undefined;
/** One production-cost (scrypt N=32768, r=8, p=1) hash of BENCH_PASSWORD, shared by all bench users. */
export function benchPasswordHash(): Promise<string> {
  passwordHash ??= hashPassword(BENCH_PASSWORD);
  return passwordHash;
}

async function insertChunked<T>(items: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await insert(items.slice(i, i + CHUNK));
}

/** Signs a session token the way @fastify/cookie does for the server's signed cookie. */
export function sessionCookie(cookieName: string, token: string, secret: string): string {
  return `${cookieName}=${encodeURIComponent(cookiePlugin.sign(token, secret))}`;
}

/**
 * Inserts `count` users named `<prefix>-<n>` (email encrypted, blind index, the shared
 * password hash) and, with `sessions`, a 30-day session for each: a signed cookie for
 * the client, the token's SHA-256 in the table — what a login would have produced.
 */
export async function seedUsers(ctx: SeedContext, prefix: string, count: number, options: { sessions: boolean }): Promise<BenchUser[]> {
  const hash = await benchPasswordHash();
  const now = Date.now();
  const users: UsersTable[] = [];
  const sessions: SessionsTable[] = [];
  const out: BenchUser[] = [];
  for (let i = 0; i < count; i++) {
    const username = `${prefix}-${i}`;
    const email = `${username}@bench.invalid`;
    const encrypted = ctx.keyring.encrypt(email);
    const user: UsersTable = {
      id: randomUUID(),
      username,
      username_key: username.toLowerCase(),
      email_ciphertext: encrypted.ciphertext,
      email_key_id: encrypted.keyId,
      email_index: ctx.keyring.blindIndex(email),
      password_hash: hash,
      created_at: now,
    };
    users.push(user);
    let cookie = '';
    if (options.sessions) {
      const token = randomBytes(32).toString('base64url');
      sessions.push({
        id: randomUUID(),
        token_hash: createHash('sha256').update(token).digest('hex'),
        user_id: user.id,
        remember_me: 1,
        created_at: now,
        last_seen_at: now,
        expires_at: now + 30 * DAY_MS,
        user_agent: 'securechat-bench',
        ip: '127.0.0.1',
      });
      cookie = sessionCookie(ctx.cookieName, token, ctx.sessionSecret);
    }
    out.push({ id: user.id, username, cookie });
  }
  await ctx.db.transaction().execute(async (trx) => {
    await insertChunked(users, (chunk) => trx.insertInto('users').values(chunk).execute());
    await insertChunked(sessions, (chunk) => trx.insertInto('sessions').values(chunk).execute());
  });
  return out;
}

/** Inserts public rooms `<prefix>-<n>`, one per member list (the first member owns it); returns their ids. */
export async function seedRooms(ctx: SeedContext, prefix: string, memberLists: ReadonlyArray<readonly string[]>): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  const members: RoomMembersTable[] = [];
  const rooms = memberLists.map((memberIds, i) => {
    const id = randomUUID();
    ids.push(id);
    memberIds.forEach((userId, j) =>
      members.push({ room_id: id, user_id: userId, role: j === 0 ? 'owner' : 'member', joined_at: now, last_read_seq: 0 }),
    );
    const name = `${prefix}-${i}`;
    return {
      id,
      name,
      name_key: name.toLowerCase(),
      description_ciphertext: null,
      description_key_id: null,
      is_private: 0,
      owner_id: memberIds[0] as string,
      last_seq: 0,
      created_at: now,
    };
  });
  await ctx.db.transaction().execute(async (trx) => {
    await insertChunked(rooms, (chunk) => trx.insertInto('rooms').values(chunk).execute());
    await insertChunked(members, (chunk) => trx.insertInto('room_members').values(chunk).execute());
  });
  return ids;
}

/** A body of exactly `bytes` ASCII characters. */
export function benchBody(label: string, bytes: number): string {
  return label.length >= bytes ? label.slice(0, bytes) : label + 'x'.repeat(bytes - label.length);
}

/**
 * Appends `count` messages to a room (seq after its last_seq, senders taking turns),
 * each body encrypted by `keyring` as the server would, in transactions of 500 rows.
 */
export async function seedMessages(
  ctx: SeedContext,
  roomId: string,
  senderIds: readonly string[],
  count: number,
  bodyBytes = 100,
  onProgress?: (done: number) => void,
): Promise<void> {
  const room = await ctx.db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow();
  const first = Number(room.last_seq) + 1;
  const start = Date.now() - count;
  for (let offset = 0; offset < count; offset += CHUNK) {
    const rows: MessagesTable[] = [];
    for (let i = offset; i < Math.min(count, offset + CHUNK); i++) {
      const seq = first + i;
      const { ciphertext, keyId } = ctx.keyring.encrypt(benchBody(`seed message ${seq} `, bodyBytes));
      rows.push({
        id: randomUUID(),
        room_id: roomId,
        seq,
        sender_id: senderIds[i % senderIds.length] as string,
        client_id: `seed-${seq}`,
        body_format: 'fernet',
        body_ciphertext: ciphertext,
        body_key_id: keyId,
        created_at: start + i,
        edited_at: null,
      });
    }
    const last = first + offset + rows.length - 1;
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values(rows).execute();
      await trx.updateTable('rooms').set({ last_seq: last }).where('id', '=', roomId).execute();
    });
    onProgress?.(offset + rows.length);
  }
}
