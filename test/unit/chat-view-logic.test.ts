/**
 * The chat view's pure parts: sender groups, date separators and the "new messages"
 * divider (timeline-view.ts), initials avatars, the locale clock, and drafts per user and room.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message, RoomEvent } from '../../src/shared/protocol.js';
import { avatarHue, initials } from '../../src/client/avatar.js';
import { loadDraft, saveDraft } from '../../src/client/core/drafts.js';
import { formatDayLabel } from '../../src/client/format.js';
import { messageItems, timelineRows, type TimelineRow } from '../../src/client/timeline-view.js';

const ada = { id: 'u-ada', username: 'ada' };
const bob = { id: 'u-bob', username: 'bob' };

/** A message at a local time (so day boundaries hold in any time zone). */
function at(seq: number, sender: typeof ada, date: Date): Message {
  return { id: `m${seq}`, roomId: 'r', seq, sender, body: `m${seq}`, clientId: `c${seq}`, createdAt: date.toISOString(), reactions: [], mentions: [], attachments: [] };
}
const local = (day: number, hour: number, minute: number, second = 0) => new Date(2026, 2, day, hour, minute, second);
const NOW = local(10, 18, 0);

/** Rows as short strings: "day:Today", "unread", "m3" (starts a group), "m3+" (continues one) or "e:joined" (an event). */
function shape(rows: readonly TimelineRow[]): string[] {
  return rows.map((row) => {
    if (row.kind === 'day') return `day:${row.label}`;
    if (row.kind === 'unread') return 'unread';
    if (row.item.kind === 'event') return `e:${row.item.event.change}`;
    return `${row.item.message.id}${row.continued ? '+' : ''}`;
  });
}
const rowsOf = (messages: Message[], unreadAfterSeq: number | null = null) =>
  shape(timelineRows(messageItems(messages), { unreadAfterSeq, now: NOW }));

describe('timeline rows', () => {
  it('groups consecutive messages by one sender within 5 minutes', () => {
    const messages = [
      at(1, ada, local(10, 9, 0)),
      at(2, ada, local(10, 9, 4, 59)), // 4:59 later: same group
      at(3, ada, local(10, 9, 9, 59)), // 5:00 after the previous one: a new group
      at(4, bob, local(10, 9, 10)), // another sender
      at(5, ada, local(10, 9, 11)), // back to ada: a new group
    ];
    expect(rowsOf(messages)).toEqual(['day:Today', 'm1', 'm2+', 'm3', 'm4', 'm5']);
  });

  it('puts a separator where the day changes, and never groups across it', () => {
    const messages = [
      at(1, ada, local(3, 12, 0)),
      at(2, ada, local(8, 23, 58)),
      at(3, ada, local(9, 0, 1)), // 3 minutes later, but the next day
      at(4, ada, local(10, 8, 0)),
    ];
    const labels = rowsOf(messages);
    expect(labels).toEqual(['day:' + formatDayLabel(local(3, 12, 0), NOW), 'm1', 'day:' + formatDayLabel(local(8, 1, 0), NOW), 'm2', 'day:Yesterday', 'm3', 'day:Today', 'm4']);
    expect(labels[0]).not.toMatch(/Today|Yesterday/);
  });

  it('labels days Today, Yesterday, or the date (with the year when not this one)', () => {
    expect(formatDayLabel(local(10, 0, 0), NOW)).toBe('Today');
    expect(formatDayLabel(local(9, 23, 59), NOW)).toBe('Yesterday');
    const lastYear = new Date(2025, 11, 31, 12, 0);
    expect(formatDayLabel(lastYear, NOW)).toContain('2025');
    expect(formatDayLabel(local(1, 12, 0), NOW)).not.toContain('2026');
  });

  it('puts the "new messages" divider before the first message after the read marker, breaking the group', () => {
    const messages = [1, 2, 3, 4].map((seq) => at(seq, ada, local(10, 9, seq)));
    expect(rowsOf(messages, 2)).toEqual(['day:Today', 'm1', 'm2+', 'unread', 'm3', 'm4+']);
    // The read marker before the first message held: the divider leads.
    expect(rowsOf(messages, 0)).toEqual(['day:Today', 'unread', 'm1', 'm2+', 'm3+', 'm4+']);
  });

  it('has no divider when all was read, or without a marker', () => {
    const messages = [1, 2].map((seq) => at(seq, ada, local(10, 9, seq)));
    expect(rowsOf(messages, 2)).toEqual(['day:Today', 'm1', 'm2+']);
    expect(rowsOf(messages, null)).toEqual(['day:Today', 'm1', 'm2+']);
  });

  it('places membership events between the seqs they came between; they break a group and never take the unread divider', () => {
    const event = (id: string, afterSeq: number, change: RoomEvent['change']): RoomEvent => ({
      id, roomId: 'r', afterSeq, at: local(10, 9, afterSeq, 30).toISOString(), user: bob, change, actor: null,
    });
    const messages = [at(1, ada, local(10, 9, 0)), at(2, ada, local(10, 9, 1)), at(3, ada, local(10, 9, 2))];
    const rows = timelineRows(messageItems(messages, [event('e2', 2, 'left'), event('e0', 0, 'joined')]), { unreadAfterSeq: 1, now: NOW });
    expect(shape(rows)).toEqual(['day:Today', 'e:joined', 'm1', 'unread', 'm2', 'e:left', 'm3']);
    expect(shape(timelineRows(messageItems(messages.slice(0, 1), [event('e5', 5, 'joined')]), { unreadAfterSeq: null, now: NOW }))).toEqual(['day:Today', 'm1', 'e:joined']);
  });

  it('gives every row a stable, unique key', () => {
    const messages = [1, 2, 3].map((seq) => at(seq, ada, local(8 + seq, 9, 0)));
    const rows = timelineRows(messageItems(messages), { unreadAfterSeq: 1, now: NOW });
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(timelineRows(messageItems(messages), { unreadAfterSeq: 1, now: NOW }).map((row) => row.key)).toEqual(keys);
  });
});

