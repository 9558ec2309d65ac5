/**
 * The HTTP side of the change fan-out (bench/scenarios/change-fanout.ts): seeds one message
 * per room through the real send, then edits it (its author) and toggles members'
 * reactions on it at a fixed rate, recording when each change was sent and which
 * `changeSeq` it got, so the socket workers can time its delivery.
 */
import { Histogram } from '../lib/histogram.js';
import { numberChange, type ChangeNumbering } from '../lib/change-seqs.js';
import { sleep, wallNow } from '../lib/util.js';

/** What bench/workers/http.ts's request() does: one request, the whole answer. */
export type Requester = (baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string) => Promise<{ status: number; body: string }>;

export interface Caller {
  cookie: string;
  csrf: string;
}

export interface ChangeRoom {
  roomId: string;
  /** The seeded message's seq. */
  seq: number;
  author: Caller;
  /** Everyone else in the room: they react. */
  members: Caller[];
}

const headersOf = (baseUrl: string, c: Caller) => ({ cookie: c.cookie, 'x-csrf-token': c.csrf, origin: baseUrl });

/** One message per room from its author, through POST …/messages; returns each seq. */
export async function postMessages(payload: { baseUrl: string; rooms: Array<{ roomId: string; author: Caller }> }, request: Requester): Promise<number[]> {
  const seqs: number[] = [];
  for (const room of payload.rooms) {
    const body = JSON.stringify({ body: 'change-fanout: react to me', clientId: `change-seed-${room.roomId}` });
    const answer = await request(payload.baseUrl, 'POST', `/api/v1/rooms/${room.roomId}/messages`, headersOf(payload.baseUrl, room.author), body);
    if (answer.status !== 201) throw new Error(`POST /rooms/${room.roomId}/messages answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    seqs.push((JSON.parse(answer.body) as { message: { seq: number } }).message.seq);
  }
  return seqs;
}

export interface ChangeLoopRequest {
  baseUrl: string;
  rooms: ChangeRoom[];
  warmupMs: number;
  durationMs: number;
  /** This worker's changes per second, over all its rooms (each room gets an equal share). */
  ratePerSec: number;
  /** Every `editEvery`-th change of a room (the first included) is an edit; the rest are reactions. */
  editEvery: number;
  emojis: string[];
}

export interface RoomChanges {
  roomId: string;
  /** [changeSeq, sentAt (wall ms), 1 when due after the warm-up] of each change the server accepted. */
  changes: Array<[number, number, number]>;
  final: { changeSeq: number; body: string; reactions: Record<string, number> } | undefined;
  numbering: ChangeNumbering;
}

/**
 * Each room's changes go one at a time on an open-loop schedule (room r's k-th change is
 * due at start + (k·rooms + r)/rate): one change in flight per room is what lets a
 * reaction's changeSeq (its answer is a bare 204) be known: the previous one's plus 1,
 * checked against every edit's answer. A change due while the previous one is unanswered
 * waits for it and counts as late.
 */
export async function changeLoop(payload: ChangeLoopRequest, request: Requester) {
  const latency = new Histogram();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let sent = 0;
  let measuredSent = 0;
  let edits = 0;
  let late = 0;
  let maxLateMs = 0;
  const warmupStartedAt = wallNow();
  const startedAt = warmupStartedAt + payload.warmupMs;
  const endAt = startedAt + payload.durationMs;
  const n = payload.rooms.length;
  const out = await Promise.all(
    payload.rooms.map(async (room, r): Promise<RoomChanges> => {
      const result: RoomChanges = { roomId: room.roomId, changes: [], final: undefined, numbering: { last: undefined, mismatches: 0, unknown: 0 } };
      const reacted = new Set<number>();
      let body = '';
      let reactionTurn = 0;
      for (let k = 0; ; k++) {
        const due = warmupStartedAt + ((k * n + r) * 1000) / payload.ratePerSec;
        if (due >= endAt) break;
        const wait = due - wallNow();
        if (wait > 0) await sleep(wait);
        else if (-wait > 1) {
          late += 1;
          maxLateMs = Math.max(maxLateMs, -wait);
        }
        const isEdit = k % payload.editEvery === 0 || room.members.length === 0;
        const member = isEdit ? -1 : reactionTurn++ % room.members.length;
        const on = !isEdit && !reacted.has(member);
        const emoji = isEdit ? '' : payload.emojis[member % payload.emojis.length]!;
        const begin = wallNow();
        const text = `edit ${k} t=${begin.toFixed(3)}`;
        const base = `/api/v1/rooms/${room.roomId}/messages/${room.seq}`;
        sent += 1;
        // Measured: the changes offered in the measured period (a late one keeps its due time's side).
        const measured = due >= startedAt;
        if (measured) measuredSent += 1;
        try {
          const answer = isEdit
            ? await request(payload.baseUrl, 'PATCH', base, headersOf(payload.baseUrl, room.author), JSON.stringify({ body: text }))
            : await request(payload.baseUrl, on ? 'PUT' : 'DELETE', `${base}/reactions/${encodeURIComponent(emoji)}`, headersOf(payload.baseUrl, room.members[member]!));
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          if (answer.status !== 200 && answer.status !== 204) {
            if (errorSamples.length < 5) errorSamples.push(`${isEdit ? 'PATCH' : on ? 'PUT' : 'DELETE'} ${answer.status}: ${answer.body.slice(0, 200)}`);
            continue;
          }
          latency.record(wallNow() - begin);
          const answered = isEdit ? (JSON.parse(answer.body) as { message: { changeSeq?: number } }).message.changeSeq : undefined;
          const changeSeq = numberChange(result.numbering, answered, isEdit);
          if (isEdit) {
            edits += 1;
            body = text;
          } else if (on) reacted.add(member);
          else reacted.delete(member);
          if (changeSeq !== undefined) result.changes.push([changeSeq, begin, measured ? 1 : 0]);
        } catch (error) {
          statuses['network-error'] = (statuses['network-error'] ?? 0) + 1;
          if (errorSamples.length < 5) errorSamples.push(String((error as Error).message));
        }
      }
      const reactions: Record<string, number> = {};
      for (const m of reacted) {
        const emoji = payload.emojis[m % payload.emojis.length]!;
        reactions[emoji] = (reactions[emoji] ?? 0) + 1;
      }
      if (result.numbering.last !== undefined) result.final = { changeSeq: result.numbering.last, body, reactions };
      return result;
    }),
  );
  return { rooms: out, sent, measuredSent, edits, late, maxLateMs, statuses, errorSamples, latency: latency.toJSON(), startedAt, finishedAt: wallNow() };
}
