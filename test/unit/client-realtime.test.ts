/**
 * The browser client's real-time path against a fake WebSocket, a fake fetch and fake
 * timers: reconnect and liveness (ChatSocket), then catch-up, gap filling, sending with
 * ack/HTTP fallback, unread counts and polling (ChatStore).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message, Room, ServerFrame } from '../../src/shared/protocol.js';
import { ChatStore } from '../../src/client/core/chat-store.js';
import { messageListSelector, typingSelector } from '../../src/client/core/selectors.js';
import { ChatSocket, reconnectDelay, type LinkState } from '../../src/client/core/socket.js';
import { watch } from '../../src/client/core/store.js';

class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: FakeWebSocket[] = [];

  readyState = FakeWebSocket.CONNECTING;
  sent: unknown[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }

  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.all.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = FakeWebSocket.CLOSED;
  }

  // ---- what the server does
  accept(frame: Extract<ServerFrame, { type: 'hello' }> = { type: 'hello', user: self, rooms: [] }): void {
    this.readyState = FakeWebSocket.OPEN;
    this.receive(frame);
  }

  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.();
  }
}

const self = { id: 'u-me', username: 'me', createdAt: '2026-01-01T00:00:00.000Z' };
const alice = { id: 'u-alice', username: 'alice' };

function message(roomId: string, seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `${roomId}-${seq}`,
    roomId,
    seq,
    sender: alice,
    body: `message ${seq}`,
    clientId: `${roomId}-c${seq}`,
    reactions: [],
    mentions: [],
    attachments: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const range = (roomId: string, from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => message(roomId, from + i));

function room(id: string, lastSeq: number, extra: Partial<Room> = {}): Room {
  return { id, name: id, kind: 'room', description: '', isPrivate: false, role: 'member', lastSeq, memberCount: 2, ...extra };
}

interface Call {
  method: string;
  path: string;
  body: unknown;
}
type Answer = { status: number; body?: unknown };

/** A fake server over fetch: `answer` decides each reply; unknown routes get 404. */
function stubFetch(answer: (call: Call) => Answer | undefined): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, 'http://chat.test');
    const call = {
      method: init.method ?? 'GET',
      path: url.pathname + url.search,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const reply = answer(call) ?? { status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } };
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status });
  });
  return calls;
}

/** Lets pending promise chains (fetch → json → state) run without moving the clock much. */
const settle = () => vi.advanceTimersByTimeAsync(1);

