/**
 * The socket side of the change fan-out (bench/scenarios/change-fanout.ts): every
 * `message_updated` frame a socket receives is recorded by its changeSeq (when it
 * arrived), and the state with the highest changeSeq is kept, so `changesVerify` can time
 * each change's deliveries and check that every member ended with the room's final state.
 */
import { Histogram } from '../lib/histogram.js';
import { sleep, wallNow } from '../lib/util.js';

interface Tracked {
  index: number;
  roomId: string | undefined;
  closeCode: number | undefined;
}

interface UpdatedMessage {
  roomId: string;
  changeSeq?: number;
  body: string;
  reactions: Array<{ emoji: string; userIds: string[] }>;
}

interface SocketChanges {
  /** Receive time (wall ms) by changeSeq; 0: not received. */
  receivedAt: Float64Array;
  latest: UpdatedMessage | undefined;
}

const workerName = process.argv[2] ?? 'sockets';
const bySocket = new Map<Tracked, SocketChanges>();
let frames = 0;
let duplicates = 0;
let foreign = 0;
let unnumbered = 0;

/** Called by the socket worker for each `message_updated` frame, with the time it arrived. */
export function recordChange(socket: Tracked, message: UpdatedMessage, now: number): void {
  if (message.roomId !== socket.roomId) {
    foreign += 1;
    return;
  }
  const seq = message.changeSeq;
  if (seq === undefined || !Number.isInteger(seq) || seq < 1) {
    unnumbered += 1;
    return;
  }
  frames += 1;
  let state = bySocket.get(socket);
  if (!state) bySocket.set(socket, (state = { receivedAt: new Float64Array(256), latest: undefined }));
  if (seq >= state.receivedAt.length) {
    const grown = new Float64Array(Math.max(seq + 1, state.receivedAt.length * 2));
    grown.set(state.receivedAt);
    state.receivedAt = grown;
  }
  if (state.receivedAt[seq]! > 0) duplicates += 1;
  else state.receivedAt[seq] = now;
  if ((state.latest?.changeSeq ?? 0) < seq) state.latest = message;
}

export interface ExpectedRoom {
  /** [changeSeq, sentAt, measured 0/1] of every accepted change. */
  changes: Array<[number, number, number]>;
  final: { changeSeq: number; body: string; reactions: Record<string, number> } | undefined;
}

function sameFinal(message: UpdatedMessage | undefined, final: NonNullable<ExpectedRoom['final']>): boolean {
  if (!message || message.changeSeq !== final.changeSeq || message.body !== final.body) return false;
  const counts = Object.fromEntries(message.reactions.map((r) => [r.emoji, r.userIds.length]));
  const keys = new Set([...Object.keys(counts), ...Object.keys(final.reactions)]);
  return [...keys].every((k) => (counts[k] ?? 0) === (final.reactions[k] ?? 0));
}

function check(sockets: readonly Tracked[], expected: Record<string, ExpectedRoom>) {
  let checked = 0;
  let missing = 0;
  let finalMissing = 0;
  let finalWrong = 0;
  const examples: string[] = [];
  for (const socket of sockets) {
    const room = socket.roomId ? expected[socket.roomId] : undefined;
    if (!room) continue;
    const state = bySocket.get(socket);
    checked += room.changes.length;
    for (const [seq] of room.changes) if (!(state && state.receivedAt[seq]! > 0)) missing += 1;
    if (!room.final) continue;
    if ((state?.latest?.changeSeq ?? 0) < room.final.changeSeq) {
      finalMissing += 1;
      if (examples.length < 5) examples.push(`socket ${workerName}#${socket.index} (room ${socket.roomId}, closed: ${socket.closeCode ?? 'no'}) last saw change ${state?.latest?.changeSeq ?? 'none'} of ${room.final.changeSeq}`);
    } else if (!sameFinal(state?.latest, room.final)) {
      finalWrong += 1;
      if (examples.length < 5) examples.push(`socket ${workerName}#${socket.index} (room ${socket.roomId}): final state differs from what was sent: ${JSON.stringify(state?.latest).slice(0, 200)}`);
    }
  }
  return { checked, missing, finalMissing, finalWrong, examples };
}

/** Waits (up to `timeoutMs`) for every socket to hold every change, then times the measured ones. */
export async function changesVerify(sockets: readonly Tracked[], request: { expected: Record<string, ExpectedRoom>; timeoutMs: number }) {
  const until = wallNow() + request.timeoutMs;
  let result = check(sockets, request.expected);
  while ((result.missing > 0 || result.finalMissing > 0) && wallNow() < until) {
    await sleep(50);
    result = check(sockets, request.expected);
  }
  const latency = new Histogram();
  let measuredDeliveries = 0;
  let lastReceiveAt = 0;
  for (const socket of sockets) {
    const room = socket.roomId ? request.expected[socket.roomId] : undefined;
    const state = bySocket.get(socket);
    if (!room || !state) continue;
    for (const [seq, sentAt, measured] of room.changes) {
      const at = state.receivedAt[seq]!;
      if (!measured || !(at > 0)) continue;
      measuredDeliveries += 1;
      latency.record(at - sentAt);
      if (at > lastReceiveAt) lastReceiveAt = at;
    }
  }
  return { ...result, frames, duplicates, foreign, unnumbered, measuredDeliveries, lastReceiveAt, latency: latency.toJSON() };
}
