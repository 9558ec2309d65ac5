/**
 * The rank rules on R and P, with the members as callers: a plain member moderates
 * nobody; a moderator acts on plain members only and never re-roles; nobody acts on the
 * owner or on themselves; every refusal changes nothing. The banned member finds every
 * way back in shut; the kicked member comes back by invite (a kick is not a ban), the
 * banned one once a moderator lifts the ban. Each test has its own world.
 */
import { describe, expect, it } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { signUp, uniqueName, type Session } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import { changedTables, snapshotDatabase } from '../security-harness.js';
import { answerProblems, HIDDEN, isMember, isMessageIn, leakProblems, refused, type Expectation, type Probe } from './kit.js';
import { useWorld } from './world.js';

describe.each(DIALECTS)('ranks and the ways back in, on %s', (dialect) => {
  const stage = useWorld(dialect, { perTest: true });

  it('keeps ranks in R and P: a moderator acts on plain members only, never re-roles; a member moderates nobody; the owner keeps their role', async () => {
    const { O, M, D, D2, T } = stage.world;
    const stranger = stage.world.callers['non-member'].session!;
    type Action = 'remove' | 'ban' | 'unban' | 'promote' | 'demote';
    const probeOf = (action: Action, room: Room, target: Session): Probe => {
      const id = target.user.id;
      switch (action) {
        case 'remove':
          return { method: 'POST', url: `/api/v1/rooms/${room.id}/members/${id}/remove` };
        case 'ban':
          return { method: 'PUT', url: `/api/v1/rooms/${room.id}/bans/${id}` };
        case 'unban':
          return { method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${id}` };
        case 'promote':
        case 'demote':
          return { method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${id}/role`, payload: { role: action === 'promote' ? 'moderator' : 'member' } };
      }
    };
    const FORBIDDEN = refused(403, 'forbidden');
    const NO_SUCH = refused(404, 'not_found');
    const ALL: Action[] = ['remove', 'ban', 'unban', 'promote', 'demote'];
    const cases: Array<[string, Session, Session, Action[], Expectation]> = [
      ['a moderator on the owner', D, O, ['remove', 'ban', 'promote', 'demote'], FORBIDDEN],
      ['a moderator on another moderator', D, D2, ['remove', 'ban', 'promote', 'demote'], FORBIDDEN],
      ['a moderator re-roling a plain member', D, T, ['promote', 'demote'], FORBIDDEN],
      ['a plain member on the owner', M, O, ALL, FORBIDDEN],
      ['a plain member on a moderator', M, D, ALL, FORBIDDEN],
      ['a plain member on another plain member', M, T, ALL, FORBIDDEN],
      ['a plain member on a non-member', M, stranger, ALL, FORBIDDEN],
      ['the owner on their own role', O, O, ['promote', 'demote'], FORBIDDEN],
      ['a moderator removing a non-member', D, stranger, ['remove'], NO_SUCH],
      ['the owner removing a non-member', O, stranger, ['remove'], NO_SUCH],
      ['the owner re-roling a non-member', O, stranger, ['promote', 'demote'], NO_SUCH],
      ['a moderator lifting a ban nobody holds', D, O, ['unban'], NO_SUCH],
    ];
    // A first request of each actor, so that refreshing their session is not counted as a change.
    for (const session of [O, M, D]) await stage.kit.must(session, { method: 'GET', url: '/api/v1/me' }, 200);
    const problems: string[] = [];
    for (const [label, actor, target, actions, expected] of cases) {
      for (const room of [stage.world.R, stage.world.P]) {
        for (const action of actions) {
          const probe = probeOf(action, room, target);
          const before = await snapshotDatabase(stage.t.database.db);
          const response = await stage.kit.call(actor, probe);
          const changed = changedTables(before, await snapshotDatabase(stage.t.database.db));
          const where = `${label}, ${action} in ${room === stage.world.R ? 'R' : 'P'}`;
          problems.push(...answerProblems(response, expected, probe.method).map((p) => `${where}: ${p}`));
          if (changed.length > 0) problems.push(`${where}: changed ${changed.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await stage.membershipOfRP()).toEqual(stage.world.membershipAtStart);
  });

  it('keeps the banned member out of P by every way back in (403 banned) and out of R (404; 403 banned with an invite), changing nothing', async () => {
    const banned = stage.world.callers['banned-member'].session!;
    const { R, P } = stage.world;
    const codes = { R: await stage.kit.inviteCode(stage.world.O, R.id), P: await stage.kit.inviteCode(stage.world.D, P.id) };
    const BANNED = refused(403, 'banned');
    const attempts: Array<[string, Probe, Expectation]> = [
      ['join P by id', { method: 'POST', url: `/api/v1/rooms/${P.id}/join` }, BANNED],
      ['join P by name', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: P.name } }, BANNED],
      ['join P by its name in capitals', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: ` ${P.name.toUpperCase()} ` } }, BANNED],
      ['accept an invite to P', { method: 'POST', url: `/api/v1/invites/${codes.P}/accept` }, BANNED],
      ['lift their own ban on P', { method: 'DELETE', url: `/api/v1/rooms/${P.id}/bans/${banned.user.id}` }, refused(403, 'not_member')],
      ['join R by id', { method: 'POST', url: `/api/v1/rooms/${R.id}/join` }, HIDDEN],
      ['join R by name', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: R.name } }, HIDDEN],
      // Whoever holds a code knows the room exists: the answer may say why.
      ['accept an invite to R', { method: 'POST', url: `/api/v1/invites/${codes.R}/accept` }, BANNED],
      ['lift their own ban on R', { method: 'DELETE', url: `/api/v1/rooms/${R.id}/bans/${banned.user.id}` }, HIDDEN],
    ];
    await stage.kit.must(banned, { method: 'GET', url: '/api/v1/me' }, 200);
    const problems: string[] = [];
    for (const [label, probe, expected] of attempts) {
      const before = await snapshotDatabase(stage.t.database.db);
      const response = await stage.kit.call(banned, probe);
      const changed = changedTables(before, await snapshotDatabase(stage.t.database.db));
      problems.push(...answerProblems(response, expected, probe.method).map((p) => `${label}: ${p}`));
      problems.push(...leakProblems(response.body, stage.world, false).map((p) => `${label}: ${p}`));
      if (changed.length > 0) problems.push(`${label}: changed ${changed.join(', ')}`);
    }
    expect(problems).toEqual([]);
    // The invites were good: someone else gets in with each (and leaves again).
    const other = await signUp(stage.t.app, uniqueName('other'));
    for (const [room, code] of [[R, codes.R], [P, codes.P]] as const) {
      await stage.kit.post(other, `/api/v1/invites/${code}/accept`);
      await stage.kit.post(other, `/api/v1/rooms/${room.id}/leave`, undefined, 204);
    }
  });

  it('lets the kicked member back into R with a new invite (a kick is not a ban); the banned one only once a moderator lifts the ban', async () => {
    const { O, D, M, R, P } = stage.world;
    const kicked = stage.world.callers['kicked-member'].session!;
    const banned = stage.world.callers['banned-member'].session!;
    const kickedSocket = stage.world.listeners.find((l) => l.label === 'kicked-member socket')!.client;
    const bannedSocket = stage.world.listeners.find((l) => l.label === 'banned-member socket')!.client;
    await stage.kit.post(kicked, `/api/v1/invites/${await stage.kit.inviteCode(D, R.id)}/accept`);
    await kickedSocket.waitFor(isMember(R.id, kicked.user.id, 'joined'));

    // One use only: the refused attempt must not spend it.
    const code = await stage.kit.inviteCode(D, R.id, { maxUses: 1 });
    const refusedAccept = await stage.kit.call(banned, { method: 'POST', url: `/api/v1/invites/${code}/accept` });
    expect(answerProblems(refusedAccept, refused(403, 'banned'), 'POST')).toEqual([]);
    const lift = (room: Room): Probe => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${banned.user.id}` });
    expect(answerProblems(await stage.kit.call(M, lift(R)), refused(403, 'forbidden'), 'DELETE')).toEqual([]);
    await stage.kit.must(D, lift(R), 204);
    expect(answerProblems(await stage.kit.call(D, lift(R)), refused(404, 'not_found'), 'DELETE')).toEqual([]);
    await stage.kit.must(O, lift(P), 204);
    await stage.kit.post(banned, `/api/v1/invites/${code}/accept`);
    await stage.kit.post(banned, `/api/v1/rooms/${P.id}/join`);

    // Both hear R again on the sockets they had open all along.
    const inR = await stage.kit.sendHttp(O, R, `${stage.world.rMark} welcome back, both`);
    await kickedSocket.waitFor(isMessageIn(R.id, inR));
    await bannedSocket.waitFor(isMessageIn(R.id, inR));
  });
});
