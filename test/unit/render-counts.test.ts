/**
 * Render counts, with the real chat screen (ChatView → MessageList → MessageItem) rendered
 * by real Preact into a minimal DOM (test/support/mini-dom.ts), fed by the real ChatStore
 * over a fake socket and fetch: a typing or a presence frame re-renders no message item;
 * a new message re-renders only its own item. Renders are counted with Preact's public
 * `options.diffed` hook, which runs for a component only when it really rendered.
 */
import { h, options, render, type VNode } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message, Room, ServerFrame } from '../../src/shared/protocol.js';
import { MessageItemView } from '../../src/client/components/MessageItem.js';
import { ChatStore } from '../../src/client/core/chat-store.js';
import { ChatView } from '../../src/client/views/ChatView.js';
import { MiniDocument, type MiniElement } from '../support/mini-dom.js';

// The router listens for popstate when its module loads, before any test stubs globals.
vi.hoisted(() => {
  (globalThis as { window?: unknown }).window ??= Object.assign(new EventTarget(), { location: { pathname: '/chat' } });
});

class FakeWebSocket {
  static readonly OPEN = 1;
  static latest: FakeWebSocket | null = null;
  readyState = 0;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor() {
    FakeWebSocket.latest = this;
  }
  send(): void {}
  close(): void {}
  receive(frame: ServerFrame): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const self = { id: 'u-me', username: 'me', createdAt: '2026-01-01T00:00:00.000Z' };
const alice = { id: 'u-alice', username: 'alice' };
const room: Room = { id: 'r1', kind: 'room', name: 'general', description: '', isPrivate: false, role: 'member', lastSeq: 3, lastReadSeq: 3, memberCount: 2 };

function message(seq: number): Message {
  const at = new Date(Date.UTC(2026, 0, 1, 12, seq)).toISOString();
  return { id: `m${seq}`, roomId: 'r1', seq, sender: seq % 2 ? alice : self, body: `**message** ${seq}`, clientId: `c${seq}`, createdAt: at, reactions: [], mentions: [], attachments: [] };
}

function stubBrowser(doc: MiniDocument) {
  const storage = new Map<string, string>();
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => storage.set(key, value),
    removeItem: (key: string) => storage.delete(key),
  });
  // A wide screen: both side panels are columns, not overlays.
  const media = (query: string) => ({ matches: !query.includes('max-width'), addEventListener() {}, removeEventListener() {} });
  vi.stubGlobal('window', Object.assign(new EventTarget(), { location: { protocol: 'http:', host: 'chat.test', pathname: '/chat/r1' }, matchMedia: media, history: { pushState() {}, replaceState() {} } }));
  vi.stubGlobal('matchMedia', media);
  vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible', title: '', activeElement: null, documentElement: doc.createElement('html'), createElement: (name: string) => doc.createElement(name), head: doc.head, querySelector: () => null }));
  vi.stubGlobal('HTMLElement', class {});
  vi.stubGlobal('fetch', async (input: string) => {
    const path = new URL(input, 'http://chat.test').pathname;
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (path === '/api/v1/rooms') return json([room]);
    if (path === '/api/v1/rooms/r1/messages') return json({ messages: [1, 2, 3].map(message), hasMore: false });
    if (path === '/api/v1/rooms/r1/members') {
      return json([
        { user: alice, role: 'member', online: false },
        { user: self, role: 'owner', online: true },
      ]);
    }
    return new Response(null, { status: 204 });
  });
}

describe('render counts on the chat screen', () => {
  let renders: string[] = [];
  let previousDiffed: typeof options.diffed;
  let root: MiniElement;
  let chat: ChatStore;

  beforeEach(() => {
    const doc = new MiniDocument();
    root = doc.body;
    stubBrowser(doc);
    renders = [];
    previousDiffed = options.diffed;
    options.diffed = (vnode: VNode) => {
      if (vnode.type === MessageItemView) renders.push((vnode.props as unknown as { message: Message }).message.id);
      previousDiffed?.(vnode);
    };
  });

  afterEach(() => {
    render(null, root as unknown as Element);
    chat?.stop();
    options.diffed = previousDiffed;
    vi.unstubAllGlobals();
  });

  async function openChat() {
    chat = new ChatStore(self);
    chat.start();
    FakeWebSocket.latest!.receive({ type: 'hello', user: self, rooms: [{ id: 'r1', lastSeq: 3 }] });
    render(h(ChatView, { chat, roomId: 'r1' }), root as unknown as Element);
    await vi.waitFor(() => expect(root.byTestId('message')).toHaveLength(3));
    await vi.waitFor(() => expect(root.textContent).toContain('alice'));
    renders = [];
  }

  it('re-renders no message item on a typing frame or a presence frame, though the screen shows both', async () => {
    await openChat();
    const socket = FakeWebSocket.latest!;

    socket.receive({ type: 'typing', roomId: 'r1', userId: alice.id });
    await vi.waitFor(() => expect(root.textContent).toContain('alice is typing'));
    socket.receive({ type: 'presence', userId: alice.id, online: true });
    await vi.waitFor(() => expect(chat.getSnapshot().online[alice.id]).toBe(true));
    // Let every queued render run.
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(renders).toEqual([]);
  });

  it('re-renders only the new item when a message arrives (so the count sees real renders)', async () => {
    await openChat();
    FakeWebSocket.latest!.receive({ type: 'message', message: message(4) });
    await vi.waitFor(() => expect(root.byTestId('message')).toHaveLength(4));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(renders).toEqual(['m4']);
  });
});
