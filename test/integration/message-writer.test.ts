/**
 * Group commit: concurrent sends share transactions, and still get contiguous seqs in
 * arrival order, exactly-once storage per clientId, and nothing lost when one of them
 * is a retry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { as, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, joinRoom } from '../support/factories.js';

describe.each(DIALECTS)('group commit on %s', (dialect) => {
  const t = useTestApp(dialect);
  let alice: Session;
  let bob: Session;
  let roomA: string;
  let roomB: string;

  beforeAll(async () => {
    alice = await signUp(t.app);
    bob = await signUp(t.app);
    roomA = (await createRoom(t.app, alice, { name: `Batch A ${dialect}` })).id;
    roomB = (await createRoom(t.app, alice, { name: `Batch B ${dialect}` })).id;
    for (const room of [roomA, roomB]) await joinRoom(t.app, bob, room);
  });

  const send = (who: Session, roomId: string, clientId: string, body = clientId) =>
    t.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(who), payload: { body, clientId } });
  const commits = () => t.queries.filter((sql) => sql === 'commit').length;

  it('writes a burst of concurrent sends in far fewer commits than messages, with contiguous seqs per room', async () => {
    const before = commits();
    const sends = Array.from({ length: 120 }, (_, i) => send(i % 2 ? alice : bob, i % 3 ? roomA : roomB, `burst-${i}`));
    const responses = await Promise.all(sends);
    expect(responses.map((r) => r.statusCode)).toEqual(Array(120).fill(201));
    expect(commits() - before).toBeLessThan(60);
    for (const roomId of [roomA, roomB]) {
      const page = (await t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?limit=200`, headers: as(alice) })).json();
      expect(page.messages.map((m: { seq: number }) => m.seq)).toEqual(page.messages.map((_: unknown, i: number) => i + 1));
    }
  });

  it('keeps a batch with a retried clientId exact: the retry gets the first message, the others are stored once', async () => {
    const first = await send(alice, roomA, 'retry-me', 'the original');
    expect(first.statusCode).toBe(201);
    const lastSeq = first.json().message.seq as number;
    const burst = await Promise.all([
      send(bob, roomA, 'fresh-1'),
      send(alice, roomA, 'retry-me', 'a different body'),
      send(bob, roomA, 'fresh-2'),
      send(alice, roomA, 'retry-me', 'yet another'),
      send(bob, roomA, 'fresh-3'),
    ]);
    expect(burst.map((r) => r.statusCode)).toEqual([201, 200, 201, 200, 201]);
    expect(burst[1]!.json().message).toEqual(first.json().message);
    expect(burst[3]!.json().message).toEqual(first.json().message);
    const created = [burst[0], burst[2], burst[4]].map((r) => r!.json().message.seq as number).sort((a, b) => a - b);
    expect(created).toEqual([lastSeq + 1, lastSeq + 2, lastSeq + 3]);
    const rows = await t.database.db.selectFrom('messages').select('client_id').where('room_id', '=', roomA).where('client_id', '=', 'retry-me').execute();
    expect(rows).toHaveLength(1);
  });

  it('stores two concurrent sends with the same new clientId once', async () => {
    const [one, two] = await Promise.all([send(bob, roomB, 'twin', 'first'), send(bob, roomB, 'twin', 'second')]);
    expect([one!.statusCode, two!.statusCode].sort()).toEqual([200, 201]);
    expect(one!.json().message).toEqual(two!.json().message);
  });
});
