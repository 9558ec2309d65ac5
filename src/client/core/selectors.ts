/**
 * Slices of the chat snapshot for views that should re-render only when their part
 * changes. A slice built from several fields is memoised: while those fields hold the
 * same (===) values, the selector returns the very same object.
 */
import type { RoomEvent, User } from '../../shared/protocol.js';
import { NO_EVENTS } from './room-events.js';
import type { ChatSnapshot } from './chat-state.js';
import { EMPTY_TIMELINE, type Timeline } from './timeline.js';

export interface MessageListSlice {
  timeline: Timeline;
  self: User;
  loadingOlder: boolean;
  historyError: string | null;
  /** Membership events to place between the messages. */
  events: readonly RoomEvent[];
}

const NO_ONE_TYPING: readonly string[] = [];

/** What the open room's message list shows; not touched by typing, presence or member frames. */
export function messageListSelector(roomId: string | null): (snapshot: ChatSnapshot) => MessageListSlice {
  let last: MessageListSlice | null = null;
  return (snapshot) => {
    const key = roomId ?? '';
    const next: MessageListSlice = {
      timeline: (roomId !== null ? snapshot.timelines[key] : undefined) ?? EMPTY_TIMELINE,
      self: snapshot.self,
      loadingOlder: (roomId !== null ? snapshot.loadingOlder[key] : undefined) ?? false,
      historyError: (roomId !== null ? snapshot.historyErrors[key] : undefined) ?? null,
      events: (roomId !== null ? snapshot.roomEvents[key] : undefined) ?? NO_EVENTS,
    };
    if (
      last &&
      last.timeline === next.timeline &&
      last.self === next.self &&
      last.loadingOlder === next.loadingOlder &&
      last.historyError === next.historyError &&
      last.events === next.events
    ) {
      return last;
    }
    return (last = next);
  };
}

/** The names of the people typing in a room. */
export function typingSelector(roomId: string | null): (snapshot: ChatSnapshot) => readonly string[] {
  return (snapshot) => (roomId !== null ? snapshot.typing[roomId] : undefined) ?? NO_ONE_TYPING;
}

export const selectConnection = (snapshot: ChatSnapshot): ChatSnapshot['connection'] => snapshot.connection;
