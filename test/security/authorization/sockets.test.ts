/**
 * Sockets: while O and M talk, type, join and leave, none of the callers' sockets
 * receives any frame that mentions R (its id, name, description or any message body),
 * nor, after their own `left`/`removed` frame, R or P for the removed, kicked and banned
 * members. Every client frame type (send, typing, ping) is tried by every signed-in
 * caller on their own socket. The changes allowed: a stranger (the kicked member too,
 * not the banned one) joins P and hears it, never R. Each test has its own world, and a
 * test about what sockets heard makes the traffic itself first.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { Room, ServerFrame } from '../../../src/shared/protocol.js';
import { TYPING_THROTTLE_MS } from '../../../src/server/realtime/typing-throttle.js';
import { signUp, uniqueName } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import type { WsClient } from '../../support/ws-client.js';
import { errorBodyProblem } from '../security-harness.js';
import { answerProblems, isMember, isMessageIn, refused, SIGNED_IN_KINDS, type CallerKind, type Frame } from './kit.js';
import { ROOM_ROWS } from './rows.js';
import { useWorld } from './world.js';

describe.each(DIALECTS)('sockets and isolation on %s', (dialect) => {
  const stage = useWorld(dialect, { perTest: true });

  /** The owner and a member talk, type, join and leave in R (and in P): the traffic the outsiders must not see. */
  async function converse(): Promise<void> {
    const { O, M, R, P, ownerSocket, memberSocket } = stage.world;
    const fromOwner = await stage.kit.sendHttp(O, R, `${stage.world.rMark} hello from the owner`);
    await memberSocket.waitFor(isMessageIn(R.id, fromOwner));

    const clientId = randomUUID();
    memberSocket.send({ type: 'send', roomId: R.id, body: `${stage.world.rMark} hello from the member`, clientId });
    const ack = await memberSocket.waitFor<Frame<'ack'>>((f) => f.type === 'ack' && f.clientId === clientId);
    await ownerSocket.waitFor(isMessageIn(R.id, ack.message.id));

    memberSocket.send({ type: 'typing', roomId: R.id });
    await ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === R.id && f.userId === M.user.id);
    ownerSocket.send({ type: 'typing', roomId: R.id });
    await memberSocket.waitFor((f) => f.type === 'typing' && f.roomId === R.id && f.userId === O.user.id);

    // Someone joins R by invite, speaks, and leaves.
    const joiner = await signUp(stage.t.app, uniqueName('joiner'));
    const joinerSocket = await stage.connect(joiner);
    await stage.kit.post(joiner, `/api/v1/invites/${await stage.kit.inviteCode(O, R.id)}/accept`);
    await ownerSocket.waitFor(isMember(R.id, joiner.user.id, 'joined'));
    await joinerSocket.waitFor(isMember(R.id, joiner.user.id, 'joined'));
    const fromJoiner = await stage.kit.sendHttp(joiner, R, `${stage.world.rMark} hello from the joiner`);
    await memberSocket.waitFor(isMessageIn(R.id, fromJoiner));
    await stage.kit.post(joiner, `/api/v1/rooms/${R.id}/leave`, undefined, 204);
    await memberSocket.waitFor(isMember(R.id, joiner.user.id, 'left'));

    // The member leaves and comes back; marks read; the owner makes an invite.
    await stage.kit.post(M, `/api/v1/rooms/${R.id}/leave`, undefined, 204);
    await ownerSocket.waitFor(isMember(R.id, M.user.id, 'left'));
    await stage.kit.post(M, `/api/v1/invites/${await stage.kit.inviteCode(O, R.id)}/accept`);
    await ownerSocket.waitFor(isMember(R.id, M.user.id, 'joined'));
    await stage.kit.post(M, `/api/v1/rooms/${R.id}/read`, { seq: 2 }, 204);
    const again = await stage.kit.sendHttp(O, R, `${stage.world.rMark} welcome back`);
    await memberSocket.waitFor(isMessageIn(R.id, again));

    // And the same in the public room P.
    const inP = await stage.kit.sendHttp(O, P, `${stage.world.pMark} hello in public`);
    await memberSocket.waitFor(isMessageIn(P.id, inP));
    memberSocket.send({ type: 'typing', roomId: P.id });
    await ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === P.id && f.userId === M.user.id);
  }

  /** The caller sends and types into R and P and pings; returns what went wrong. */
  async function tryFrames(kind: Exclude<CallerKind, 'logged-out' | 'ended-session'>): Promise<string[]> {
    const caller = stage.world.callers[kind];
    const client = stage.world.listeners.find((l) => l.label === `${kind} socket`)!.client;
    const problems: string[] = [];
    const sendAndAwait = async (roomId: string, extra: { replyTo?: number; attachments?: string[] } = {}) => {
      const clientId = randomUUID();
      client.send({ type: 'send', roomId, body: `${roomId === stage.world.R.id ? stage.world.rMark : stage.world.pMark} from ${kind}`, clientId, ...extra });
      return client.waitFor<Frame<'error'> | Frame<'ack'>>((f) => (f.type === 'error' || f.type === 'ack') && f.clientId === clientId);
    };
    const toR = await sendAndAwait(stage.world.R.id);
    const toUnknown = await sendAndAwait(stage.world.unknownRoomId);
    const toP = await sendAndAwait(stage.world.P.id);
    if (toR.type !== 'error' || toR.error.code !== 'not_found') problems.push(`send to R: ${JSON.stringify(toR)}`);
    else if (JSON.stringify(toR.error) !== JSON.stringify((toUnknown as Frame<'error'>).error)) {
      problems.push(`send to R differs from a send to an unknown room: ${JSON.stringify(toR)} vs ${JSON.stringify(toUnknown)}`);
    }
    if (toP.type !== 'error' || toP.error.code !== 'not_member') problems.push(`send to P: ${JSON.stringify(toP)}`);
    // A reply to R's first message: the room's answer comes before anything about the original.
    const replyToR = await sendAndAwait(stage.world.R.id, { replyTo: 1 });
    const replyToP = await sendAndAwait(stage.world.P.id, { replyTo: 1 });
    if (replyToR.type !== 'error' || JSON.stringify(replyToR.error) !== JSON.stringify((toUnknown as Frame<'error'>).error)) problems.push(`reply in R: ${JSON.stringify(replyToR)}`);
    if (replyToP.type !== 'error' || replyToP.error.code !== 'not_member') problems.push(`reply in P: ${JSON.stringify(replyToP)}`);
    // Naming their own upload (made while a member) or the bystander's: the room's answer, and the file stays unsent.
    const own = (roomId: string) => stage.world.uploads[roomId]?.[caller.session!.user.id] ?? randomUUID();
    const bystanders = (roomId: string) => stage.world.uploads[roomId]![stage.world.T.user.id]!;
    for (const attachments of [[own(stage.world.R.id)], [bystanders(stage.world.R.id)]]) {
      const withFile = await sendAndAwait(stage.world.R.id, { attachments });
      if (withFile.type !== 'error' || JSON.stringify(withFile.error) !== JSON.stringify((toUnknown as Frame<'error'>).error)) problems.push(`send with a file in R: ${JSON.stringify(withFile)}`);
    }
    for (const attachments of [[own(stage.world.P.id)], [bystanders(stage.world.P.id)]]) {
      const withFile = await sendAndAwait(stage.world.P.id, { attachments });
      if (withFile.type !== 'error' || withFile.error.code !== 'not_member') problems.push(`send with a file in P: ${JSON.stringify(withFile)}`);
    }
    const named = Object.values(stage.world.uploads).flatMap((byUser) => Object.values(byUser));
    const attached = await stage.t.database.db.selectFrom('files').select('id').where('id', 'in', named).where('message_seq', 'is not', null).execute();
    if (attached.length > 0) problems.push(`files attached by refused sends: ${JSON.stringify(attached)}`);
    for (const frame of [toR, toP]) {
      const problem = frame.type === 'error' ? errorBodyProblem({ error: frame.error }) : undefined;
      if (problem) problems.push(`error frame: ${problem}`);
    }

    // Typing into a room one is not in reaches nobody.
    const ownerMark = stage.world.ownerSocket.frames.length;
    const memberMark = stage.world.memberSocket.frames.length;
    client.send({ type: 'typing', roomId: stage.world.R.id });
    client.send({ type: 'typing', roomId: stage.world.P.id });
    client.send({ type: 'ping' });
    await client.waitFor((f) => f.type === 'pong');
    await stage.barrier();
    const typedByCaller = (f: ServerFrame) => f.type === 'typing' && f.userId === caller.session!.user.id;
    const heard = [...stage.world.ownerSocket.frames.slice(ownerMark), ...stage.world.memberSocket.frames.slice(memberMark)].filter(typedByCaller);
    if (heard.length > 0) problems.push(`the members heard the caller typing: ${JSON.stringify(heard)}`);
    return problems;
  }

  /** The member's send is acked and their typing relayed (positive control). */
  async function memberControl(): Promise<void> {
    const clientId = randomUUID();
    stage.world.memberSocket.send({ type: 'send', roomId: stage.world.R.id, body: `${stage.world.rMark} control`, clientId });
    await stage.world.memberSocket.waitFor((f) => f.type === 'ack' && f.clientId === clientId);
    const since = stage.world.ownerSocket.frames.length;
    // Typing is throttled per user and room, across sockets: the app's clock moves past the
    // throttle, and a fresh socket of the member types.
    stage.t.clock.advance(TYPING_THROTTLE_MS);
    const fresh = await stage.connect(stage.world.M);
    fresh.send({ type: 'typing', roomId: stage.world.R.id });
    await stage.world.ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === stage.world.R.id && f.userId === stage.world.M.user.id, { since });
  }

  it('the members themselves hear it all (the traffic the outsiders must not see)', async () => {
    await converse();
  });

  it('closed the socket of the member whose session was logged out', async () => {
    const ended = stage.world.listeners.find((l) => l.label.startsWith('socket of a member whose session'))!;
    expect((await ended.client.waitForClose()).code).toBe(4401);
  });

  it.each(SIGNED_IN_KINDS)('refuses %s sending or typing into R or P; answers ping', async (kind) => {
    expect(await tryFrames(kind)).toEqual([]);
  });

  it('acks the member’s send and relays their typing (positive control)', async () => {
    await memberControl();
    });

  it('told every socket the kicked and the banned member had open of their removal from R and from P, once — and the members too', async () => {
    await stage.barrier();
    const problems: string[] = [];
    for (const kind of ['kicked-member', 'banned-member'] as const) {
      const userId = stage.world.callers[kind].session!.user.id;
      for (const room of [stage.world.R, stage.world.P]) {
        const name = room === stage.world.R ? 'R' : 'P';
        for (const label of [`${kind} socket`, `${kind} second socket`]) {
          const count = stage.world.listeners.find((l) => l.label === label)!.client.received(isMember(room.id, userId, 'removed')).length;
          if (count !== 1) problems.push(`${label}: ${count} removed frames for ${name}`);
        }
        const opened = stage.world.listeners.find((l) => l.label === `${kind} socket opened after the removal`)!.client;
        if (opened.received(isMember(room.id, userId, 'removed')).length !== 0) problems.push(`${kind}: a socket opened later was told of ${name}`);
        for (const [who, client] of [
          ['owner', stage.world.ownerSocket],
          ['member', stage.world.memberSocket],
        ] as const) {
          const heard = client.received(isMember(room.id, userId, 'removed')).length;
          if (heard !== 1) problems.push(`the ${who} heard ${heard} removed frames of the ${kind} in ${name}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('none of the callers’ sockets received any frame that mentions R — or P, which they are not in', async () => {
      await converse();
      for (const kind of SIGNED_IN_KINDS) await tryFrames(kind);
      await memberControl();
    await stage.barrier();
    const leaks: string[] = [];
    for (const listener of stage.world.listeners) {
      listener.client.frames.forEach((frame, index) => {
        const text = JSON.stringify(frame);
        for (const secret of [stage.world.R.id, stage.world.rMark]) {
          if (index >= listener.fromR && text.includes(secret)) leaks.push(`${listener.label} #${index}: ${text}`);
        }
        for (const secret of [stage.world.P.id, stage.world.pMark]) {
          if (index >= listener.fromP && text.includes(secret)) leaks.push(`${listener.label} #${index}: ${text}`);
        }
      });
    }
    expect(leaks).toEqual([]);
    // The sockets were listening: each got the barrier messages in General.
    for (const listener of stage.world.listeners.filter((l) => l.client.socket.readyState === WebSocket.OPEN)) {
      expect(listener.client.received(isMessageIn(stage.world.general.id)).length, listener.label).toBeGreaterThan(0);
    }
  });

  it('lets a signed-in non-member — the kicked one too — join P (the one allowed change): then P reaches them, and R still does not; the banned one stays out (403 banned)', async () => {
    const joined: WsClient[] = [];
    const shutOut: WsClient[] = [];
    for (const kind of SIGNED_IN_KINDS) {
      const caller = stage.world.callers[kind];
      // Every socket of theirs still open (the kicked and the banned member have three).
      const clients = stage.world.listeners
        .filter((l) => l.label.startsWith(`${kind} `) && l.client.socket.readyState === WebSocket.OPEN)
        .map((l) => l.client);
      const probe = ROOM_ROWS.find((r) => r.key === 'POST /api/v1/rooms/:roomId/join')!.probe(stage.world.P, stage.world, caller.session);
      const byId = await stage.kit.call(caller.session, probe);
      const byName = await stage.kit.call(caller.session, { method: 'POST', url: '/api/v1/rooms/join', payload: { name: stage.world.P.name } });
      if (kind === 'banned-member') {
        expect(answerProblems(byId, refused(403, 'banned'), 'POST'), `${kind} joins P by id`).toEqual([]);
        expect(answerProblems(byName, refused(403, 'banned'), 'POST'), `${kind} joins P by name`).toEqual([]);
        shutOut.push(...clients);
        continue;
      }
      expect(byId.statusCode, `${kind} joins P by id`).toBe(200);
      expect((byId.json() as { room: Room }).room.role).toBe('member');
      expect(byName.statusCode, `${kind} joins P by name`).toBe(200);
      joined.push(...clients);
    }
    expect(shutOut.length).toBe(3);
    const inP = await stage.kit.sendHttp(stage.world.O, stage.world.P, `${stage.world.pMark} now you can hear me`);
    const inR = await stage.kit.sendHttp(stage.world.O, stage.world.R, `${stage.world.rMark} but still not this`);
    await Promise.all(joined.map((client) => client.waitFor(isMessageIn(stage.world.P.id, inP))));
    await stage.barrier();
    for (const client of joined) expect(client.received(isMessageIn(stage.world.R.id, inR))).toEqual([]);
    for (const client of shutOut) expect(client.received(isMessageIn(stage.world.P.id, inP))).toEqual([]);
  });
});
