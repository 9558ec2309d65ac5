/**
 * The open room's messages. Follows new messages while the reader is at the bottom;
 * once they scroll up it stays put and offers a "new messages" button instead. Older
 * pages load on scroll-up without moving what the reader is looking at. Rows (groups,
 * date separators, the unread divider) come from timeline-view.ts.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Message, RoomEvent } from '../../shared/protocol.js';
import { firstSeq, lastSeq, type Timeline } from '../core/timeline.js';
import { plural } from '../format.js';
import { memo } from '../memo.js';
import { messageItems, timelineRows, type TimelineRow } from '../timeline-view.js';
import { Icon } from './Icon.js';
import { MessageItem, PendingItem } from './MessageItem.js';
import type { RenderText } from './MessageText.js';
import { useJumpToUnread } from './unread-jump.js';
import { TimelineEvent } from './TimelineEvent.js';

interface MessageListProps {
  timeline: Timeline;
  self: { id: string; username: string };
  loadingOlder: boolean;
  historyError: string | null;
  /** The read marker when the room was opened: the "new messages" divider follows it. */
  unreadAfterSeq: number | null;
  /** Renders plain text runs in bodies (e.g. mentions); keep its identity stable, items are memoised. */
  renderText?: RenderText;
  onLoadOlder: () => void;
  onReloadHistory: () => void;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
  /** Membership events, by the seq they follow. */
  events?: readonly RoomEvent[];
}

const NEAR_BOTTOM_PX = 48;
const NEAR_TOP_PX = 200;

interface Rendered {
  first: number | null;
  last: number | null;
  pending: number;
  scrollHeight: number;
}

/** Memoised: the chat screen re-renders on typing and presence frames, this list only when its slice does. */
export const MessageList = memo(function MessageList(props: MessageListProps) {
  const { timeline, self, loadingOlder } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const rendered = useRef<Rendered>({ first: null, last: null, pending: 0, scrollHeight: 0 });
  const [unseen, setUnseen] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const rows = useMemo(
    () => timelineRows(messageItems(timeline.messages, props.events), { unreadAfterSeq: props.unreadAfterSeq }),
    [timeline.messages, props.events, props.unreadAfterSeq],
  );
  const jump = useJumpToUnread(scroller, props);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const before = rendered.current;
    const first = firstSeq(timeline);
    const last = lastSeq(timeline);
    const fresh = before.last === null ? [] : newFromOthers(timeline.messages, before.last, self.id);
    if (before.first !== null && first !== null && first < before.first) {
      // An older page went in above: shift by its height so the same messages stay in view.
      element.scrollTop += element.scrollHeight - before.scrollHeight;
    } else if (atBottom.current || timeline.pending.length > before.pending) {
      element.scrollTop = element.scrollHeight;
      atBottom.current = true;
    } else if (fresh.length > 0) {
      setUnseen((count) => count + fresh.length);
    }
    if (fresh.length > 0) setAnnouncement(describeArrivals(fresh, atBottom.current ? 0 : unseen + fresh.length));
    rendered.current = { first, last, pending: timeline.pending.length, scrollHeight: element.scrollHeight };
    jump.afterRender();
  }, [timeline]);

  // Keep the newest message in view when the list itself shrinks (composer grows, panel opens).
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current && unseen > 0) setUnseen(0);
    if (element.scrollTop < NEAR_TOP_PX && timeline.hasOlder && !loadingOlder) props.onLoadOlder();
    jump.onScroll();
  }

  function jumpToBottom() {
    const element = scroller.current;
    if (!element) return;
    element.scrollTop = element.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
    element.focus();
  }

  return (
    <div class="message-pane">
      <div
        ref={scroller}
        class="message-scroller"
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label="Messages"
      >
        <HistoryStart {...props} />
        <ol class="list-unstyled mb-0">
          {rows.map((row) => (
            <Row key={row.key} row={row} selfId={self.id} renderText={props.renderText} />
          ))}
          {timeline.pending.map((pending) => (
            <PendingItem
              key={pending.clientId}
              pending={pending}
              sender={self}
              onRetry={props.onRetry}
              onDiscard={props.onDiscard}
            />
          ))}
        </ol>
      </div>
      {jump.visible && (
        <button type="button" class="btn btn-primary btn-sm shadow jump-to-unread" data-testid="jump-to-unread" onClick={jump.jump}>
          <Icon name="arrowUp" /> Jump to first unread
        </button>
      )}
      {unseen > 0 && (
        <button type="button" class="btn btn-primary btn-sm shadow new-messages" data-testid="new-messages" onClick={jumpToBottom}>
          {plural(unseen, 'new message')} <Icon name="arrowDown" />
        </button>
      )}
      <div class="visually-hidden" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
});

/** One row: a date separator, the unread divider or a timeline item (messages; other kinds join here). */
function Row({ row, selfId, renderText }: { row: TimelineRow; selfId: string; renderText: RenderText | undefined }) {
  switch (row.kind) {
    case 'day':
      return (
        <li class="day-separator" data-testid="day-separator" role="separator">
          <span>{row.label}</span>
        </li>
      );
    case 'unread':
      return (
        <li class="unread-divider" data-testid="unread-divider" role="separator" aria-label="New messages">
          <span>New messages</span>
        </li>
      );
    case 'item':
      if (row.item.kind === 'event') return <TimelineEvent event={row.item.event} />;
      return (
        <MessageItem
          message={row.item.message}
          own={row.item.message.sender.id === selfId}
          continued={row.continued}
          renderText={renderText}
        />
      );
  }
}

/** What sits above the first message: loading, an error, the older-page button or the start. */
function HistoryStart({ timeline, loadingOlder, historyError, onLoadOlder, onReloadHistory }: MessageListProps) {
  if (historyError && !timeline.historyLoaded) {
    return (
      <div class="alert alert-danger m-3 d-flex align-items-center gap-2" role="alert">
        <span class="flex-grow-1">{historyError}</span>
        <button type="button" class="btn btn-outline-danger btn-sm" onClick={onReloadHistory}>
          Try again
        </button>
      </div>
    );
  }
  if (!timeline.historyLoaded) {
    return (
      <div class="text-center text-body-secondary p-4" role="status">
        <span class="spinner-border spinner-border-sm me-2" aria-hidden="true" />
        Loading messages…
      </div>
    );
  }
  if (timeline.hasOlder) {
    return (
      <div class="older-messages text-center">
        <button type="button" class="btn btn-link btn-sm" onClick={onLoadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
        </button>
      </div>
    );
  }
  return (
    <p class="older-messages text-center small text-body-secondary mb-0">
      {timeline.messages.length > 0 ? 'This is the start of the room.' : 'No messages yet. Say hello!'}
    </p>
  );
}

function newFromOthers(messages: readonly Message[], afterSeq: number, selfId: string): Message[] {
  return messages.filter((message) => message.seq > afterSeq && message.sender.id !== selfId);
}

function describeArrivals(fresh: readonly Message[], unseenTotal: number): string {
  if (unseenTotal > 0) return `${plural(unseenTotal, 'new message')} below.`;
  const [only] = fresh;
  return fresh.length === 1 && only ? `New message from ${only.sender.username}.` : `${plural(fresh.length, 'new message')}.`;
}
