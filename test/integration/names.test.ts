/**
 * Names that read or look alike (Unicode TR39 skeletons) cannot both be taken: usernames,
 * and public room names among public rooms. Private rooms reserve no name, so creating a
 * room never tells an outsider that a private one of that name exists. On SQLite and
 * PostgreSQL, including the upgrade of a database that already holds names.
 */
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/server/db/database.js';
import type { Database } from '../../src/server/db/schema.js';
import { migrateTo, migrateToLatest } from '../../src/server/db/migrate.js';
import { nameKeys } from '../../src/server/names/name-keys.js';
import { as, signUp, startTestApp, TEST_PASSWORD, useTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, DIALECTS } from '../support/databases.js';

let counter = 0;
// Names built of letters the skeleton leaves alone, so each test's base is clear of the others'.
const fresh = (base: string) => `${base}${'abcdefghjk'[++counter % 10]}${'pqrstuvwxyz'[Math.floor(counter / 10) % 11]}${Date.now().toString(36).replace(/[0-9]/g, 'x')}`;

describe.each(DIALECTS)('names on %s', (dialect) => {
  const t = useTestApp(dialect);
  const register = (username: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { username, email: `${username.toLowerCase()}.${++counter}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
    });
  const createRoom = (session: Parameters<typeof as>[0], name: string, isPrivate = false) =>
    t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(session), payload: { name, isPrivate } });
  const countRooms = async () => Number((await t.database.db.selectFrom('rooms').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('usernames', () => {
    it('refuses a username that reads or looks like a taken one, in any case', async () => {
      const alice = fresh('alice');
      expect((await register(alice)).statusCode).toBe(201);
      const lookAlikes = [alice.replace('l', 'I'), alice.toUpperCase(), alice.replace('l', '1'), alice.replace('a', 'A').replace('l', 'I')];
      for (const name of lookAlikes) {
        const response = await register(name);
        expect(response.statusCode, name).toBe(409);
        expect(response.json().error, name).toMatchObject({ code: 'username_taken', field: 'username' });
      }
      // Different letters stay different names.
      expect((await register(alice.replace('l', 'i'))).statusCode).toBe(201);
    });

    it('refuses the plain name once its look-alike is taken', async () => {
      const base = fresh('mallory');
      expect((await register(base.replace('m', 'rn').replace(/l/g, 'I'))).statusCode).toBe(201);
      expect((await register(base)).statusCode).toBe(409);
    });

    it('lets exactly one of two look-alikes registering at once have the name', async () => {
      const base = fresh('carol');
      const answers = await Promise.all([register(base), register(base.replace('l', 'I')), register(base.toUpperCase())]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409, 409]);
      const taken = answers.filter((answer) => answer.statusCode === 409).map((answer) => answer.json().error.code);
      expect(taken).toEqual(['username_taken', 'username_taken']);
    });

    it('refuses letters outside the allowed set, such as a Cyrillic а', async () => {
      const response = await register(`\u0430${fresh('lice')}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field: 'username' });
    });
  });

  describe('room names', () => {
    it('refuses a public room whose name looks like a public one: Cyrillic letters, other case, digits', async () => {
      const owner = await signUp(t.app);
      const name = `Lounge ${fresh('')}`;
      expect((await createRoom(owner, name)).statusCode).toBe(201);
      const before = await countRooms();
      for (const lookAlike of [name.replace(/o/g, '\u043E').replace(/e/g, '\u0435'), name.toUpperCase(), name.replace('L', 'I'), name.replace('o', '0')]) {
        const response = await createRoom(owner, lookAlike);
        expect(response.statusCode, lookAlike).toBe(409);
        expect(response.json().error, lookAlike).toMatchObject({ code: 'room_name_taken', field: 'name' });
      }
      expect(await countRooms()).toBe(before);
    });

    it('lets exactly one of two look-alike public rooms created at once have the name', async () => {
      const owner = await signUp(t.app);
      const name = `Studio ${fresh('')}`;
      const before = await countRooms();
      const answers = await Promise.all([createRoom(owner, name), createRoom(owner, name.replace('o', '\u043E')), createRoom(owner, name.toLowerCase())]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409, 409]);
      expect(await countRooms()).toBe(before + 1);
    });

    it.each([
      ['a zero-width space', 'Gen\u200Beral'],
      ['a Hangul filler', 'Gen\u3164eral'],
      ['a right-to-left override', 'Gen\u202Eeral'],
      ['a no-break space', 'Gen\u00A0eral'],
      ['a soft hyphen', 'Gen\u00ADeral'],
      ['a blank Braille pattern', 'Gen\u2800eral'],
    ])('refuses a room name with %s', async (_what, name) => {
      const owner = await signUp(t.app);
      const before = await countRooms();
      const response = await createRoom(owner, name, true);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field: 'name', message: expect.stringMatching(/invisible characters/) });
      expect(await countRooms()).toBe(before);
    });

    it('accepts an emoji with its presentation selector', async () => {
      const owner = await signUp(t.app);
      expect((await createRoom(owner, `Coffee \u2615\uFE0F ${fresh('')}`)).statusCode).toBe(201);
    });

    it('lets a private room reserve no name: an outsider creates that name, public or private, and joins only the public one by name', async () => {
      const insider = await signUp(t.app);
      const outsider = await signUp(t.app);
      const name = `Hideout ${fresh('')}`;
      const hidden = (await createRoom(insider, name, true)).json().room;
      expect((await createRoom(insider, name, true)).statusCode).toBe(201);
      expect((await createRoom(outsider, name, true)).statusCode).toBe(201);
      const open = await createRoom(outsider, name);
      expect(open.statusCode).toBe(201);
      const third = await signUp(t.app);
      const joined = await t.app.inject({ method: 'POST', url: '/api/v1/rooms/join', headers: as(third), payload: { name } });
      expect(joined.statusCode).toBe(200);
      expect(joined.json().room.id).toBe(open.json().room.id);
      expect(joined.json().room.id).not.toBe(hidden.id);
    });
  });

  describe('General', () => {
    // As migration 007 leaves a database where a public look-alike of General is older than
    // General: the look-alike holds General's name keys.
    const LOOK_ALIKE = 'G\u0435n\u0435r\u0430l'; // Cyrillic е, е, а
    async function giveGeneralsKeysToALookAlike(t: TestApp, ownerId: string): Promise<string> {
      const db = t.database.db;
      await db.insertInto('rooms').values({
        id: 'look-alike', name: LOOK_ALIKE, name_key: LOOK_ALIKE.toLowerCase(), description_ciphertext: null, description_key_id: null,
        is_private: 0, owner_id: ownerId, last_seq: 0, created_at: 0,
      }).execute();
      await db.updateTable('room_name_keys').set({ room_id: 'look-alike' }).where('key', 'in', nameKeys('General')).execute();
      return 'look-alike';
    }
    const membersOf = async (t: TestApp, roomId: string) =>
      (await t.database.db.selectFrom('room_members').select(['user_id', 'role']).where('room_id', '=', roomId).execute());
    const exactGenerals = (t: TestApp) => t.database.db.selectFrom('rooms').selectAll().where('name', '=', 'General').where('is_private', '=', 0).execute();

    it('puts a new user into General itself, not into an older look-alike holding its keys', async () => {
      const t = await startTestApp(dialect);
      try {
        const first = await signUp(t.app);
        const lookAlike = await giveGeneralsKeysToALookAlike(t, first.user.id);
        const second = await signUp(t.app);
        const [general] = await exactGenerals(t);
        expect(await membersOf(t, general!.id)).toEqual(expect.arrayContaining([{ user_id: second.user.id, role: 'member' }]));
        expect(await membersOf(t, lookAlike)).toEqual([]);
        // The look-alike keeps the keys: a third look-alike is still refused.
        const third = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(second), payload: { name: 'GENERAL' } });
        expect(third.statusCode).toBe(409);
      } finally {
        await t.close();
      }
    });

    it('creates General on first need although a look-alike holds its keys, once for registrations at once', async () => {
      const t = await startTestApp(dialect);
      try {
        const first = await signUp(t.app);
        const lookAlike = await giveGeneralsKeysToALookAlike(t, first.user.id);
        // No General (as if it never was): the next registrations must make exactly one.
        const db = t.database.db;
        const [old] = await exactGenerals(t);
        await db.deleteFrom('room_members').where('room_id', '=', old!.id).execute();
        await db.deleteFrom('rooms').where('id', '=', old!.id).execute();
        const newcomers = await Promise.all([signUp(t.app), signUp(t.app), signUp(t.app)]);
        const generals = await exactGenerals(t);
        expect(generals).toHaveLength(1);
        const members = await membersOf(t, generals[0]!.id);
        expect(members.map((m) => m.user_id).sort()).toEqual(newcomers.map((n) => n.user.id).sort());
        expect(members.filter((m) => m.role === 'owner').map((m) => m.user_id)).toEqual([generals[0]!.owner_id]);
        expect(await membersOf(t, lookAlike)).toEqual([]);
      } finally {
        await t.close();
      }
    });
  });

  it('refuses to undo migration 007, saying it is one-way, and changes nothing', async () => {
    const testDatabase = await createTestDatabase(dialect);
    const database = openDatabase(testDatabase.target);
    try {
      await migrateToLatest(database.db);
      await expect(migrateTo(database.db, '006-invite-revocation')).rejects.toThrow(/007-name-keys is one-way.*restore the backup/);
      // Still the 007 schema: its tables are there and the migration is still recorded.
      expect(await database.db.selectFrom('room_name_keys').selectAll().execute()).toEqual([]);
      expect(await database.db.selectFrom('username_keys').selectAll().execute()).toEqual([]);
      // (Later migrations, undone on the way down before 007 refused, run again.)
      expect(await migrateToLatest(database.db)).not.toContain('007-name-keys');
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });

  /** The rooms table's indexes: name and whether unique. */
  async function roomsIndexes(db: Kysely<Database>): Promise<Array<{ name: string; unique: boolean; columns: string }>> {
    if (dialect === 'sqlite') {
      const names = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'rooms' order by name`.execute(db);
      const indexes = [];
      for (const { name } of names.rows) {
        const list = await sql<{ name: string; unique: number }>`pragma index_list(rooms)`.execute(db);
        const columns = await sql<{ name: string }>`select name from pragma_index_info(${name}) order by seqno`.execute(db);
        indexes.push({ name, unique: list.rows.find((row) => row.name === name)!.unique === 1, columns: columns.rows.map((c) => c.name).join(',') });
      }
      return indexes;
    }
    const rows = await sql<{ indexname: string; indexdef: string }>`select indexname, indexdef from pg_indexes where tablename = 'rooms' order by indexname`.execute(db);
    return rows.rows.map((row) => ({ name: row.indexname, unique: /^create unique/i.test(row.indexdef), columns: /\((.*)\)$/.exec(row.indexdef)![1]!.replace(/\s/g, '') }));
  }

  /** Every foreign key from or to rooms: "table.column -> table.column ON DELETE action". */
  async function roomsForeignKeys(db: Kysely<Database>): Promise<string[]> {
    const tables = ['rooms', 'room_members', 'messages', 'room_invites', 'room_bans', 'room_name_keys'];
    const keys: string[] = [];
    if (dialect === 'sqlite') {
      for (const table of tables) {
        const rows = await sql<{ table: string; from: string; to: string; on_delete: string }>`select * from pragma_foreign_key_list(${table})`.execute(db);
        for (const row of rows.rows) keys.push(`${table}.${row.from} -> ${row.table}.${row.to} ${row.on_delete}`);
      }
    } else {
      const rows = await sql<{ key: string }>`
        select kcu.table_name || '.' || kcu.column_name || ' -> ' || ccu.table_name || '.' || ccu.column_name || ' ' || rc.delete_rule as key
        from information_schema.referential_constraints rc
        join information_schema.key_column_usage kcu on kcu.constraint_name = rc.constraint_name and kcu.constraint_schema = rc.constraint_schema
        join information_schema.constraint_column_usage ccu on ccu.constraint_name = rc.unique_constraint_name and ccu.constraint_schema = rc.unique_constraint_schema
        where kcu.table_schema = current_schema() and kcu.table_name in (${sql.join(tables)})`.execute(db);
      keys.push(...rows.rows.map((row) => row.key));
    }
    return keys.filter((key) => key.startsWith('rooms.') || key.includes('-> rooms.')).sort();
  }

  it('reserves the names of an existing database oldest first, keeping clashing rows, the rooms table\'s indexes and keys, and every row that hangs off a room', async () => {
    const testDatabase = await createTestDatabase(dialect);
    const database = openDatabase(testDatabase.target);
    try {
      await migrateTo(database.db, '006-invite-revocation');
      const db = database.db;
      const user = (id: string, username: string, createdAt: number) => ({
        id, username, username_key: username.toLowerCase(), email_ciphertext: 'x', email_key_id: 'k', email_index: `i-${id}`, password_hash: 'h', created_at: createdAt,
      });
      await db.insertInto('users').values([user('u1', 'alice', 1), user('u2', 'aIice', 2), user('u3', 'carol', 3)]).execute();
      const room = (id: string, name: string, isPrivate: number, createdAt: number) => ({
        id, name, name_key: name.toLowerCase(), description_ciphertext: null, description_key_id: null, is_private: isPrivate, owner_id: 'u1', last_seq: 1, created_at: createdAt,
      });
      await db.insertInto('rooms').values([room('r1', 'Lounge', 0, 1), room('r2', 'L\u043Eunge', 0, 2), room('r3', 'Hideout', 1, 3)]).execute();
      const members = [
        { room_id: 'r1', user_id: 'u2', role: 'member' as const, joined_at: 1, last_read_seq: 0 },
        { room_id: 'r3', user_id: 'u1', role: 'owner' as const, joined_at: 3, last_read_seq: 1 },
      ];
      await db.insertInto('room_members').values(members).execute();
      const messages = [
        { id: 'm1', room_id: 'r1', seq: 1, sender_id: 'u2', client_id: 'c1', body_format: 'fernet', body_ciphertext: 'x', body_key_id: null, created_at: 1, edited_at: null },
        { id: 'm2', room_id: 'r3', seq: 1, sender_id: 'u1', client_id: 'c2', body_format: 'fernet', body_ciphertext: 'y', body_key_id: null, created_at: 3, edited_at: null },
      ];
      await db.insertInto('messages').values(messages).execute();
      const invites = [
        { id: 'i1', room_id: 'r3', code_hash: 'h1', created_by: 'u1', created_at: 3, expires_at: null, max_uses: 5, uses: 1, revoked_at: null },
        { id: 'i2', room_id: 'r3', code_hash: 'h2', created_by: 'u1', created_at: 4, expires_at: 99, max_uses: null, uses: 0, revoked_at: 5 },
      ];
      await db.insertInto('room_invites').values(invites).execute();
      const exclusions = [{ invite_id: 'i1', user_id: 'u3' }];
      await db.insertInto('room_invite_exclusions').values(exclusions).execute();
      const bans = [{ room_id: 'r3', user_id: 'u3', banned_by: 'u1', created_at: 4 }];
      await db.insertInto('room_bans').values(bans).execute();
      const indexesBefore = await roomsIndexes(db);
      const keysBefore = await roomsForeignKeys(db);

      expect((await migrateToLatest(db))[0]).toBe('007-name-keys'); // later migrations follow it

      expect(await db.selectFrom('username_keys').selectAll().orderBy('key').execute()).toEqual([
        { key: 'aiice', user_id: 'u2' },
        { key: 'alice', user_id: 'u1' },
        { key: 'carol', user_id: 'u3' },
      ]);
      expect(await db.selectFrom('room_name_keys').selectAll().execute()).toEqual([{ key: 'lounge', room_id: 'r1' }]);
      expect((await db.selectFrom('rooms').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);

      // Every row that hangs off a room is still there, as it was.
      const numbers = <T extends object>(rows: T[]) => rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])));
      expect(await db.selectFrom('room_members').selectAll().orderBy('room_id').execute()).toEqual(members);
      expect(numbers(await db.selectFrom('messages').selectAll().orderBy('id').execute())).toEqual(messages);
      expect(numbers(await db.selectFrom('room_invites').selectAll().orderBy('id').execute())).toEqual(invites);
      expect(await db.selectFrom('room_invite_exclusions').selectAll().execute()).toEqual(exclusions);
      expect(numbers(await db.selectFrom('room_bans').selectAll().execute())).toEqual(bans);

      // The same indexes on rooms, but name_key's is no longer unique, plus the plain name_key index.
      const indexesAfter = await roomsIndexes(db);
      expect(indexesAfter.filter((index) => index.columns !== 'name_key')).toEqual(indexesBefore.filter((index) => index.columns !== 'name_key'));
      expect(indexesBefore.filter((index) => index.columns === 'name_key').map((index) => index.unique)).toEqual([true]);
      expect(indexesAfter.filter((index) => index.columns === 'name_key')).toEqual([{ name: 'rooms_name_key', unique: false, columns: 'name_key' }]);
      expect(indexesAfter.filter((index) => index.columns === 'id')).toEqual([expect.objectContaining({ unique: true })]);
      // The same foreign keys from rooms (its owner) and to it (members, messages, invites, bans), with their cascades.
      expect(keysBefore).toEqual(expect.arrayContaining(['rooms.owner_id -> users.id NO ACTION', 'room_members.room_id -> rooms.id CASCADE', 'messages.room_id -> rooms.id CASCADE', 'room_invites.room_id -> rooms.id CASCADE', 'room_bans.room_id -> rooms.id CASCADE']));
      expect((await roomsForeignKeys(db)).filter((key) => !key.startsWith('room_name_keys.'))).toEqual(keysBefore);
      expect(await roomsForeignKeys(db)).toContain('room_name_keys.room_id -> rooms.id CASCADE');

      // name_key is no longer unique: another private Hideout fits beside the first.
      await db.insertInto('rooms').values(room('r4', 'Hideout', 1, 4)).execute();
      // The foreign keys are enforced after SQLite's table rebuild, and still cascade.
      await expect(db.insertInto('room_members').values({ room_id: 'nope', user_id: 'u1', role: 'member', joined_at: 1, last_read_seq: 0 }).execute()).rejects.toThrow();
      await db.deleteFrom('rooms').where('id', '=', 'r3').execute();
      for (const table of ['room_members', 'messages', 'room_invites', 'room_bans'] as const) {
        expect(await db.selectFrom(table).select('room_id').where('room_id', '=', 'r3').execute(), table).toEqual([]);
      }
      expect(await db.selectFrom('room_invite_exclusions').selectAll().execute()).toEqual([]);
    } finally {
      await database.close();
      await testDatabase.drop();
    }
  });
});
