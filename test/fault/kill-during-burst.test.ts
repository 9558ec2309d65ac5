/**
 * `kill -9` of the server in the middle of a burst of sends (product.md §3, invariants 1 and 2):
 * the real server runs as a process; four users send at once, two over WebSocket `send` frames
 * (several frames in flight each) and two over HTTP POSTs (several requests in flight each),
 * into two rooms, every message with its own clientId. After a fixed number of
 * acknowledgements the server gets SIGKILL while sends are still in flight. It is started
 * again on the same data, and then:
 *   - every acknowledged message (ack frame or 2xx) is stored exactly once, with the seq and
 *     body it was acknowledged with, through the API and in the database itself;
 *   - each room's seqs are 1..N with no gap, and rooms.last_seq is N;
 *   - resending every unacknowledged message (and some acknowledged ones) with the SAME
 *     clientId creates no duplicate: a message committed before the kill comes back as it
 *     was (200 / the same ack), one that was not is created once, and seqs stay contiguous.
 * On SQLite and on PostgreSQL.
 */
import WebSocket from 'ws';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../src/server/config.js';
import { openDatabase } from '../../src/server/db/database.js';
import { DIALECTS, type Dialect } from '../support/databases.js';
import { connectWs, type WsClient } from '../support/ws-client.js';
import { isReply } from '../support/frames.js';
import type { Message } from '../../src/shared/protocol.js';
import { call, type Session } from '../support/http.js';
import { createRoom, joinRoom, myRooms, readAll, sequenceProblems, signUp } from '../support/factories.js';
import { exitWithin, Resources, waitUntil, type ServerProcess } from '../support/process.js';

/** Acknowledgements (all clients together) after which the server is killed. */
const KILL_AFTER_ACKS = 240;
/** Frames (WebSocket) or requests (HTTP) each client keeps in flight. */
const IN_FLIGHT = 6;
/** Each client's plan is longer than any burst gets before the kill. */
const PLANNED_PER_CLIENT = 3_000;

interface Planned {
  sender: string;
  via: 'ws' | 'http';
  roomId: string;
  clientId: string;
  body: string;
  attempted: boolean;
  /** The message as acknowledged (ack frame or 2xx), if it was. */
  acked?: Message;
  /** What ended the attempt otherwise. */
  failure?: string;
}

function plan(sender: string, via: 'ws' | 'http', rooms: string[]): Planned[] {
  return Array.from({ length: PLANNED_PER_CLIENT }, (_, i) => ({
    sender,
    via,
    roomId: rooms[i % rooms.length]!,
    clientId: `${sender}-${i}`,
    body: `burst ${sender} #${i}`,
    attempted: false,
  }));
}

/** Sends the plan over the socket with `IN_FLIGHT` frames outstanding, until it closes. */
function sendOverSocket(ws: WsClient, messages: Planned[], onAck: () => void): Promise<void> {
  return new Promise((resolve) => {
    const pending = new Map<string, Planned>();
    let next = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      for (const m of pending.values()) m.failure ??= 'socket closed before the ack';
      resolve();
    };
    const pump = () => {
      while (pending.size < IN_FLIGHT && next < messages.length && ws.socket.readyState === WebSocket.OPEN) {
        const m = messages[next++]!;
        m.attempted = true;
        pending.set(m.clientId, m);
        ws.send({ type: 'send', roomId: m.roomId, body: m.body, clientId: m.clientId });
      }
      if (next >= messages.length && pending.size === 0) finish();
    };
    ws.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; clientId?: string; message?: Message; error?: unknown };
      if ((frame.type !== 'ack' && frame.type !== 'error') || !frame.clientId) return;
      const m = pending.get(frame.clientId);
      if (!m) return;
      pending.delete(frame.clientId);
      if (frame.type === 'ack') {
        m.acked = frame.message;
        onAck();
      } else {
        m.failure = `error frame ${JSON.stringify(frame.error)}`;
      }
      pump();
    });
    ws.socket.on('close', finish);
    pump();
  });
}

