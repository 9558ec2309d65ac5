/**
 * Edits, deletes and reactions on the socket, on SQLite and PostgreSQL: `message_updated`
 * with the full new state to every member's socket (not to outsiders), `hello` rooms carry
 * `lastChange`, and a client that was away converges: after a reconnect its hello's
 * lastChange moved, and `changedAfter=<the one it had>` (and the newest page) show what changed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import { listenOnLoopback, signUp, useTestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { isHello, type Frame } from '../support/frames.js';
import { sendMessage } from '../support/factories.js';
import { messageChanges, roomOfFour } from '../support/message-changes.js';
import { closedAfterEach, connectWs } from '../support/ws-client.js';

const isUpdate = (seq: number, where: (m: Message) => boolean = () => true) => (f: { type: string }) =>
  f.type === 'message_updated' && (f as Frame<'message_updated'>).message.seq === seq && where((f as Frame<'message_updated'>).message);

describe.each(DIALECTS)('message changes in real time on %s', (dialect) => {
  const t = useTestApp(dialect);
  const api = messageChanges(() => t.app);
  const sockets = closedAfterEach();
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });
  const open = async (cookie: string) => {
    const socket = await connectWs(base, { cookie });
    sockets.push(socket);
    return socket;
  };

  it('pushes message_updated for an edit, a reaction and a delete to members, not to outsiders', async () => {
    const { alice, bob, room, message } = await roomOfFour(() => t.app);
    const outsider = await signUp(t.app);
    const [bobSocket, outsiderSocket] = [await open(bob.cookie), await open(outsider.cookie)];

    const edited = await api.edited(alice, room.id, message.seq, 'edited live');
    const frame = (await bobSocket.waitFor(isUpdate(message.seq))) as Frame<'message_updated'>;
    expect(frame.message).toEqual(edited);

    await api.react(alice, room.id, message.seq, '🚀');
    const reacted = (await bobSocket.waitFor(isUpdate(message.seq, (m) => m.reactions.length > 0))) as Frame<'message_updated'>;
    expect(reacted.message).toMatchObject({ body: 'edited live', reactions: [{ emoji: '🚀', userIds: [alice.user.id] }] });

    await api.remove(alice, room.id, message.seq);
    const deleted = (await bobSocket.waitFor(isUpdate(message.seq, (m) => m.deletedAt !== undefined))) as Frame<'message_updated'>;
    expect(deleted.message).toMatchObject({ body: '', reactions: [] });
    expect(deleted.message.changeSeq).toBeGreaterThan(reacted.message.changeSeq!);
    // A ping answered after the updates: the outsider would have had them by then.
    outsiderSocket.send({ type: 'ping' });
    await outsiderSocket.waitFor((f) => f.type === 'pong');
    expect(outsiderSocket.received((f) => f.type === 'message_updated')).toEqual([]);
  });

  it('lets a client that was away converge: hello’s lastChange moved, and changedAfter and the newest page show the changes', async () => {
    const { alice, bob, room, message } = await roomOfFour(() => t.app);
    const second = await sendMessage(t.app, alice, room.id, 'stays as it is');
    const third = await sendMessage(t.app, alice, room.id, 'to be deleted');
    const first = await open(bob.cookie);
    const hello = first.frames.find(isHello)!;
    const known = hello.rooms.find((r) => r.id === room.id)!.lastChange!;
    expect(known).toBe(0);
    await first.close();

    // While bob is away.
    await api.edited(alice, room.id, message.seq, 'edited while away');
    await api.react(alice, room.id, second.seq, '👀');
    await api.remove(alice, room.id, third.seq);

    const back = await open(bob.cookie);
    const lastChange = back.frames.find(isHello)!.rooms.find((r) => r.id === room.id)!.lastChange!;
    expect(lastChange).toBe(3);
    const caughtUp = await api.page(bob, room.id, `?changedAfter=${known}`);
    expect(caughtUp.lastChange).toBe(lastChange);
    expect(caughtUp.messages.map((m) => [m.seq, m.body, m.reactions.map((r) => r.emoji), m.deletedAt !== undefined])).toEqual([
      [message.seq, 'edited while away', [], false],
      [second.seq, 'stays as it is', ['👀'], false],
      [third.seq, '', [], true],
    ]);
    const newest = await api.page(bob, room.id);
    expect(newest.messages.map((m) => m.body)).toEqual(['edited while away', 'stays as it is', '']);
    expect((await api.page(bob, room.id, `?after=${message.seq}`)).messages.map((m) => m.reactions.length)).toEqual([1, 0]);
  });
});
