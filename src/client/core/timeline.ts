/**
 * One room's timeline as a pure value: committed messages ordered by seq with no
 * duplicates, plus the caller's own messages still waiting for the server. Every
 * function returns a new timeline (or the same one when nothing changed), so the UI
 * can compare by identity.
 */
import type { FileInfo } from '../../shared/file-shapes.js';
import type { Message, MessagePage } from '../../shared/protocol.js';

export interface PendingMessage {
  clientId: string;
  body: string;
  /** Files already stored that go with it (absent: none). */
  attachments?: readonly FileInfo[];
  status: 'sending' | 'failed';
  /** Why the server refused it, shown next to the retry button. */
  error?: string;
}

export interface Timeline {
  /** Committed messages, strictly increasing seq. */
  messages: readonly Message[];
  /** Own messages not yet acknowledged, in the order they were written. */
  pending: readonly PendingMessage[];
  /** The newest page has been fetched once, so the history is anchored. */
  historyLoaded: boolean;
  /** The server has messages before the first one held. */
  hasOlder: boolean;
}

export const EMPTY_TIMELINE: Timeline = { messages: [], pending: [], historyLoaded: false, hasOlder: false };

/** The highest seq held, or null when the timeline has no committed message. */
export function lastSeq(timeline: Timeline): number | null {
  return timeline.messages.at(-1)?.seq ?? null;
}

/** The lowest seq held, or null when the timeline has no committed message. */
export function firstSeq(timeline: Timeline): number | null {
  return timeline.messages[0]?.seq ?? null;
}

/**
 * Merges committed messages (a page, a catch-up batch, a frame or an ack) by seq.
 * A seq already held keeps its object unless the incoming copy carries a newer edit.
 * Pending messages whose clientId is now committed are dropped (clientIds are random
 * UUIDs, so a match is the same message, e.g. a frame that overtook its ack).
 */
export function mergeMessages(timeline: Timeline, incoming: readonly Message[]): Timeline {
  if (incoming.length === 0) return timeline;
  const bySeq = new Map<number, Message>();
  for (const message of timeline.messages) bySeq.set(message.seq, message);
  let changed = false;
  for (const message of incoming) {
    const held = bySeq.get(message.seq);
    if (held && !isNewerEdit(held, message)) continue;
    bySeq.set(message.seq, message);
    changed = true;
  }
  const committedIds = new Set(incoming.map((message) => message.clientId));
  const pending = timeline.pending.filter((p) => !committedIds.has(p.clientId));
  if (!changed && pending.length === timeline.pending.length) return timeline;
  const messages = changed ? [...bySeq.values()].sort((a, b) => a.seq - b.seq) : timeline.messages;
  return { ...timeline, messages, pending };
}

/** A later change (edit, delete, reaction) wins: the server numbers them per room (`changeSeq`). */
function isNewerEdit(held: Message, incoming: Message): boolean {
  const [had, has] = [held.changeSeq ?? 0, incoming.changeSeq ?? 0];
  if (has !== had) return has > had;
  return incoming.editedAt !== undefined && incoming.editedAt !== held.editedAt;
}

/**
 * A changed message (`message_updated`, a catch-up of changes, an edit's answer): replaces
 * the one held with its seq, if newer. A message not held is left for the page that brings it.
 */
export function applyUpdates(timeline: Timeline, updates: readonly Message[]): Timeline {
  const held = new Set(timeline.messages.map((message) => message.seq));
  return mergeMessages(timeline, updates.filter((message) => held.has(message.seq)));
}

export interface Received {
  timeline: Timeline;
  /** When the message skipped seqs, the last seq held before it: fetch `after=` this. */
  gapAfter: number | null;
}

/**
 * Takes one live message (a `message` frame). It is shown at once; if it leaves a
 * hole after the newest seq held, the caller is told where to fetch from.
 */
export function receiveMessage(timeline: Timeline, message: Message): Received {
  const last = lastSeq(timeline);
  const gapAfter = last !== null && message.seq > last + 1 ? last : null;
  return { timeline: mergeMessages(timeline, [message]), gapAfter };
}

/** Applies the newest page of history (fetched without `before`). */
export function applyNewestPage(timeline: Timeline, page: MessagePage): Timeline {
  const merged = mergeMessages(timeline, page.messages);
  return { ...merged, historyLoaded: true, hasOlder: page.hasMore };
}

/** Applies a page fetched with `before=<first seq>`. */
export function applyOlderPage(timeline: Timeline, page: MessagePage): Timeline {
  return { ...mergeMessages(timeline, page.messages), hasOlder: page.hasMore };
}

/** Adds an own message that is on its way to the server. */
export function addPending(timeline: Timeline, clientId: string, body: string, attachments: readonly FileInfo[] = []): Timeline {
  const pending: PendingMessage = { clientId, body, status: 'sending', ...(attachments.length > 0 ? { attachments } : {}) };
  return { ...timeline, pending: [...timeline.pending, pending] };
}

/** Replaces the pending message `clientId` by its committed form (which may reveal a gap too). */
export function acknowledge(timeline: Timeline, clientId: string, message: Message): Received {
  return receiveMessage(discardPending(timeline, clientId), message);
}

/** Marks a pending message as refused, keeping it for a retry. */
export function markFailed(timeline: Timeline, clientId: string, error: string): Timeline {
  return updatePending(timeline, clientId, ({ error: _, ...p }) => ({ ...p, status: 'failed', error }));
}

/** Marks a failed message as being sent again. */
export function markSending(timeline: Timeline, clientId: string): Timeline {
  return updatePending(timeline, clientId, ({ error: _, ...p }) => ({ ...p, status: 'sending' }));
}

/** Drops a pending message the user gave up on. */
export function discardPending(timeline: Timeline, clientId: string): Timeline {
  const pending = timeline.pending.filter((p) => p.clientId !== clientId);
  return pending.length === timeline.pending.length ? timeline : { ...timeline, pending };
}

/** The pending message `clientId`, if it is still waiting. */
export function findPending(timeline: Timeline, clientId: string): PendingMessage | undefined {
  return timeline.pending.find((p) => p.clientId === clientId);
}

function updatePending(
  timeline: Timeline,
  clientId: string,
  update: (pending: PendingMessage) => PendingMessage,
): Timeline {
  if (!findPending(timeline, clientId)) return timeline;
  return { ...timeline, pending: timeline.pending.map((p) => (p.clientId === clientId ? update(p) : p)) };
}
