/**
 * Every HTTP endpoint, for every caller: each caller gets exactly the answer its row in
 * rows.ts gives (401 logged out; 404 for R, byte-for-byte the answer for a room that does
 * not exist; `onPublic` for P), GETs also as HEAD; the owner, a moderator and a plain
 * member get the rows' positive answers; refused sends store nothing, refused moderation
 * changes no membership, and nobody ends the owner's session. Each test has its own world.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { logIn, TEST_PASSWORD, type Session } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import { attemptWs } from '../../support/ws-client.js';
import { errorBodyProblem } from '../security-harness.js';
import {
  answerProblems,
  AUTH_REQUIRED,
  CALLER_KINDS,
  HIDDEN,
  leakProblems,
  refused,
  SIGNED_IN_KINDS,
  type Caller,
  type Expectation,
  type Probe,
} from './kit.js';
import { ROOM_ROWS, USER_ROWS, WS_KEY } from './rows.js';
import { useWorld } from './world.js';

describe.each(DIALECTS)('every HTTP endpoint, for every caller, on %s', (dialect) => {
  const stage = useWorld(dialect, { perTest: true });

  /** Sends a probe as the caller and as HEAD when it is a GET; returns the mismatches. */
  async function tryProbe(
    caller: Caller,
    probe: Probe,
    expected: Expectation,
    options: { sameAs?: Probe; inspect?: (response: LightMyRequestResponse) => string[]; session?: Session } = {},
  ): Promise<string[]> {
    const session = options.session ?? caller.session;
    const problems: string[] = [];
    const response = await stage.kit.call(session, probe);
    problems.push(...answerProblems(response, expected, probe.method));
    if (expected.code === undefined && response.statusCode === expected.status) problems.push(...(options.inspect?.(response) ?? []));
    if (expected.code !== undefined) problems.push(...leakProblems(response.body, stage.world, false));
    if (options.sameAs && response.statusCode === expected.status) {
      // A room the caller may not see answers exactly like a room that does not exist.
      const reference = await stage.kit.call(session, options.sameAs);
      if (reference.body !== response.body || reference.statusCode !== response.statusCode) {
        problems.push(`answers differently from a room that does not exist: ${response.body} vs ${reference.body}`);
      }
    }
    if (probe.method === 'GET') {
      const head = await stage.kit.call(session, { ...probe, method: 'HEAD' });
      if (head.statusCode !== response.statusCode) problems.push(`HEAD answered ${head.statusCode}, GET ${response.statusCode}`);
      if (head.body !== '') problems.push(`HEAD has a body: ${head.body.slice(0, 100)}`);
    }
    return problems.map((problem) => `${probe.method} ${probe.url}: ${problem}`);
  }

  const unknownRoom = (): Room => ({ ...stage.world.R, id: stage.world.unknownRoomId });

  it.each(CALLER_KINDS)('answers %s exactly as the matrix says', async (kind) => {
    const caller = stage.world.callers[kind];
    const problems: string[] = [];
    for (const row of ROOM_ROWS) {
      for (const room of [stage.world.R, stage.world.P]) {
        const probe = row.probe(room, stage.world, caller.session);
        const onPublic = kind === 'banned-member' ? (row.onPublicBanned ?? row.onPublic) : row.onPublic;
        if (!caller.signedIn) {
          problems.push(...(await tryProbe(caller, probe, AUTH_REQUIRED)));
        } else if (room === stage.world.R) {
          problems.push(...(await tryProbe(caller, probe, HIDDEN, { sameAs: row.probe(unknownRoom(), stage.world, caller.session) })));
        } else if (onPublic !== 'allowed-last') {
          problems.push(
            ...(await tryProbe(caller, probe, onPublic, {
              // The public room's own view: fine to see, but not as a member.
              inspect: (response) => ((response.json() as { room: Room }).room.role === null ? [] : ['shows a role in P']),
            })),
          );
        }
      }
    }
    for (const row of USER_ROWS) {
      if (!caller.signedIn) {
        const expected = row.loggedOut ?? AUTH_REQUIRED;
        problems.push(...(await tryProbe(caller, await row.probe(caller, stage.world), expected)));
        continue;
      }
      if (row.signedIn === 'skip') continue;
      let session = caller.session!;
      if (row.spareSession) session = await logIn(stage.t.app, session.user.username, TEST_PASSWORD);
      const probe = await row.probe(caller, stage.world);
      const expected =
        row.key === 'POST /api/v1/invites/:code/accept' && kind === 'expired-invite-holder' ? refused(410, 'invite_expired') : row.signedIn;
      problems.push(
        ...(await tryProbe(caller, probe, expected, { session, sameAs: row.sameAs?.(stage.world), inspect: (r) => row.inspect?.(r, caller, stage.world) ?? [] })),
      );
      if (row.spareSession) {
        const after = await stage.kit.call(session, { method: 'GET', url: '/api/v1/me' });
        if (after.statusCode !== 401) problems.push(`${probe.url}: the ended session still answers ${after.statusCode}`);
      }
    }
    // The WebSocket handshake: refused before any frame when logged out.
    if (!caller.signedIn) {
      const outcome = await attemptWs(stage.base, { cookie: caller.session?.cookie });
      if (!(outcome.kind === 'http' && outcome.status === 401)) problems.push(`${WS_KEY}: ${JSON.stringify(outcome)}, expected HTTP 401`);
    }
    expect(problems).toEqual([]);
  });

  it('lets the expired-invite holder in nowhere: 410 invite_expired, and R stays hidden', async () => {
    const late = stage.world.callers['expired-invite-holder'].session!;
    const accept = await stage.kit.call(late, { method: 'POST', url: `/api/v1/invites/${stage.world.expiredCode}/accept` });
    expect(accept.statusCode).toBe(410);
    expect(errorBodyProblem(accept.json())).toBeUndefined();
    expect(accept.json().error.code).toBe('invite_expired');
    expect(leakProblems(accept.body, stage.world, false)).toEqual([]);
    const members = (await stage.kit.must(stage.world.O, { method: 'GET', url: `/api/v1/rooms/${stage.world.R.id}/members` }, 200)).json() as Array<{
      user: { id: string };
    }>;
    expect(members.map((m) => m.user.id)).not.toContain(late.user.id);
  });

  it('answers the owner, a moderator and a plain member of R and P as the matrix says (positive controls)', async () => {
    const problems: string[] = [];
    for (const row of ROOM_ROWS) {
      for (const [who, session, expected] of [
        ['member', stage.world.M, row.member],
        ['moderator', stage.world.D, row.moderator],
        ['owner', stage.world.O, row.owner],
      ] as const) {
        if (expected === 'skip') continue;
        for (const room of [stage.world.R, stage.world.P]) {
          const probe = row.probe(room, stage.world, session);
          const response = await stage.kit.call(session, probe);
          problems.push(...answerProblems(response, expected, probe.method).map((p) => `${who}: ${probe.method} ${probe.url}: ${p}`));
        }
      }
    }
    expect(problems).toEqual([]);
  });

  /** Every signed-in caller sends the rows' requests of one key to R and P (all refused). */
  async function outsidersTry(key: string): Promise<void> {
    for (const kind of SIGNED_IN_KINDS) {
      const session = stage.world.callers[kind].session;
      for (const row of ROOM_ROWS.filter((r) => r.key === key)) {
        for (const room of [stage.world.R, stage.world.P]) await stage.kit.call(session, row.probe(room, stage.world, session));
      }
    }
  }

  it('stores nothing in R or P for any refused send', async () => {
    await outsidersTry('POST /api/v1/rooms/:roomId/messages');
    const rows = await stage.t.database.db
      .selectFrom('messages')
      .select(['room_id', 'sender_id'])
      .where('room_id', 'in', [stage.world.R.id, stage.world.P.id])
      .execute();
    const outsiders = new Set(SIGNED_IN_KINDS.map((k) => stage.world.callers[k].session!.user.id));
    expect(rows.filter((row) => outsiders.has(row.sender_id))).toEqual([]);
    // And attached no file: every upload the rows name is still waiting to be sent.
    const named = Object.values(stage.world.uploads).flatMap((byUser) => Object.values(byUser));
    const files = await stage.t.database.db.selectFrom('files').select(['id', 'message_seq']).where('id', 'in', named).execute();
    expect(files).toHaveLength(named.length);
    expect(files.filter((file) => file.message_seq !== null)).toEqual([]);
  });

  it('left who is in R and P, with which role, and who is banned as it was: every refused remove, ban, unban and role change changed nothing', async () => {
    for (const key of new Set(ROOM_ROWS.map((r) => r.key).filter((k) => /\/(members|bans)\//.test(k)))) await outsidersTry(key);
    expect(await stage.membershipOfRP()).toEqual(stage.world.membershipAtStart);
  });

  it('left the owner’s session alive after others tried to end it', async () => {
    const row = USER_ROWS.find((r) => r.key === 'DELETE /api/v1/auth/sessions/:sessionId')!;
    for (const kind of SIGNED_IN_KINDS) {
      const caller = stage.world.callers[kind];
      await stage.kit.call(caller.session, await row.probe(caller, stage.world));
    }
    await stage.kit.must(stage.world.O, { method: 'GET', url: '/api/v1/me' }, 200);
  });
});