/** Sends the plan over HTTP with `IN_FLIGHT` requests outstanding; a worker stops at its first network error. */
async function sendOverHttp(base: string, session: Session, messages: Planned[], onAck: () => void): Promise<void> {
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < messages.length) {
      const m = messages[next++]!;
      m.attempted = true;
      try {
        const answer = await call<{ message: Message }>(base, 'POST', `/api/v1/rooms/${m.roomId}/messages`, {
          session,
          body: { body: m.body, clientId: m.clientId },
          timeoutMs: 10_000,
        });
        if (answer.status === 201 || answer.status === 200) {
          m.acked = answer.body.message;
          onAck();
        } else {
          m.failure = `HTTP ${answer.status} ${JSON.stringify(answer.body)}`;
        }
      } catch (error) {
        m.failure = `network: ${(error as Error).cause ?? (error as Error).message}`;
        stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

interface StoredRow {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
}

/** What the database itself holds: every message row, each room's last_seq, and (room, sender, clientId) groups seen twice. */
async function inspect(target: DatabaseTarget) {
  const handle = openDatabase(target);
  try {
    const rows = (await handle.db
      .selectFrom('messages')
      .select(['id', 'room_id', 'seq', 'sender_id', 'client_id'])
      .orderBy('room_id')
      .orderBy('seq')
      .execute()) as StoredRow[];
    const rooms = await handle.db.selectFrom('rooms').select(['id', 'last_seq']).execute();
    const duplicates = await handle.db
      .selectFrom('messages')
      .select(['room_id', 'sender_id', 'client_id', sql<number>`count(*)`.as('copies')])
      .groupBy(['room_id', 'sender_id', 'client_id'])
      .having(sql`count(*)`, '>', 1)
      .execute();
    return { rows, lastSeq: new Map(rooms.map((room) => [room.id, Number(room.last_seq)])), duplicates };
  } finally {
    await handle.close();
  }
}

describe('kill -9 during a burst of sends', { timeout: 90_000 }, () => {
  const resources = new Resources();
  afterEach(async () => resources.dispose());

  it.for(DIALECTS)('on %s: acknowledged messages survive exactly once; resends with the same clientId add no duplicate; seqs stay 1..N', async (dialect: Dialect) => {
    const { dataDir, env, target } = await resources.dataFor(dialect);

    // ---- four users, two rooms (General and one more) ----
    let server: ServerProcess = await resources.startServer(env, dataDir);
    const names = ['ann', 'ben', 'cat', 'dan'].map((name) => `${name}_${dialect}`);
    const sessions: Session[] = [];
    for (const name of names) sessions.push(await signUp(server.url, name));
    const general = (await myRooms(server.url, sessions[0]!)).find((room) => room.name === 'General')!;
    const burst = await createRoom(server.url, sessions[0]!, { name: `Burst ${dialect}` });
    for (const session of sessions.slice(1)) await joinRoom(server.url, session, burst.id);
    const roomIds = [general.id, burst.id];

    const plans = [
      plan(names[0]!, 'ws', roomIds),
      plan(names[1]!, 'ws', roomIds),
      plan(names[2]!, 'http', roomIds),
      plan(names[3]!, 'http', roomIds),
    ];
    const sockets = await Promise.all([connectWs(server.url, { cookie: sessions[0]!.cookie }), connectWs(server.url, { cookie: sessions[1]!.cookie })]);

    // ---- the burst, and SIGKILL once KILL_AFTER_ACKS acknowledgements have come back ----
    let acks = 0;
    let inFlightAtKill = -1;
    const killed = server.proc;
    const onAck = () => {
      acks += 1;
      if (acks === KILL_AFTER_ACKS) {
        inFlightAtKill = plans.flat().filter((m) => m.attempted && !m.acked).length;
        killed.child.kill('SIGKILL');
      }
    };
    const burstStarted = performance.now();
    await Promise.all([
      sendOverSocket(sockets[0]!, plans[0]!, onAck),
      sendOverSocket(sockets[1]!, plans[1]!, onAck),
      sendOverHttp(server.url, sessions[2]!, plans[2]!, onAck),
      sendOverHttp(server.url, sessions[3]!, plans[3]!, onAck),
    ]);
    const burstMs = performance.now() - burstStarted;
    const exit = await exitWithin(killed, 10_000);
    expect(exit.signal).toBe('SIGKILL');

    const all = plans.flat();
    const acked = all.filter((m) => m.acked);
    const unacked = all.filter((m) => m.attempted && !m.acked);
    // The kill landed mid-burst: sends were in flight on every transport, none failed before it.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(unacked.length).toBeGreaterThan(0);
    expect(all.filter((m) => m.failure?.startsWith('HTTP') || m.failure?.startsWith('error frame'))).toEqual([]);
    for (const p of plans) expect(p.filter((m) => m.acked).length, `${p[0]!.sender} got acks before the kill`).toBeGreaterThan(0);
    for (const m of acked) expect(m.acked).toMatchObject({ roomId: m.roomId, clientId: m.clientId, body: m.body });
    await Promise.all(sockets.map((socket) => socket.close()));

    // ---- restart on the same data ----
    server = await resources.startServer(env, dataDir);
    const reader = sessions[0]!; // sessions live in the database, the cookie secret in DATA_DIR: still signed in

    const byClientId = new Map(all.map((m) => [`${sessions[names.indexOf(m.sender)]!.user.id}/${m.clientId}`, m]));
    const check = async () => {
      const history = new Map<string, Message[]>();
      for (const roomId of roomIds) history.set(roomId, await readAll(server.url, reader, roomId));
      const db = await inspect(target);
      for (const roomId of roomIds) {
        const messages = history.get(roomId)!;
        // Contiguous 1..N, nothing twice, and the counter agrees with the rows.
        expect(sequenceProblems(messages), `room ${roomId}`).toEqual({ outOfPlace: [], duplicateClientIds: [] });
        expect(db.lastSeq.get(roomId)).toBe(messages.length);
        const rows = db.rows.filter((row) => row.room_id === roomId);
        expect(rows.map((row) => [row.seq, row.id])).toEqual(messages.map((m) => [m.seq, m.id]));
        // Nothing stored that nobody sent, and every body as it was sent.
        for (const message of messages) {
          const sent = byClientId.get(`${message.sender.id}/${message.clientId}`);
          expect(sent, `stored message ${message.clientId} was never sent`).toBeDefined();
          expect(message).toMatchObject({ roomId: sent!.roomId, body: sent!.body, sender: { username: sent!.sender } });
        }
      }
      expect(db.duplicates).toEqual([]);
      const stored = new Map([...history.values()].flat().map((m) => [`${m.sender.id}/${m.clientId}`, m]));
      return { stored, db };
    };

    // Every acknowledged message: exactly once, with the id, seq and body of its acknowledgement.
    const afterRestart = await check();
    for (const m of acked) {
      const key = `${m.acked!.sender.id}/${m.clientId}`;
      expect(afterRestart.stored.get(key), `acknowledged ${m.clientId} lost`).toMatchObject({ id: m.acked!.id, seq: m.acked!.seq, body: m.body });
    }
    const committedUnacked = unacked.filter((m) => afterRestart.stored.has(`${sessions[names.indexOf(m.sender)]!.user.id}/${m.clientId}`));

    // ---- clients resend every unacknowledged message, and a few acknowledged ones, with the same clientId ----
    const replays = plans.flatMap((p) => p.filter((m) => m.acked).slice(0, 5));
    const resent = new Map<Planned, { message: Message; status?: number }>();
    await Promise.all(
      plans.map(async (p, index) => {
        const session = sessions[index]!;
        const again = [...p.filter((m) => m.attempted && !m.acked), ...replays.filter((m) => m.sender === p[0]!.sender)];
        if (p[0]!.via === 'http') {
          for (const m of again) {
            const answer = await call<{ message: Message }>(server.url, 'POST', `/api/v1/rooms/${m.roomId}/messages`, {
              session,
              body: { body: m.body, clientId: m.clientId },
            });
            expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);
            resent.set(m, { message: answer.body.message, status: answer.status });
          }
          return;
        }
        const ws = await connectWs(server.url, { cookie: session.cookie });
        try {
          for (const m of again) ws.send({ type: 'send', roomId: m.roomId, body: m.body, clientId: m.clientId });
          for (const m of again) {
            const frame = await ws.waitFor(isReply(m.clientId), { timeoutMs: 10_000 });
            expect(frame.type, JSON.stringify(frame)).toBe('ack');
            resent.set(m, { message: (frame as { message: Message }).message });
          }
        } finally {
          await ws.close();
        }
      }),
    );
    for (const [m, { message, status }] of resent) {
      const before = afterRestart.stored.get(`${message.sender.id}/${m.clientId}`);
      if (before) {
        // Already committed (acknowledged or not): the same message comes back; nothing new.
        expect(message, m.clientId).toMatchObject({ id: before.id, seq: before.seq, body: m.body });
        if (status !== undefined) expect(status).toBe(200);
      } else {
        expect(message).toMatchObject({ clientId: m.clientId, body: m.body, roomId: m.roomId });
        if (status !== undefined) expect(status).toBe(201);
      }
    }

    const final = await check();
    for (const m of all.filter((m) => m.attempted)) {
      expect(final.stored.has(`${sessions[names.indexOf(m.sender)]!.user.id}/${m.clientId}`), `${m.clientId} missing after the resend`).toBe(true);
    }
    expect(final.stored.size).toBe(all.filter((m) => m.attempted).length);

    console.info(
      `[kill-during-burst ${dialect}] burst ${burstMs.toFixed(0)} ms; acknowledged ${acked.length}; in flight at the kill ${inFlightAtKill}; ` +
        `unacknowledged ${unacked.length} (of which committed before the kill: ${committedUnacked.length}); ` +
        `after resend ${final.stored.size} messages, seqs ${roomIds.map((id) => `1..${final.db.lastSeq.get(id)}`).join(' and ')}`,
    );

    server.proc.child.kill('SIGTERM');
    expect((await exitWithin(server.proc, 15_000)).code).toBe(0);
    await waitUntil('server gone', 1_000, () => server.proc.done);
  });
});
