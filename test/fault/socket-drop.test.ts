/**
 * A socket cut in the middle of a burst (product.md §1 "real time": no message lost or shown
 * twice across reconnects; §3 invariant 2: clients detect gaps and fetch them).
 *
 * Bob sends a burst into a room over his socket; Alice reads it over hers. After she has
 * received part of it, her TCP connection is cut without a close handshake — from her side
 * (the socket destroyed) or from the server's (that one connection terminated) — while Bob
 * keeps sending. She reconnects, reads `hello`, fetches `?after=<last seq she has>` page by
 * page until `hasMore` is false, and keeps applying live frames, fetching whenever she sees a
 * gap. She must end with exactly the room's messages, in seq order, none twice, and every
 * copy of a message she received (pushed or fetched) must be the same message.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message, MessagePage } from '../../src/shared/protocol.js';
import { as, listenOnLoopback, signUp, startTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { connectWs, type WsClient } from '../support/ws-client.js';
import { createRoom } from '../support/factories.js';
import { sleep, waitUntil } from '../support/process.js';

const TOTAL = 400;
const CUT_AFTER_RECEIVED = 60;
/** Messages Bob gets acknowledged while Alice is away, before she reconnects. */
const SENT_WHILE_AWAY = 100;
const PAGE = 25;
const BOB_IN_FLIGHT = 8;

type Cut = 'client' | 'server';

/**
 * Alice's client as a real one is written: a timeline that only ever appends the next seq;
 * anything at or below what it has is a duplicate (checked to be the same message and
 * dropped), anything beyond the next seq is held back and a catch-up fetch is started.
 */
class Timeline {
  readonly messages: Message[] = [];
  private readonly ahead = new Map<number, Message>();
  duplicatesDropped = 0;
  conflicts: string[] = [];
  fetches = 0;
  private fetching: Promise<void> | undefined;
  private fetchAgain = false;

  constructor(private readonly fetchAfter: (after: number) => Promise<MessagePage>) {}

  get lastSeq(): number {
    return this.messages.length;
  }

  apply(message: Message): void {
    const have = this.messages[message.seq - 1] ?? this.ahead.get(message.seq);
    if (have) {
      this.duplicatesDropped += 1;
      if (have.id !== message.id || have.body !== message.body || have.clientId !== message.clientId) {
        this.conflicts.push(`seq ${message.seq}: ${have.id} vs ${message.id}`);
      }
      return;
    }
    if (message.seq !== this.lastSeq + 1) {
      this.ahead.set(message.seq, message);
      void this.catchUp();
      return;
    }
    this.messages.push(message);
    for (let next = this.ahead.get(this.lastSeq + 1); next; next = this.ahead.get(this.lastSeq + 1)) {
      this.ahead.delete(next.seq);
      this.messages.push(next);
    }
  }

