/** Membership events of the timeline (joined, left, removed), kept per room beside the messages. */
import type { RoomEvent } from '../../shared/protocol.js';
import type { ChatSnapshot } from './chat-state.js';
import type { Store } from './store.js';

export const NO_EVENTS: readonly RoomEvent[] = [];

/** Merges events by id (a page and a live frame may both bring one), ordered by the seq they follow, then id. */
export function mergeRoomEvents(state: Store<ChatSnapshot>, roomId: string, incoming: readonly RoomEvent[] | undefined): void {
  if (!incoming || incoming.length === 0) return;
  const held = state.getSnapshot().roomEvents[roomId] ?? NO_EVENTS;
  const byId = new Map(held.map((event) => [event.id, event]));
  for (const event of incoming) byId.set(event.id, event);
  if (byId.size === held.length) return;
  const merged = [...byId.values()].sort((a, b) => a.afterSeq - b.afterSeq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  state.update({ roomEvents: { ...state.getSnapshot().roomEvents, [roomId]: merged } });
}
