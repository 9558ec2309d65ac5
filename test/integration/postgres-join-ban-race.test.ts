/**
 * A ban issued while a join is in flight holds: the ban check and the member
 * insert of a join, a join by name or an accepted invite are one transaction, and a ban
 * takes the same (room, user) lock, so whichever comes second sees the first. Made
 * deterministic on PostgreSQL: another transaction holds room_members (SHARE), so the join
 * stops at its insert, after its ban check; the ban is sent then; the hold is released.
 */
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { as, signUp, useTestApp, type Session } from '../support/app.js';
import { holdLock } from '../support/held-lock.js';
import { createInvite, createRoom } from '../support/factories.js';

describe('a ban racing a join on PostgreSQL', () => {
  const t = useTestApp('postgres');

  /** How many of this database's sessions wait for a lock right now. */
  async function waitingOn(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
    `.execute(t.database.db);
    return rows[0]!.n;
  }

  /** Holds room_members against writes (reads go on) until the returned function is called. */
  async function holdMemberships() {
    return holdLock(t.database.db, sql`lock table room_members in share mode`);
  }

  const isMember = async (roomId: string, userId: string) =>
    (await t.database.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()) !==
    undefined;

  it.each([
    ['a join', 'public'],
    ['a join by name', 'public'],
    ['an invite accepted', 'private'],
  ] as const)('%s in flight: the ban holds once both finish', async (how, kind) => {
    const owner = await signUp(t.app);
    const joiner = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: kind === 'private' });
    const code = kind === 'private' ? (await createInvite(t.app, owner, room.id)).code : '';
    const joinRequest = (session: Session) =>
      how === 'a join'
        ? t.app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/join`, headers: as(session) })
        : how === 'a join by name'
          ? t.app.inject({ method: 'POST', url: '/api/v1/rooms/join', headers: as(session), payload: { name: room.name } })
          : t.app.inject({ method: 'POST', url: `/api/v1/invites/${code}/accept`, headers: as(session) });

    const release = await holdMemberships();
    let banSettled = false;
    let join: ReturnType<typeof joinRequest>;
    let ban: Promise<{ statusCode: number }>;
    try {
      join = joinRequest(joiner);
      // The join has passed its ban check and waits at its insert.
      await vi.waitFor(async () => expect(await waitingOn()).toBe(1), { timeout: 10_000, interval: 20 });
      ban = t.app.inject({ method: 'PUT', url: `/api/v1/rooms/${room.id}/bans/${joiner.user.id}`, headers: as(owner) }).finally(() => {
        banSettled = true;
      });
      // Either the ban finished without waiting for the join, or it waits for it too.
      await vi.waitFor(async () => expect(banSettled || (await waitingOn()) === 2).toBe(true), { timeout: 10_000, interval: 20 });
    } finally {
      await release();
    }
    expect((await ban!).statusCode).toBe(204);
    // The join came first, so it may well have succeeded; the ban then removed the member.
    expect([200, 403, 404]).toContain((await join!).statusCode);
    expect(await isMember(room.id, joiner.user.id)).toBe(false);
    // And the ban keeps holding.
    expect((await joinRequest(joiner)).statusCode).not.toBe(200);
    expect(await isMember(room.id, joiner.user.id)).toBe(false);
  });
});
