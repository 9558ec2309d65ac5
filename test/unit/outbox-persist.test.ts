/**
 * The outbox across a dead link and a reload, against a fake socket and fetch: what is
 * written while the server cannot be reached is kept (shown as not sent, stored per user),
 * goes out by itself once the link is back, with the same clientId, exactly once; what the
 * server refused waits for the user. A reload shows and sends what an earlier page left.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientFrame, Message, Room, ServerFrame } from '../../src/shared/protocol.js';
import { ChatStore } from '../../src/client/core/chat-store.js';
import { OFFLINE_REASON } from '../../src/client/core/outbox.js';

class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static all: FakeWebSocket[] = [];
  readyState = FakeWebSocket.CONNECTING;
  sent: ClientFrame[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor() {
    FakeWebSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {}
  hello(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.receive({ type: 'hello', user: me, rooms: [{ id: 'r1', lastSeq: 0 }] });
  }
  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const me = { id: 'u-me', username: 'me', createdAt: '2026-01-01T00:00:00.000Z' };
const other = { id: 'u-other', username: 'other', createdAt: '2026-01-01T00:00:00.000Z' };
const room: Room = { id: 'r1', kind: 'room', name: 'r1', description: '', isPrivate: false, role: 'member', lastSeq: 0, memberCount: 2 };

/** The server: rooms and history answer; posting a message depends on `postAnswer`. */
let postAnswer: 'unreachable' | 'refused' | 'ok' = 'unreachable';
let posted: { clientId: string; body: string }[] = [];
let storage: Map<string, string>;
let stores: ChatStore[] = [];

function committed(clientId: string, body: string, seq = 1): Message {
  return { id: `m-${clientId}`, roomId: 'r1', seq, sender: { id: me.id, username: me.username }, body, clientId, createdAt: new Date().toISOString(), reactions: [], mentions: [], attachments: [] };
}

beforeEach(() => {
  FakeWebSocket.all = [];
  postAnswer = 'unreachable';
  posted = [];
  storage = new Map();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('window', Object.assign(new EventTarget(), { location: { protocol: 'http:', host: 'chat.test' } }));
  vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => storage.set(key, value),
    removeItem: (key: string) => storage.delete(key),
  });
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const path = new URL(input, 'http://chat.test').pathname;
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (path === '/api/v1/rooms') return json(200, [room]);
    if (path === '/api/v1/rooms/r1/messages' && init.method === 'POST') {
      if (postAnswer === 'unreachable') throw new TypeError('Failed to fetch');
      if (postAnswer === 'refused') return json(403, { error: { code: 'not_member', message: 'You are not a member of this room.' } });
      const body = JSON.parse(String(init.body)) as { clientId: string; body: string };
      posted.push(body);
      return json(201, { message: committed(body.clientId, body.body) });
    }
    if (path === '/api/v1/rooms/r1/messages') return json(200, { messages: [], hasMore: false });
    return new Response(null, { status: 204 });
  });
});

afterEach(() => {
  for (const store of stores) store.stop();
  stores = [];
  vi.unstubAllGlobals();
});

function startStore(user = me): { chat: ChatStore; socket: FakeWebSocket } {
  const chat = new ChatStore(user);
  stores.push(chat);
  chat.start();
  return { chat, socket: FakeWebSocket.all.at(-1)! };
}

const pendingOf = (chat: ChatStore) => chat.getSnapshot().timelines.r1?.pending ?? [];
const sendFrames = (socket: FakeWebSocket) => socket.sent.filter((frame) => frame.type === 'send');
const storedOutbox = (userId: string) => JSON.parse(storage.get(`securechat.outbox.${userId}`) ?? '[]') as { clientId: string }[];

describe('the outbox while the server cannot be reached', () => {
  it('keeps a message written offline, shows it as not sent, and sends it once when the link is back', async () => {
    const { chat, socket } = startStore();
    chat.send('r1', 'written offline');
    await vi.waitFor(() => expect(pendingOf(chat)[0]).toMatchObject({ status: 'failed', error: OFFLINE_REASON }));
    const { clientId } = pendingOf(chat)[0]!;
    expect(storedOutbox(me.id)).toEqual([{ roomId: 'r1', clientId, body: 'written offline' }]);

    socket.hello();
    expect(sendFrames(socket)).toEqual([{ type: 'send', roomId: 'r1', body: 'written offline', clientId }]);
    expect(pendingOf(chat)[0]).toMatchObject({ status: 'sending' });

    socket.receive({ type: 'ack', clientId, message: committed(clientId, 'written offline') });
    await vi.waitFor(() => expect(pendingOf(chat)).toEqual([]));
    expect(chat.getSnapshot().timelines.r1?.messages.map((m) => m.body)).toEqual(['written offline']);
    expect(storage.has(`securechat.outbox.${me.id}`)).toBe(false);

    // A second reconnect sends nothing again.
    socket.hello();
    expect(sendFrames(socket)).toHaveLength(1);
  });

  it('after a reload, shows what the earlier page left unsent and sends it with the same clientId', async () => {
    const first = startStore();
    first.chat.send('r1', 'before the reload');
    await vi.waitFor(() => expect(pendingOf(first.chat)[0]?.status).toBe('failed'));
    const { clientId } = pendingOf(first.chat)[0]!;
    first.chat.stop();

    // The reloaded page: same browser storage, a new store and socket.
    const second = startStore();
    expect(pendingOf(second.chat)).toEqual([{ clientId, body: 'before the reload', status: 'sending' }]);
    second.socket.hello();
    expect(sendFrames(second.socket)).toEqual([{ type: 'send', roomId: 'r1', body: 'before the reload', clientId }]);
    second.socket.receive({ type: 'ack', clientId, message: committed(clientId, 'before the reload') });
    await vi.waitFor(() => expect(storedOutbox(me.id)).toEqual([]));
  });

  it('sends over HTTP when the server answers but the socket stays down, once', async () => {
    const { chat } = startStore();
    postAnswer = 'ok';
    chat.send('r1', 'over http');
    await vi.waitFor(() => expect(pendingOf(chat)).toEqual([]));
    expect(posted.map((p) => p.body)).toEqual(['over http']);
    expect(storedOutbox(me.id)).toEqual([]);
  });

  it('keeps a refused message for the user to retry or discard, and does not resend it by itself', async () => {
    const { chat, socket } = startStore();
    postAnswer = 'refused';
    chat.send('r1', 'refused');
    await vi.waitFor(() => expect(pendingOf(chat)[0]).toMatchObject({ status: 'failed', error: 'You are not a member of this room.' }));
    socket.hello();
    expect(sendFrames(socket)).toEqual([]);

    // Restored as refused after a reload, still not sent by itself.
    chat.stop();
    const reloaded = startStore();
    expect(pendingOf(reloaded.chat)[0]).toMatchObject({ status: 'failed', error: 'You are not a member of this room.' });
    reloaded.socket.hello();
    expect(sendFrames(reloaded.socket)).toEqual([]);
    const { clientId } = pendingOf(reloaded.chat)[0]!;
    reloaded.chat.discard('r1', clientId);
    expect(storedOutbox(me.id)).toEqual([]);
  });

  it("never shows one account's unsent messages to another on the same browser", async () => {
    const { chat } = startStore();
    chat.send('r1', 'mine');
    await vi.waitFor(() => expect(pendingOf(chat)[0]?.status).toBe('failed'));
    chat.stop();
    const someoneElse = startStore(other);
    expect(pendingOf(someoneElse.chat)).toEqual([]);
  });
});
