import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/shared/protocol.js';
import {
  EMPTY_TIMELINE,
  acknowledge,
  addPending,
  applyNewestPage,
  applyUpdates,
  applyOlderPage,
  discardPending,
  firstSeq,
  lastSeq,
  markFailed,
  markSending,
  mergeMessages,
  receiveMessage,
  type Timeline,
} from '../../src/client/core/timeline.js';

function message(seq: number, overrides: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    roomId: 'r1',
    seq,
    sender: { id: 'u-alice', username: 'alice' },
    body: `message ${seq}`,
    reactions: [],
    clientId: `c${seq}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
    mentions: [],
    attachments: [],
    ...overrides,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
const seqs = (timeline: Timeline) => timeline.messages.map((m) => m.seq);

describe('client message store', () => {
  describe('merging', () => {
    it('orders messages by seq whatever order they arrive in', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, [message(3), message(1), message(2)]);
      expect(seqs(timeline)).toEqual([1, 2, 3]);
      expect(firstSeq(timeline)).toBe(1);
      expect(lastSeq(timeline)).toBe(3);
    });

    it('drops a message whose seq is already held', () => {
      const once = mergeMessages(EMPTY_TIMELINE, range(1, 3));
      const twice = mergeMessages(once, [message(2, { body: 'a replayed copy' }), message(3)]);
      expect(twice).toBe(once);
      expect(twice.messages[1]?.body).toBe('message 2');
    });

    it('merges an overlapping page and catch-up batch into one list without duplicates', () => {
      const page = applyNewestPage(EMPTY_TIMELINE, { messages: range(51, 100), hasMore: true });
      const caughtUp = mergeMessages(page, range(95, 110));
      expect(seqs(caughtUp)).toEqual(range(51, 110).map((m) => m.seq));
    });

    it('replaces a held message by a newer edit of it', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 2));
      const edited = message(2, { body: 'fixed typo', editedAt: '2026-01-01T01:00:00.000Z' });
      const updated = mergeMessages(timeline, [edited]);
      expect(updated.messages[1]).toBe(edited);
      expect(mergeMessages(updated, [{ ...edited }])).toBe(updated);
    });

    it('returns the same timeline when nothing changes', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 2));
      expect(mergeMessages(timeline, [])).toBe(timeline);
      expect(mergeMessages(timeline, [message(1)])).toBe(timeline);
    });
  });

  describe('history pages', () => {
    it('anchors the history with the newest page and remembers whether older pages exist', () => {
      const timeline = applyNewestPage(EMPTY_TIMELINE, { messages: range(51, 100), hasMore: true });
      expect(timeline.historyLoaded).toBe(true);
      expect(timeline.hasOlder).toBe(true);
    });

    it('keeps live messages that arrived before the newest page did', () => {
      const live = receiveMessage(EMPTY_TIMELINE, message(101)).timeline;
      const timeline = applyNewestPage(live, { messages: range(52, 101), hasMore: true });
      expect(seqs(timeline)).toEqual(range(52, 101).map((m) => m.seq));
    });

    it('puts an older page in front and stops offering more at the start of the room', () => {
      const newest = applyNewestPage(EMPTY_TIMELINE, { messages: range(51, 100), hasMore: true });
      const older = applyOlderPage(newest, { messages: range(1, 50), hasMore: false });
      expect(seqs(older)).toEqual(range(1, 100).map((m) => m.seq));
      expect(older.hasOlder).toBe(false);
    });
  });

  describe('live messages', () => {
    it('appends the next seq without reporting a gap', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 3));
      const received = receiveMessage(timeline, message(4));
      expect(received.gapAfter).toBeNull();
      expect(seqs(received.timeline)).toEqual([1, 2, 3, 4]);
    });

    it('reports a gap after the last seq held when seqs are skipped, and still shows the message', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 3));
      const received = receiveMessage(timeline, message(7));
      expect(received.gapAfter).toBe(3);
      expect(seqs(received.timeline)).toEqual([1, 2, 3, 7]);
    });

    it('fills a reported gap with the catch-up batch', () => {
      const { timeline } = receiveMessage(mergeMessages(EMPTY_TIMELINE, range(1, 3)), message(7));
      expect(seqs(mergeMessages(timeline, range(4, 8)))).toEqual(range(1, 8).map((m) => m.seq));
    });

    it('reports no gap for a duplicate or an older message', () => {
      const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 5));
      expect(receiveMessage(timeline, message(5))).toEqual({ timeline, gapAfter: null });
      expect(receiveMessage(timeline, message(2)).gapAfter).toBeNull();
    });

    it('reports no gap in a room with nothing held yet (there is no base to compare with)', () => {
      expect(receiveMessage(EMPTY_TIMELINE, message(40)).gapAfter).toBeNull();
    });
  });

  describe('pending messages', () => {
    const sent = message(4, { sender: { id: 'u-me', username: 'me' }, clientId: 'client-1', body: 'hello' });

    it('shows an own message as sending until it is acknowledged', () => {
      const timeline = addPending(mergeMessages(EMPTY_TIMELINE, range(1, 3)), 'client-1', 'hello');
      expect(timeline.pending).toEqual([{ clientId: 'client-1', body: 'hello', status: 'sending' }]);
    });

    it('replaces the pending message by the acknowledged one, matched by clientId', () => {
      const pending = addPending(mergeMessages(EMPTY_TIMELINE, range(1, 3)), 'client-1', 'hello');
      const { timeline, gapAfter } = acknowledge(pending, 'client-1', sent);
      expect(timeline.pending).toEqual([]);
      expect(seqs(timeline)).toEqual([1, 2, 3, 4]);
      expect(gapAfter).toBeNull();
    });

    it('also resolves the pending message when its broadcast frame overtakes the ack', () => {
      const pending = addPending(mergeMessages(EMPTY_TIMELINE, range(1, 3)), 'client-1', 'hello');
      const afterFrame = receiveMessage(pending, sent).timeline;
      expect(afterFrame.pending).toEqual([]);
      const afterAck = acknowledge(afterFrame, 'client-1', sent).timeline;
      expect(seqs(afterAck)).toEqual([1, 2, 3, 4]);
    });

    it('keeps other pending messages when one is acknowledged', () => {
      let timeline = addPending(EMPTY_TIMELINE, 'client-1', 'hello');
      timeline = addPending(timeline, 'client-2', 'again');
      timeline = acknowledge(timeline, 'client-1', sent).timeline;
      expect(timeline.pending.map((p) => p.clientId)).toEqual(['client-2']);
    });

    it('reports a gap revealed by an ack', () => {
      const pending = addPending(mergeMessages(EMPTY_TIMELINE, range(1, 2)), 'client-1', 'hello');
      expect(acknowledge(pending, 'client-1', sent).gapAfter).toBe(2);
    });

    it('marks a refused message failed with the reason, and sending again on retry', () => {
      const pending = addPending(EMPTY_TIMELINE, 'client-1', 'hello');
      const failed = markFailed(pending, 'client-1', 'Messages can be at most 4000 characters.');
      expect(failed.pending[0]).toEqual({
        clientId: 'client-1',
        body: 'hello',
        status: 'failed',
        error: 'Messages can be at most 4000 characters.',
      });
      expect(markSending(failed, 'client-1').pending[0]).toEqual({ clientId: 'client-1', body: 'hello', status: 'sending' });
    });

    it('discards a pending message, and ignores unknown clientIds', () => {
      const pending = addPending(EMPTY_TIMELINE, 'client-1', 'hello');
      expect(discardPending(pending, 'client-1').pending).toEqual([]);
      expect(markFailed(pending, 'nope', 'x')).toBe(pending);
      expect(discardPending(pending, 'nope')).toBe(pending);
    });
  });
});

describe('message changes (edits, deletes, reactions)', () => {
  it('replaces a held message by a later change, keeps it against an earlier one, and ignores one not held', () => {
    const timeline = mergeMessages(EMPTY_TIMELINE, range(1, 3));
    const reacted = message(2, { reactions: [{ emoji: '👍', userIds: ['u-bob'] }], changeSeq: 5 });
    const deleted = message(2, { body: '', deletedAt: '2026-01-01T02:00:00.000Z', changeSeq: 6 });
    const afterDelete = applyUpdates(applyUpdates(timeline, [reacted]), [deleted]);
    expect(afterDelete.messages[1]).toBe(deleted);
    // A frame that overtook an earlier one, or a page read before the delete, does not undo it.
    expect(applyUpdates(afterDelete, [reacted])).toBe(afterDelete);
    expect(mergeMessages(afterDelete, [message(2)])).toBe(afterDelete);
    expect(applyUpdates(afterDelete, [message(9, { changeSeq: 7 })])).toBe(afterDelete);
  });
});
