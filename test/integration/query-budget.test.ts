/**
 * The hot paths have a query budget: sending a message and reading a page must not grow
 * queries with the number of members or messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, signUp, startTestApp, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';

describe.each(DIALECTS)('query budget on %s', (dialect) => {
  let t: TestApp;
  let alice: Session;
  let roomId: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    alice = await signUp(t.app);
    for (let i = 0; i < 5; i += 1) await signUp(t.app); // more members in General
    roomId = (await t.app.inject({ method: 'GET', url: '/api/v1/rooms', headers: as(alice) })).json()[0].id;
    for (let i = 0; i < 60; i += 1) {
      await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(alice), payload: { body: `m${i}`, clientId: `seed-${i}` } });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Queries run by the request, not counting the session lookup every request makes. */
  async function queriesFor(run: () => Promise<unknown>): Promise<string[]> {
    t.queries.length = 0;
    await run();
    return t.queries.filter((sql) => !/from "sessions"/.test(sql));
  }

  it('sends a message with one authorization query and one write (SQLite: a transaction of two statements; PostgreSQL: one statement)', async () => {
    const queries = await queriesFor(() =>
      t.app.inject({ method: 'POST', url: `/api/v1/rooms/${roomId}/messages`, headers: as(alice), payload: { body: 'hi', clientId: 'budget-1' } }),
    );
    const write =
      dialect === 'sqlite'
        ? // The writer thread's transaction takes the write lock at once.
          ['begin immediate', 'update "rooms" set', 'insert into "messages"', 'commit']
        : ['with seqs as'];
    expect(queries.map((sql) => sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual(['select "rooms"."id", "rooms"."is_private",', ...write]);
  });

  it('reads a page of 50 with one authorization query and one select', async () => {
    const queries = await queriesFor(() => t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?limit=50`, headers: as(alice) }));
    expect(queries).toHaveLength(2);
    expect(queries[1]).toMatch(/from "messages" inner join "users"/);
  });

  it('catches up with one authorization query and one select', async () => {
    const queries = await queriesFor(() => t.app.inject({ method: 'GET', url: `/api/v1/rooms/${roomId}/messages?after=10`, headers: as(alice) }));
    expect(queries).toHaveLength(2);
  });
});
