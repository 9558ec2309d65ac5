/**
 * The open room's messages. Follows new messages while the reader is at the bottom;
 * once they scroll up it stays put and offers a "new messages" button instead. Older
 * pages load on scroll-up without moving what the reader is looking at.
 */
import { Fragment } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message, RoomEvent } from '../../shared/protocol.js';
import { firstSeq, lastSeq, type Timeline } from '../core/timeline.js';
import { plural } from '../format.js';
import { memo } from '../memo.js';
import { Icon } from './Icon.js';
import { MessageItem, PendingItem } from './MessageItem.js';
import { eventsAfter, TimelineEvent } from './TimelineEvent.js';

interface MessageListProps {
  timeline: Timeline;
  self: { id: string; username: string };
  loadingOlder: boolean;
  historyError: string | null;
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
          {timeline.messages.map((message, index) => (
            <Fragment key={message.seq}>
              {/* Membership events that came before this message (components/TimelineEvent.tsx). */}
              {eventsAfter(props.events ?? [], message.seq, index === 0 ? null : timeline.messages[index - 1]!.seq).map((event) => (
                <TimelineEvent key={event.id} event={event} />
              ))}
              <MessageItem message={message} own={message.sender.id === self.id} />
            </Fragment>
          ))}
          {(props.events ?? [])
            .filter((event) => event.afterSeq >= (timeline.messages.at(-1)?.seq ?? 0))
            .map((event) => (
              <TimelineEvent key={event.id} event={event} />
            ))}
          {timeline.pending.map((pending) => (
            <PendingItem
              key={pending.clientId}
              pending={pending}
              senderName={self.username}
              onRetry={props.onRetry}
              onDiscard={props.onDiscard}
            />
          ))}
        </ol>
      </div>
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