describe('initials avatars', () => {
  it('takes 1–2 initials from the username', () => {
    expect(initials('ada')).toBe('A');
    expect(initials('ada.lovelace')).toBe('AL');
    expect(initials('grace_hopper_x')).toBe('GH');
    expect(initials('jean-luc')).toBe('JL');
    expect(initials('émile')).toBe('É');
    expect(initials('_x')).toBe('X');
  });

  it('colors by a hash of the user id: stable, and spread over hues', () => {
    expect(avatarHue('u-1')).toBe(avatarHue('u-1'));
    const hues = new Set(Array.from({ length: 50 }, (_, i) => avatarHue(`user-${i}`)));
    expect(hues.size).toBeGreaterThan(30);
    for (const hue of hues) expect(hue).toBeGreaterThanOrEqual(0);
  });
});

describe('drafts', () => {
  let storage: Map<string, string>;
  beforeEach(() => {
    storage = new Map();
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => storage.set(key, value),
      removeItem: (key: string) => storage.delete(key),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('keeps a draft per user and room', () => {
    saveDraft('u-ada', 'r1', 'half a thought');
    saveDraft('u-ada', 'r2', 'other room');
    expect(loadDraft('u-ada', 'r1')).toBe('half a thought');
    expect(loadDraft('u-ada', 'r2')).toBe('other room');
    // Another account on this browser never sees it.
    expect(loadDraft('u-bob', 'r1')).toBe('');
  });

  it('forgets a draft once it is empty (sent or erased)', () => {
    saveDraft('u-ada', 'r1', 'x');
    saveDraft('u-ada', 'r1', '  ');
    expect(loadDraft('u-ada', 'r1')).toBe('');
    expect(storage.size).toBe(0);
  });

  it('works without storage (disabled or full): nothing is remembered, nothing throws', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {},
    });
    expect(() => saveDraft('u-ada', 'r1', 'x')).not.toThrow();
    expect(loadDraft('u-ada', 'r1')).toBe('');
  });
});