  /** `?after=<last seq>` page by page until hasMore is false (one fetch at a time; a request made meanwhile runs once more after it). */
  catchUp(): Promise<void> {
    if (this.fetching) {
      this.fetchAgain = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      try {
        do {
          this.fetchAgain = false;
          for (;;) {
            this.fetches += 1;
            const page = await this.fetchAfter(this.lastSeq);
            for (const message of page.messages) this.apply(message);
            if (!page.hasMore) break;
          }
        } while (this.fetchAgain);
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }
}

describe('a socket cut mid-burst', { timeout: 60_000 }, () => {
  let t: TestApp | undefined;
  const sockets: WsClient[] = [];
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await t?.close();
    t = undefined;
  });

  const cases = DIALECTS.flatMap((dialect) => (['client', 'server'] as const).map((cut) => [dialect, cut] as const));
  it.for(cases)('on %s, cut by the %s: the reconnected client ends with exactly the room, in order, none twice', async ([dialect, cut]: readonly [string, Cut]) => {
    t = await startTestApp(dialect as 'sqlite' | 'postgres');
    const app = t.app;
    const base = await listenOnLoopback(app);

    const alice = await signUp(app);
    const bob = await signUp(app);
    const room = await createRoom(app, bob, { name: `Drop ${dialect} ${cut}` });
    expect((await app.inject({ method: 'POST', url: `/api/v1/rooms/${room.id}/join`, headers: as(alice) })).statusCode).toBe(200);

    const fetchAfter = async (after: number): Promise<MessagePage> => {
      const answer = await app.inject({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?after=${after}&limit=${PAGE}`, headers: { cookie: alice.cookie } });
      expect(answer.statusCode, answer.body).toBe(200);
      return answer.json() as MessagePage;
    };
    const timeline = new Timeline(fetchAfter);
    const follow = (socket: WsClient) => {
      socket.socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; message?: Message };
        if (frame.type === 'message' && frame.message!.roomId === room.id) timeline.apply(frame.message!);
      });
    };

    const first = await connectWs(base, { cookie: alice.cookie });
    sockets.push(first);
    follow(first);
    const bobSocket = await connectWs(base, { cookie: bob.cookie });
    sockets.push(bobSocket);

    // Bob's burst: TOTAL sends, BOB_IN_FLIGHT frames outstanding, each ack counted.
    let bobAcked = 0;
    let maxAckedSeq = 0;
    const bobDone = new Promise<void>((resolve, reject) => {
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL && sent - bobAcked < BOB_IN_FLIGHT) {
          bobSocket.send({ type: 'send', roomId: room.id, body: `burst #${sent}`, clientId: `bob-${sent}` });
          sent += 1;
        }
      };
      bobSocket.socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; message?: Message; error?: unknown };
        if (frame.type === 'error') reject(new Error(`bob's send failed: ${JSON.stringify(frame)}`));
        if (frame.type !== 'ack') return;
        bobAcked += 1;
        maxAckedSeq = Math.max(maxAckedSeq, frame.message!.seq);
        if (bobAcked === TOTAL) resolve();
        else pump();
      });
      bobSocket.socket.on('close', () => reject(new Error('bob lost his socket')));
      pump();
    });
    bobDone.catch(() => undefined);

    // ---- the cut, once Alice has part of the burst ----
    await waitUntil('alice receives the start of the burst', 10_000, () => timeline.lastSeq >= CUT_AFTER_RECEIVED, 1);
    if (cut === 'client') {
      first.socket.terminate(); // the TCP socket destroyed: no close frame, no FIN handshake wait
    } else {
      const localPort = (first.socket as unknown as { _socket: { localPort: number } })._socket.localPort;
      const serverSide = [...app.websocketServer.clients].filter(
        (client) => (client as unknown as { _socket: { remotePort: number } })._socket.remotePort === localPort,
      );
      expect(serverSide).toHaveLength(1);
      serverSide[0]!.terminate();
    }
    const closed = await first.waitForClose(5_000);
    expect(closed.code).toBe(1006); // abnormal: no close frame
    const seqAtCut = timeline.lastSeq;
    const ackedAtCut = bobAcked;
    expect(ackedAtCut).toBeLessThan(TOTAL);

    // Bob keeps sending while Alice is away.
    await waitUntil('bob sends while alice is away', 20_000, () => bobAcked >= ackedAtCut + SENT_WHILE_AWAY, 1);

    // ---- reconnect: hello, then catch up from the last seq she has; live frames keep coming ----
    const second = await connectWs(base, { cookie: alice.cookie });
    sockets.push(second);
    follow(second);
    const hello = second.frames.find((frame) => frame.type === 'hello') as { rooms: Array<{ id: string; lastSeq: number }> };
    const announced = hello.rooms.find((r) => r.id === room.id)!.lastSeq;
    expect(announced).toBeGreaterThanOrEqual(seqAtCut + SENT_WHILE_AWAY);
    expect(bobAcked).toBeLessThan(TOTAL); // the burst is still going on
    if (announced > timeline.lastSeq) await timeline.catchUp();
    expect(timeline.lastSeq).toBeGreaterThanOrEqual(announced);

    await bobDone;
    expect(maxAckedSeq).toBe(TOTAL);
    // The rest arrives live (or by a gap fetch): no final "fetch everything" here.
    await waitUntil('alice has the whole burst', 10_000, () => timeline.lastSeq === TOTAL, 5);
    await sleep(50); // late duplicates, if any, must also be dropped
    expect(timeline.lastSeq).toBe(TOTAL);

    // Exactly the room's messages, in order, none twice.
    const history: Message[] = [];
    for (let after = 0; ; ) {
      const page = await fetchAfter(after);
      history.push(...page.messages);
      if (!page.hasMore) break;
      after = page.messages.at(-1)!.seq;
    }
    expect(history).toHaveLength(TOTAL);
    expect(timeline.messages.map((m) => [m.seq, m.id, m.clientId, m.body])).toEqual(history.map((m) => [m.seq, m.id, m.clientId, m.body]));
    expect(timeline.messages.map((m) => m.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(new Set(timeline.messages.map((m) => m.id)).size).toBe(TOTAL);
    expect(new Set(timeline.messages.map((m) => m.clientId)).size).toBe(TOTAL);
    expect(timeline.conflicts).toEqual([]);
    const rows = await t.database.db.selectFrom('messages').select(['id', 'seq']).where('room_id', '=', room.id).orderBy('seq').execute();
    expect(rows.map((row) => [Number(row.seq), row.id])).toEqual(history.map((m) => [m.seq, m.id]));
    expect(second.socket.readyState).toBe(WebSocket.OPEN);

    console.info(
      `[socket-drop ${dialect}/${cut}] cut at seq ${seqAtCut} (bob had ${ackedAtCut} acked); hello said ${announced}; ` +
        `${timeline.fetches} catch-up pages; ${timeline.duplicatesDropped} duplicate copies dropped; ended with 1..${timeline.lastSeq}`,
    );
  });
});
