/**
 * What the message list draws, worked out as plain data: each timeline item, whether it
 * continues its sender's group (name and time shown once), a separator where the day
 * changes, and the "new messages" divider before the first unread. Pure, so it is tested
 * without a DOM; the list only maps rows to components.
 */
import type { Message, RoomEvent } from '../shared/protocol.js';
import { formatDayLabel } from './format.js';

/** One entry of a room's timeline: a message, or a membership event placed after the seq it follows. */
export type TimelineItem =
  | { kind: 'message'; seq: number; at: string; message: Message }
  | { kind: 'event'; seq: number; at: string; event: RoomEvent };

export type TimelineRow =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'unread'; key: 'unread' }
  | { kind: 'item'; key: string; item: TimelineItem; continued: boolean };

/** A sender's messages closer together than this share one name and time. */
export const GROUP_WITHIN_MS = 5 * 60_000;

/** Messages in seq order with the events between them: an event after seq n comes before message n + 1. */
export function messageItems(messages: readonly Message[], events: readonly RoomEvent[] = []): TimelineItem[] {
  const items: TimelineItem[] = [];
  const sorted = [...events].sort((a, b) => a.afterSeq - b.afterSeq);
  let next = 0;
  for (const message of messages) {
    while (next < sorted.length && sorted[next]!.afterSeq < message.seq) items.push(eventItem(sorted[next++]!));
    items.push({ kind: 'message', seq: message.seq, at: message.createdAt, message });
  }
  while (next < sorted.length) items.push(eventItem(sorted[next++]!));
  return items;
}

function eventItem(event: RoomEvent): TimelineItem {
  return { kind: 'event', seq: event.afterSeq, at: event.at, event };
}

export interface RowOptions {
  /** The read marker when the room was opened: the divider goes before the first item after it. */
  unreadAfterSeq: number | null;
  /** "Today" is relative to this (tests pass a fixed time). */
  now?: Date;
}

/** Rows for items in seq order. */
export function timelineRows(items: readonly TimelineItem[], { unreadAfterSeq, now = new Date() }: RowOptions): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let previous: TimelineItem | null = null;
  let dividerPlaced = unreadAfterSeq === null;
  for (const item of items) {
    const at = new Date(item.at);
    const newDay = !previous || !sameLocalDay(new Date(previous.at), at);
    if (newDay) rows.push({ kind: 'day', key: `day-${dayKey(at)}`, label: formatDayLabel(at, now) });
    const unread = !dividerPlaced && item.kind === 'message' && item.seq > unreadAfterSeq!;
    if (unread) {
      rows.push({ kind: 'unread', key: 'unread' });
      dividerPlaced = true;
    }
    const continued = !newDay && !unread && previous !== null && continues(previous, item);
    rows.push({ kind: 'item', key: item.kind === 'event' ? `event-${item.event.id}` : `message-${item.seq}`, item, continued });
    previous = item;
  }
  return rows;
}

/** Whether `item` joins the group of `previous`: same sender, both messages, close in time. */
export function continues(previous: TimelineItem, item: TimelineItem): boolean {
  if (previous.kind !== 'message' || item.kind !== 'message') return false;
  if (previous.message.sender.id !== item.message.sender.id) return false;
  const gap = Date.parse(item.at) - Date.parse(previous.at);
  return gap >= 0 && gap < GROUP_WITHIN_MS;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

function dayKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

