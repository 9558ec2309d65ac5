/**
 * The gateway's reading back of bus pointers (realtime/pointers.ts): arrival order kept
 * while a pointer is read, an unreadable pointer becomes `resync`, and a failing handler
 * does not stop what follows.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import { resolvingPointers, type ResolvedEvent } from '../../src/server/realtime/pointers.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const message = (seq: number) => ({ id: `m${seq}`, roomId: 'r', seq, body: `body ${seq}` }) as unknown as Message;
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('resolvingPointers', () => {
  it('hands events on in arrival order, waiting behind a pointer being read', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const { receive: handle } = resolvingPointers(
      {
        loadMessage: async (_roomId, seq) => (await gate, message(seq)),
        loadRoomIds: async () => ['r'],
      },
      (event: ResolvedEvent) => seen.push(event.kind === 'message' ? `message ${event.message.seq}` : event.kind),
      quiet,
    );
    handle({ kind: 'typing', roomId: 'r', userId: 'u' });
    handle({ kind: 'message-ref', roomId: 'r', seq: 2 });
    handle({ kind: 'presence-ref', userId: 'u', online: true });
    handle({ kind: 'typing', roomId: 'r', userId: 'u' });
    expect(seen).toEqual(['typing']);
    release();
    await settle();
    expect(seen).toEqual(['typing', 'message 2', 'presence', 'typing']);
    handle({ kind: 'resync' });
    expect(seen.at(-1)).toBe('resync'); // nothing waiting: handed on at once
  });

  it('turns a pointer that cannot be read into resync, and a failing handler stops nothing', async () => {
    const seen: string[] = [];
    let throwOnce = true;
    const { receive: handle } = resolvingPointers(
      { loadMessage: async () => undefined, loadRoomIds: async () => [] },
      (event: ResolvedEvent) => {
        seen.push(event.kind);
        if (throwOnce) {
          throwOnce = false;
          throw new Error('subscriber broke');
        }
      },
      quiet,
    );
    handle({ kind: 'message-ref', roomId: 'r', seq: 9 });
    handle({ kind: 'typing', roomId: 'r', userId: 'u' });
    handle({ kind: 'presence-ref', userId: 'u', online: false });
    await settle();
    expect(seen).toEqual(['resync', 'typing', 'presence']);
  });

  it('hands nothing on once stopped, and stop waits for the read in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const seen: string[] = [];
    const resolver = resolvingPointers(
      { loadMessage: async (_roomId, seq) => (reads++, await gate, message(seq)), loadRoomIds: async () => [] },
      (event: ResolvedEvent) => seen.push(event.kind),
      quiet,
    );
    resolver.receive({ kind: 'message-ref', roomId: 'r', seq: 1 });
    resolver.receive({ kind: 'message-ref', roomId: 'r', seq: 2 });
    await settle(); // the first read has started
    let stopped = false;
    const stopping = resolver.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false); // the first read is still running
    release();
    await stopping;
    expect(seen).toEqual([]);
    expect(reads).toBe(1); // the queued pointer was never read
    resolver.receive({ kind: 'typing', roomId: 'r', userId: 'u' });
    expect(seen).toEqual([]);
  });
});
