/**
 * The PostgreSQL message batch (messages/message-store.ts) locks its rooms in id order, so
 * two instances writing batches for the same rooms cannot deadlock: while it waits for a
 * room, it already holds every room with a smaller id, and none with a larger one. The
 * lock is FOR NO KEY UPDATE, the one its UPDATE of last_seq takes anyway: someone joining
 * a held room (a foreign key check, FOR KEY SHARE) does not wait for the batch. It moves
 * each sender's read marker; an owner's leave, which changes the room and member rows too,
 * locks the room first, so the two wait in one order.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createKeysRepository, ENCRYPTED_COLUMNS } from '../../src/server/keys/keys.repository.js';
import type { NewMessage } from '../../src/server/messages/message-batch.js';
import { createPostgresMessageStore } from '../../src/server/messages/message-store.js';
import { as, signUp, useTestApp, type Session } from '../support/app.js';
import { holdLock } from '../support/held-lock.js';
import { createRoom, joinRoom, newMessageRow } from '../support/factories.js';

describe('the PostgreSQL message batch', () => {
  const t = useTestApp('postgres');
  let alice: Session;
  let bob: Session;
  let rooms: string[];

  beforeAll(async () => {
    alice = await signUp(t.app);
    bob = await signUp(t.app);
    rooms = [];
    for (const name of ['Locks one', 'Locks two', 'Locks three']) {
      rooms.push((await createRoom(t.app, alice, { name, description: `about ${name}` })).id);
    }
    rooms.sort();
  });

  const message = (roomId: string): NewMessage => newMessageRow(roomId, alice.user.id);

  /** Whether another transaction can lock the room right now. */
  async function lockable(roomId: string): Promise<boolean> {
    try {
      await t.database.db.transaction().execute(async (trx) => {
        await sql`select id from rooms where id = ${roomId} for update nowait`.execute(trx);
      });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return false;
      throw error;
    }
  }

  /** Whether Bob could join the room right now (rolled back: he never stays). */
  async function joinable(roomId: string): Promise<boolean> {
    const rolledBack = new Error('roll back');
    try {
      await t.database.db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '500ms'`.execute(trx);
        await sql`insert into room_members (room_id, user_id, role, joined_at) values (${roomId}, ${bob.user.id}, 'member', ${Date.now()})`.execute(trx);
        throw rolledBack;
      });
    } catch (error) {
      if (error === rolledBack) return true;
      if ((error as { code?: string }).code === '55P03') return false;
      throw error;
    }
    return true;
  }

  /** Another writer holds the room until `release` is called. */
  async function holdRoom(roomId: string) {
    return holdLock(t.database.db, sql`select id from rooms where id = ${roomId} for update`);
  }

  it('while it waits for a room, holds the rooms before it in id order and none after', async () => {
    const [low, middle, high] = rooms as [string, string, string];
    const releaseMiddle = await holdRoom(middle);

    // Listed high first: the order in the batch must not matter.
    const batch = createPostgresMessageStore(t.database.db).insertBatch([message(high), message(middle), message(low)]);
    let highLockable: boolean;
    let lowJoinable: boolean;
    try {
      // The batch has reached the middle room once it holds the low one.
      await vi.waitFor(async () => expect(await lockable(low)).toBe(false), { timeout: 10_000, interval: 50 });
      highLockable = await lockable(high);
      lowJoinable = await joinable(low);
    } finally {
      await releaseMiddle();
    }
    expect(await batch).toHaveLength(3);
    expect(highLockable).toBe(true);
    expect(lowJoinable).toBe(true);
  });

  it('a key rotation batch over rooms takes them in the same order, so it cannot deadlock with a message batch', async () => {
    const [low, middle, high] = rooms as [string, string, string];
    const descriptions = ENCRYPTED_COLUMNS.find((column) => column.table === 'rooms')!;
    const stored = await t.database.db.selectFrom('rooms').select(['id', 'description_ciphertext']).where('id', 'in', rooms).execute();
    const replacement = (id: string) => {
      const ciphertext = stored.find((row) => row.id === id)!.description_ciphertext!;
      return { row: { id, ciphertext }, ciphertext: `${ciphertext}-rotated`, keyId: 'k2' };
    };
    // Rewritten high first, so the table holds them in reverse id order: an UPDATE that
    // locked rows as its scan meets them would take the high room, then wait for the middle.
    for (const id of [high, middle, low]) await sql`update rooms set name = name where id = ${id}`.execute(t.database.db);
    const releaseMiddle = await holdRoom(middle);

    const rotation = createKeysRepository('postgres').replaceCiphertexts(t.database.db, descriptions, [high, middle, low].map(replacement));
    let highLockable: boolean;
    try {
      await vi.waitFor(async () => expect(await lockable(low)).toBe(false), { timeout: 10_000, interval: 50 });
      highLockable = await lockable(high);
    } finally {
      await releaseMiddle();
    }
    expect(await rotation).toBe(3);
    expect(highLockable).toBe(true);
  });

  it('moves the sender\'s read marker; an owner handing the room over mid-batch takes the room first, so neither deadlocks', async () => {
    const room = (await createRoom(t.app, alice, { name: 'Locks leave' })).id;
    await joinRoom(t.app, bob, room);
    const markerOf = async (userId: string) =>
      (await t.database.db.selectFrom('room_members').select('last_read_seq').where('room_id', '=', room).where('user_id', '=', userId).executeTakeFirst())
        ?.last_read_seq;
    const [seq] = await createPostgresMessageStore(t.database.db).insertBatch([message(room)]);
    expect(Number(await markerOf(alice.user.id))).toBe(seq);

    // Both queue behind a writer holding the room: the batch (Alice's message: it will want
    // her member row) first, then her hand-over as owner (it wants her row and the room). Had
    // the hand-over locked her row before the room, the two would wait for each other.
    const releaseRoom = await holdRoom(room);
    const batch = createPostgresMessageStore(t.database.db).insertBatch([message(room)]);
    await vi.waitFor(async () => expect(await waitingOn()).toBe(1), { timeout: 10_000, interval: 20 });
    const leave = t.app.inject({ method: 'PUT', url: `/api/v1/rooms/${room}/owner`, headers: as(alice), payload: { userId: bob.user.id } });
    await vi.waitFor(async () => expect(await waitingOn()).toBe(2), { timeout: 10_000, interval: 20 });
    await releaseRoom();
    const [next] = await batch;
    expect((await leave).statusCode).toBe(204);
    expect(next).toBe(seq! + 1);
    const owner = await t.database.db.selectFrom('rooms').select('owner_id').where('id', '=', room).executeTakeFirstOrThrow();
    expect(owner.owner_id).toBe(bob.user.id);
  });

  /** How many of this database's sessions wait for a lock right now (the room's row is the only one held). */
  async function waitingOn(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
    `.execute(t.database.db);
    return rows[0]!.n;
  }
});