beforeEach(() => {
  FakeWebSocket.all = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('window', Object.assign(new EventTarget(), { location: { protocol: 'http:', host: 'chat.test' } }));
  vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('reconnect backoff', () => {
  it('doubles from about 1 s up to a 30 s cap, randomised within the upper half', () => {
    expect(reconnectDelay(0, () => 0)).toBe(500);
    expect(reconnectDelay(0, () => 1)).toBe(1_000);
    expect(reconnectDelay(3, () => 1)).toBe(8_000);
    expect(reconnectDelay(10, () => 0)).toBe(15_000);
    expect(reconnectDelay(10, () => 1)).toBe(30_000);
  });
});

describe('ChatSocket', () => {
  function startSocket() {
    const states: LinkState[] = [];
    const frames: ServerFrame[] = [];
    const socket = new ChatSocket({
      url: 'ws://chat.test/api/v1/ws',
      onFrame: (frame) => frames.push(frame),
      onStateChange: (state) => states.push(state),
    });
    socket.start();
    return { socket, states, frames };
  }

  it('is connected once the server says hello, and hands frames on', () => {
    const { socket, states, frames } = startSocket();
    expect(socket.send({ type: 'ping' })).toBe(false);
    FakeWebSocket.latest().accept();
    expect(states).toEqual(['connected']);
    expect(frames.map((f) => f.type)).toEqual(['hello']);
    expect(socket.send({ type: 'typing', roomId: 'r1' })).toBe(true);
    socket.stop();
  });

  it('goes offline when an attempt fails, retries with growing delays, and resets after success', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1); // the longest delay of each step
    const { socket, states } = startSocket();
    FakeWebSocket.latest().drop();
    expect(states).toEqual(['offline']);
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);
    FakeWebSocket.latest().drop();
    vi.advanceTimersByTime(1_999);
    expect(FakeWebSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.all).toHaveLength(3);
    FakeWebSocket.latest().accept();
    expect(states).toEqual(['offline', 'connected']);

    // A drop after success starts again from the first delay, as "reconnecting".
    FakeWebSocket.latest().drop();
    expect(states.at(-1)).toBe('reconnecting');
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.all).toHaveLength(4);
    FakeWebSocket.latest().drop();
    expect(states.at(-1)).toBe('offline');
    socket.stop();
  });

  it('pings every 25 s and treats a ping unanswered for 10 s as a dead link', () => {
    const { socket, states } = startSocket();
    const first = FakeWebSocket.latest();
    first.accept();
    vi.advanceTimersByTime(25_000);
    expect(first.sent).toEqual([{ type: 'ping' }]);
    first.receive({ type: 'pong' });
    vi.advanceTimersByTime(25_000);
    expect(first.sent).toHaveLength(2);
    vi.advanceTimersByTime(9_999);
    expect(states).toEqual(['connected']);
    vi.advanceTimersByTime(1);
    expect(states).toEqual(['connected', 'reconnecting']);
    expect(first.readyState).toBe(FakeWebSocket.CLOSED);
    vi.advanceTimersByTime(1_000);
    expect(FakeWebSocket.all).toHaveLength(2);
    socket.stop();
  });

  it('abandons a connection that never says hello', () => {
    const { socket, states } = startSocket();
    vi.advanceTimersByTime(10_000);
    expect(states).toEqual(['offline']);
    socket.stop();
  });

  it('stays down after stop()', () => {
    const { socket } = startSocket();
    FakeWebSocket.latest().accept();
    socket.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.all).toHaveLength(1);
  });
});

