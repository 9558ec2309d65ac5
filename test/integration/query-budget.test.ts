/**
 * The hot paths have a query budget: sending a message and reading a page must not grow
 * queries with the number of members or messages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { as, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, myRooms, sendMessage } from '../support/factories.js';
import { createSessionsRepository } from '../../src/server/auth/sessions.repository.js';
import { createRoomsRepository } from '../../src/server/rooms/rooms.repository.js';
import { randomUUID } from 'node:crypto';
import { storedUpload } from '../support/stored-uploads.js';

describe.each(DIALECTS)('query budget on %s', (dialect) => {
  // Files in the database storage: the uploads below leave nothing on disk.
  const t = useTestApp(dialect, { FILE_STORAGE: 'database' });
  let alice: Session;
  let roomId: string;

  beforeAll(async () => {
    alice = await signUp(t.app);
    for (let i = 0; i < 5; i += 1) await signUp(t.app); // more members in General
    roomId = (await myRooms(t.app, alice))[0]!.id;
    for (let i = 0; i < 60; i += 1) await sendMessage(t.app, alice, roomId, `m${i}`, `seed-${i}`);
  });

  /** Queries run by the request, not counting the session lookup every request makes. */
  async function queriesFor(run: () => Promise<unknown>): Promise<string[]> {
    t.queries.length = 0;
    await run();
    return t.queries.filter((sql) => !/from "sessions"/.test(sql));
  }

  it('sends a message with one authorization query and one write (SQLite: a transaction of three statements; PostgreSQL: one statement)', async () => {
    const queries = await queriesFor(() =>
      t.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(alice), payload: { body: 'hi', clientId: 'budget-1' } }),
    );
    const write =
      dialect === 'sqlite'
        ? // The writer thread's transaction takes the write lock at once; the sender's read marker moves in it.
          ['begin immediate', 'update "rooms" set', 'insert into "messages"', 'update "room_members" set', 'commit']
        : ['with locked as'];
    expect(queries.map((sql) => sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual(['select "rooms"."id", "rooms"."is_private",', ...write]);
  });

  it('sends a message with files with one more read (their check) and attaches them in the write’s own transaction', async () => {
    // A room of its own: the pages read below stay without files (a page with files costs one more query).
    const filesRoom = (await createRoom(t.app, alice)).id;
    const files = [await storedUpload(t, { roomId: filesRoom, uploaderId: alice.user.id }), await storedUpload(t, { roomId: filesRoom, uploaderId: alice.user.id })];
    const queries = await queriesFor(() =>
      t.app.inject({ method: 'POST', url: `/api/v1/rooms/${filesRoom}/messages`, headers: as(alice), payload: { body: 'files', clientId: 'budget-files', attachments: files.map((f) => f.id) } }),
    );
    const write =
      dialect === 'sqlite'
        ? ['begin immediate', 'update "rooms" set', 'insert into "messages"', 'update "files" set', 'update "room_members" set', 'commit']
        : ['begin', 'with locked as', 'commit'];
    const heads = queries.map((sql) => sql.trim().split(/\s+/).slice(0, 3).join(' '));
    expect(heads.slice(0, 2).sort()).toEqual(['select "id", "room_id",', 'select "rooms"."id", "rooms"."is_private",'].sort());
    expect(heads.slice(2)).toEqual(write);
  });

  it('writes a batch of several messages with the same statement texts as a batch of one', async () => {
    const send = (clientId: string) =>
      t.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(alice), payload: { body: clientId, clientId } });
    const writes = (queries: string[]) => new Set(queries.filter((sql) => !/^\s*select\b/.test(sql))); // not the access checks
    const alone = writes(await queriesFor(() => send('texts-1')));
    const together = writes(await queriesFor(() => Promise.all([send('texts-2'), send('texts-3'), send('texts-4')])));
    // Prepared once (SQLite's writer thread), or parsed from the same text (PostgreSQL's one
    // statement takes its rows as arrays): a batch's size never makes a new statement.
    expect(together).toEqual(alone);
    expect(alone.size).toBe(dialect === 'sqlite' ? 5 : 1);
  });

  it('looks sessions up together (one query, one text for any number) exactly as it looks each up alone', async () => {
    await signUp(t.app);
    const hashes = (await t.database.db.selectFrom('sessions').select('token_hash').execute()).map((row) => row.token_hash).slice(0, 3);
    expect(hashes).toHaveLength(3);
    const sessions = createSessionsRepository(t.database.dialect);
    const asked = [...hashes, 'f'.repeat(64), hashes[0]!, '"]\\'];
    const one = await Promise.all(asked.map((hash) => sessions.findWithUserByTokenHash(t.database.db, hash)));
    t.queries.length = 0;
    const together = await sessions.findWithUserByTokenHashes(t.database.db, asked);
    expect(t.queries).toHaveLength(1);
    expect(together).toEqual(one);
    expect(one.map((row) => row?.token_hash ?? null)).toEqual([...hashes, null, hashes[0], null]);
    const [textForSix] = t.queries.splice(0);
    await sessions.findWithUserByTokenHashes(t.database.db, hashes.slice(0, 2));
    expect(t.queries).toEqual([textForSix]);
  });

  it('answers access checks asked together (one query) exactly as it answers each alone', async () => {
    const bob = await signUp(t.app);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(alice), payload: { name: `p-${randomUUID().slice(0, 8)}`, isPrivate: true } });
    expect(created.statusCode).toBe(201);
    const privateId: string = created.json().room.id;
    const rooms = createRoomsRepository(t.database.dialect);
    const pairs = [alice, bob].flatMap((who) => [roomId, privateId, randomUUID()].map((room) => ({ userId: who.user.id, roomId: room })));
    pairs.push(pairs[0]!); // asked twice in one burst
    // Ids from a socket frame are any string: none may break the JSON the pairs travel in.
    pairs.push({ userId: bob.user.id, roomId: '"}]\\' }, { userId: alice.user.id, roomId: '\ud800' });
    const one = await Promise.all(pairs.map((pair) => rooms.findAccess(t.database.db, pair.userId, pair.roomId)));
    t.queries.length = 0;
    const together = await rooms.findAccessMany(t.database.db, pairs);
    expect(t.queries).toHaveLength(1);
    expect(together).toEqual(one);
    // One statement text for any number of pairs, so it is prepared once.
    const [textForNine] = t.queries.splice(0);
    await rooms.findAccessMany(t.database.db, pairs.slice(0, 2));
    expect(t.queries).toEqual([textForNine]);
    // Not vacuous: owners, a member, a stranger to the private room, and no room at all.
    expect(one.map((access) => access?.role ?? (access ? 'none' : 'missing'))).toEqual(['owner', 'owner', 'missing', 'member', 'none', 'missing', 'owner', 'missing', 'missing']);
  });

  it('reads a page of 50 with one authorization query and one select', async () => {
    const queries = await queriesFor(() => t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?limit=50`, headers: as(alice) }));
    expect(queries).toHaveLength(2);
    // The two run side by side, so either may be logged first.
    expect(queries.filter((sql) => /from "messages" inner join "users"/.test(sql))).toHaveLength(1);
  });

  it('catches up with one authorization query and one select', async () => {
    const queries = await queriesFor(() => t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?after=10`, headers: as(alice) }));
    expect(queries).toHaveLength(2);
  });
});