describe('ChatStore', () => {
  let client: ChatStore | undefined;

  afterEach(() => client?.stop());

  async function startClient() {
    client = new ChatStore(self);
    client.start();
    await settle();
    return client;
  }

  function serverWith(history: Record<string, Message[]>, extra: (call: Call) => Answer | undefined = () => undefined) {
    return stubFetch((call) => {
      const handled = extra(call);
      if (handled) return handled;
      const match = /^\/api\/v1\/rooms\/([^/]+)\/messages(?:\?(.*))?$/.exec(call.path);
      if (match && call.method === 'GET') {
        const messages = history[match[1]!] ?? [];
        const query = new URLSearchParams(match[2]);
        if (query.has('after')) {
          const after = Number(query.get('after'));
          const page = messages.filter((m) => m.seq > after);
          return { status: 200, body: { messages: page.slice(0, 3), hasMore: page.length > 3 } };
        }
        const before = query.has('before') ? Number(query.get('before')) : Infinity;
        const limit = Number(query.get('limit') ?? 50);
        const older = messages.filter((m) => m.seq < before);
        return { status: 200, body: { messages: older.slice(-limit), hasMore: older.length > limit } };
      }
      return undefined;
    });
  }

  /** A server with one empty room r1 that stores a message sent to it over HTTP as seq 1. */
  function serverStoringSends() {
    return serverWith({}, (call) => {
      if (call.path === '/api/v1/rooms') return { status: 200, body: [room('r1', 0)] };
      if (call.method === 'POST' && call.path === '/api/v1/rooms/r1/messages') {
        const { body, clientId } = call.body as { body: string; clientId: string };
        return { status: 201, body: { message: message('r1', 1, { sender: self, body, clientId }) } };
      }
      return undefined;
    });
  }

  const seqsOf = (roomId: string) => client!.getSnapshot().timelines[roomId]?.messages.map((m) => m.seq);

  it('catches up after a reconnect with after=<last seq held>, repeating while hasMore', async () => {
    const history = { r1: range('r1', 1, 5) };
    const calls = serverWith(history, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 5)] } : undefined));
    await startClient();
    client!.openRoom('r1');
    await settle();
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 5 }] });
    expect(seqsOf('r1')).toEqual([1, 2, 3, 4, 5]);

    // Seven messages are written while the link is down.
    FakeWebSocket.latest().drop();
    history.r1 = range('r1', 1, 12);
    vi.advanceTimersByTime(1_000);
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 12 }] });
    await settle();

    expect(seqsOf('r1')).toEqual(range('r1', 1, 12).map((m) => m.seq));
    const afterCalls = calls.filter((c) => c.path.includes('after=')).map((c) => c.path);
    expect(afterCalls).toEqual([
      '/api/v1/rooms/r1/messages?after=5&events=true',
      '/api/v1/rooms/r1/messages?after=8&events=true',
      '/api/v1/rooms/r1/messages?after=11&events=true',
    ]);
  });

  it('fills a seq gap seen in live messages', async () => {
    const history = { r1: range('r1', 1, 3) };
    const calls = serverWith(history, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 3)] } : undefined));
    await startClient();
    client!.openRoom('r1');
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 3 }] });
    await settle();

    history.r1 = range('r1', 1, 6);
    FakeWebSocket.latest().receive({ type: 'message', message: message('r1', 6) });
    FakeWebSocket.latest().receive({ type: 'message', message: message('r1', 6) });
    await settle();

    expect(seqsOf('r1')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls.filter((c) => c.path.includes('after=')).map((c) => c.path)).toEqual(['/api/v1/rooms/r1/messages?after=3&events=true']);
  });

  it('sends over the socket, shows the message pending, and replaces it with the ack', async () => {
    serverWith({}, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 0)] } : undefined));
    await startClient();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });

    client!.send('r1', 'hello there');
    const [frame] = socket.sent as Array<{ type: string; roomId: string; body: string; clientId: string }>;
    expect(frame).toMatchObject({ type: 'send', roomId: 'r1', body: 'hello there' });
    expect(frame!.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client!.getSnapshot().timelines.r1?.pending).toEqual([
      { clientId: frame!.clientId, body: 'hello there', status: 'sending' },
    ]);

    socket.receive({
      type: 'ack',
      clientId: frame!.clientId,
      message: message('r1', 1, { sender: self, body: 'hello there', clientId: frame!.clientId }),
    });
    const timeline = client!.getSnapshot().timelines.r1!;
    expect(timeline.pending).toEqual([]);
    expect(timeline.messages.map((m) => m.body)).toEqual(['hello there']);
    expect(client!.getSnapshot().unread.r1).toBe(0);
  });

  it('resends over HTTP with the same clientId when no ack comes within 10 s', async () => {
    const calls = serverStoringSends();
    await startClient();
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });
    client!.send('r1', 'anyone?');
    const { clientId } = FakeWebSocket.latest().sent[0] as { clientId: string };

    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await settle();

    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/v1/rooms/r1/messages', body: { body: 'anyone?', clientId } },
    ]);
    expect(client!.getSnapshot().timelines.r1?.pending).toEqual([]);
    expect(seqsOf('r1')).toEqual([1]);
  });

  it('resends an unacknowledged message over HTTP as soon as the link drops', async () => {
    const calls = serverStoringSends();
    await startClient();
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });
    client!.send('r1', 'are you there?');
    const { clientId } = FakeWebSocket.latest().sent[0] as { clientId: string };
    FakeWebSocket.latest().drop();
    await settle();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ body: 'are you there?', clientId }]);
    expect(client!.getSnapshot().timelines.r1?.pending).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('sends over HTTP at once while the socket is down', async () => {
    const calls = serverWith({}, (call) => {
      if (call.path === '/api/v1/rooms') return { status: 200, body: [room('r1', 0)] };
      if (call.method === 'POST') {
        return { status: 400, body: { error: { code: 'validation_failed', message: 'Too long.', field: 'body' } } };
      }
      return undefined;
    });
    await startClient();
    FakeWebSocket.latest().drop();
    client!.send('r1', 'x');
    await settle();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(client!.getSnapshot().timelines.r1?.pending[0]).toMatchObject({ status: 'failed', error: 'Too long.' });
  });

  it('marks a message failed on an error frame and resends it with the same clientId on retry', async () => {
    serverWith({}, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 0)] } : undefined));
    await startClient();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });
    client!.send('r1', 'spam');
    const { clientId } = socket.sent[0] as { clientId: string };

    socket.receive({ type: 'error', clientId, error: { code: 'rate_limited', message: 'Slow down.' } });
    expect(client!.getSnapshot().timelines.r1?.pending[0]).toMatchObject({ status: 'failed', error: 'Slow down.' });

    client!.retry('r1', clientId);
    expect(socket.sent[1]).toEqual({ type: 'send', roomId: 'r1', body: 'spam', clientId });
    expect(client!.getSnapshot().timelines.r1?.pending[0]).toMatchObject({ status: 'sending' });
  });

  it('counts unread messages from lastReadSeq, or from what arrives after loading, and marks the open room read', async () => {
    const calls = serverWith({ r1: range('r1', 1, 10) }, (call) => {
      if (call.path === '/api/v1/rooms') {
        return { status: 200, body: [room('r1', 10, { lastReadSeq: 7 }), room('r2', 4)] };
      }
      return undefined;
    });
    await startClient();
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 10 }, { id: 'r2', lastSeq: 4 }] });
    expect(client!.getSnapshot().unread).toEqual({ r1: 3, r2: 0 });

    FakeWebSocket.latest().receive({ type: 'message', message: message('r2', 5) });
    expect(client!.getSnapshot().unread.r2).toBe(1);
    // What one writes, one has read, and what came before it too (as the server moves the marker).
    FakeWebSocket.latest().receive({ type: 'message', message: message('r2', 6, { sender: self }) });
    expect(client!.getSnapshot().unread.r2).toBe(0);

    client!.openRoom('r1');
    await vi.advanceTimersByTimeAsync(600);
    expect(client!.getSnapshot().unread.r1).toBe(0);
    expect(calls.filter((c) => c.path === '/api/v1/rooms/r1/read')).toEqual([
      { method: 'POST', path: '/api/v1/rooms/r1/read', body: { seq: 10 } },
    ]);
  });

  it('shows who is typing until their message arrives or 5 s pass', async () => {
    serverWith({ r1: range('r1', 1, 1) }, (call) =>
      call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 1)] } : undefined,
    );
    await startClient();
    client!.openRoom('r1');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 1 }] });
    socket.receive({ type: 'typing', roomId: 'r1', userId: alice.id });
    socket.receive({ type: 'typing', roomId: 'r1', userId: self.id });
    expect(client!.getSnapshot().typing.r1).toEqual(['alice']);
    socket.receive({ type: 'message', message: message('r1', 2) });
    expect(client!.getSnapshot().typing.r1).toEqual([]);
    socket.receive({ type: 'typing', roomId: 'r1', userId: alice.id });
    vi.advanceTimersByTime(5_000);
    expect(client!.getSnapshot().typing.r1).toEqual([]);
  });

  it('keeps the message list slice identical (===) through typing and presence frames, which change their own slices', async () => {
    serverWith({ r1: range('r1', 1, 2) }, (call) =>
      call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 2)] } : undefined,
    );
    await startClient();
    client!.openRoom('r1');
    await settle();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 2 }] });
    await settle();
    const selectList = messageListSelector('r1');
    const selectTyping = typingSelector('r1');
    const list = selectList(client!.getSnapshot());
    const typingBefore = selectTyping(client!.getSnapshot());
    expect(list.timeline.messages.map((m) => m.seq)).toEqual([1, 2]);
    const listChanges: unknown[] = [];
    const typingChanges: unknown[] = [];
    const stopList = watch(client!, selectList, Object.is, (next) => listChanges.push(next));
    const stopTyping = watch(client!, selectTyping, Object.is, (next) => typingChanges.push(next));

    socket.receive({ type: 'typing', roomId: 'r1', userId: alice.id });
    socket.receive({ type: 'presence', userId: alice.id, online: true });
    await settle();
    const snapshot = client!.getSnapshot();
    expect(selectList(snapshot)).toBe(list);
    expect(selectTyping(snapshot)).not.toBe(typingBefore);
    expect(selectTyping(snapshot)).toEqual(['alice']);
    expect(snapshot.online[alice.id]).toBe(true);
    expect(listChanges).toEqual([]);
    expect(typingChanges).toEqual([['alice']]);

    // A message is the list's own business.
    socket.receive({ type: 'message', message: message('r1', 3) });
    await settle();
    expect(selectList(client!.getSnapshot())).not.toBe(list);
    expect(listChanges).toHaveLength(1);
    stopList();
    stopTyping();
  });

  it('sends typing frames at most every 3 s', async () => {
    serverWith({}, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 0)] } : undefined));
    await startClient();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });
    client!.notifyTyping('r1');
    client!.notifyTyping('r1');
    vi.advanceTimersByTime(2_999);
    client!.notifyTyping('r1');
    vi.advanceTimersByTime(1);
    client!.notifyTyping('r1');
    expect(socket.sent).toEqual([
      { type: 'typing', roomId: 'r1' },
      { type: 'typing', roomId: 'r1' },
    ]);
  });

  it('drops a room the user was removed from', async () => {
    serverWith({}, (call) => (call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 0), room('r2', 0)] } : undefined));
    await startClient();
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }, { id: 'r2', lastSeq: 0 }] });
    FakeWebSocket.latest().receive({ type: 'member', roomId: 'r2', userId: self.id, change: 'removed' });
    expect(client!.getSnapshot().rooms?.map((r) => r.id)).toEqual(['r1']);
  });

  it('tells the user they were removed from a room, but not when they left it themselves', async () => {
    serverWith({}, (call) =>
      call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 0, { name: 'Lobby' }), room('r2', 0)] } : undefined,
    );
    await startClient();
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }, { id: 'r2', lastSeq: 0 }] });
    socket.receive({ type: 'member', roomId: 'r2', userId: self.id, change: 'left' });
    expect(client!.getSnapshot().notice).toBeNull();

    socket.receive({ type: 'member', roomId: 'r1', userId: self.id, change: 'removed' });
    expect(client!.getSnapshot().rooms).toEqual([]);
    expect(client!.getSnapshot().notice).toMatchObject({ roomId: 'r1', text: 'You were removed from Lobby.' });
    // A repeated frame for a room no longer held says nothing new.
    const { notice } = client!.getSnapshot();
    socket.receive({ type: 'member', roomId: 'r1', userId: self.id, change: 'removed' });
    expect(client!.getSnapshot().notice).toBe(notice);
    client!.dismissNotice();
    expect(client!.getSnapshot().notice).toBeNull();
  });

  it('does not bring back a room the user was removed from with a room list asked for before', async () => {
    let answerRooms: (() => void) | undefined;
    let listed = [room('r1', 0), room('r2', 0)];
    vi.stubGlobal('fetch', async (input: string) => {
      const path = new URL(input, 'http://chat.test').pathname;
      if (path !== '/api/v1/rooms') return new Response(null, { status: 404 });
      const body = JSON.stringify(listed);
      await new Promise<void>((resolve) => (answerRooms = resolve));
      return new Response(body, { status: 200 });
    });
    await startClient();
    answerRooms!();
    await settle();
    expect(client!.getSnapshot().rooms?.map((r) => r.id)).toEqual(['r1', 'r2']);

    const stale = client!.reloadRooms(); // asked while r2 still held
    const socket = FakeWebSocket.latest();
    socket.accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }, { id: 'r2', lastSeq: 0 }] });
    socket.receive({ type: 'member', roomId: 'r2', userId: self.id, change: 'removed' });
    listed = [room('r1', 0)];
    answerRooms!();
    await stale;
    expect(client!.getSnapshot().rooms?.map((r) => r.id)).toEqual(['r1']);
    await vi.advanceTimersByTimeAsync(300);
    answerRooms!();
    await settle();
    expect(client!.getSnapshot().rooms?.map((r) => r.id)).toEqual(['r1']);
  });

  describe('moderation', () => {
    const bob = { id: 'u-bob', username: 'bob', createdAt: '2026-01-01T00:00:00.000Z' };
    const members = () => [
      { user: self, role: 'owner', online: true },
      { user: bob, role: 'member', online: false },
    ];

    function moderatedServer(refuse?: Answer) {
      return serverWith({ r1: [] }, (call) => {
        if (call.path === '/api/v1/rooms') return { status: 200, body: [room('r1', 0, { role: 'owner' })] };
        if (call.path === '/api/v1/rooms/r1/members') return { status: 200, body: members() };
        if (call.method !== 'GET') return refuse ?? { status: 204 };
        return undefined;
      });
    }

    async function openModeratedRoom() {
      await startClient();
      FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 0 }] });
      client!.openRoom('r1');
      await settle();
      expect(client!.getSnapshot().members.r1).toHaveLength(2);
    }

    const moderationCalls = (calls: Call[]) => calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);

    it('removes, bans and changes roles through the API, showing the change at once', async () => {
      const calls = moderatedServer();
      await openModeratedRoom();

      await client!.setMemberRole('r1', bob.id, 'moderator');
      expect(client!.getSnapshot().members.r1?.find((m) => m.user.id === bob.id)?.role).toBe('moderator');
      expect(calls.at(-1)).toMatchObject({ method: 'PUT', path: '/api/v1/rooms/r1/members/u-bob/role', body: { role: 'moderator' } });

      await client!.removeMember('r1', bob.id, { ban: false });
      expect(client!.getSnapshot().members.r1?.map((m) => m.user.id)).toEqual([self.id]);
      await client!.removeMember('r1', bob.id, { ban: true });
      expect(moderationCalls(calls)).toEqual([
        'PUT /api/v1/rooms/r1/members/u-bob/role',
        'POST /api/v1/rooms/r1/members/u-bob/remove',
        'PUT /api/v1/rooms/r1/bans/u-bob',
      ]);
    });

    it("passes the server's refusal on and leaves the list as it was", async () => {
      moderatedServer({ status: 403, body: { error: { code: 'forbidden', message: 'Only the owner can act on a moderator.' } } });
      await openModeratedRoom();
      await expect(client!.removeMember('r1', bob.id, { ban: true })).rejects.toMatchObject({
        status: 403,
        message: 'Only the owner can act on a moderator.',
      });
      expect(client!.getSnapshot().members.r1).toHaveLength(2);
    });

    it("refreshes the open room's members on role and removal frames", async () => {
      const calls = moderatedServer();
      await openModeratedRoom();
      const memberLoads = () => calls.filter((c) => c.path === '/api/v1/rooms/r1/members').length;
      const before = memberLoads();
      FakeWebSocket.latest().receive({ type: 'member', roomId: 'r1', userId: bob.id, change: 'role' });
      await settle();
      FakeWebSocket.latest().receive({ type: 'member', roomId: 'r1', userId: bob.id, change: 'removed' });
      await settle();
      expect(memberLoads()).toBe(before + 2);
    });
  });

  it('polls the open room every 3 s while the socket is down, and stops once it is back', async () => {
    const calls = serverWith({ r1: range('r1', 1, 2) }, (call) =>
      call.path === '/api/v1/rooms' ? { status: 200, body: [room('r1', 2)] } : undefined,
    );
    await startClient();
    client!.openRoom('r1');
    await settle();
    FakeWebSocket.latest().drop();
    expect(client!.getSnapshot().connection).toBe('polling');
    await settle();
    await vi.advanceTimersByTimeAsync(6_000);
    const polls = () => calls.filter((c) => c.path === '/api/v1/rooms/r1/messages?after=2&events=true').length;
    expect(polls()).toBe(3);

    await vi.advanceTimersByTimeAsync(1_000);
    const socketsBefore = FakeWebSocket.all.length;
    expect(socketsBefore).toBe(2);
    FakeWebSocket.latest().accept({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 2 }] });
    expect(client!.getSnapshot().connection).toBe('connected');
    const pollsAtReconnect = polls();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(polls()).toBe(pollsAtReconnect);
  });
});
