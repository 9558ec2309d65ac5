/** The chat screen's state (one immutable snapshot) and the helpers its modules share. */
import type { ClientFrame, Member, Message, Room, User, RoomEvent } from '../../shared/protocol.js';
import { ApiError } from './api.js';
import type { Store } from './store.js';
import { EMPTY_TIMELINE, type Timeline } from './timeline.js';

export type ConnectionState = 'connected' | 'reconnecting' | 'polling';

/** Something the user should be told that no control of theirs caused (e.g. being removed from a room). */
export interface ChatNotice {
  /** Grows with each notice, so a view can tell a new one from the one it already handled. */
  id: number;
  /** The room it concerns. */
  roomId: string;
  text: string;
}

export interface ChatSnapshot {
  self: User;
  connection: ConnectionState;
  /** null until the first GET /rooms answers. */
  rooms: readonly Room[] | null;
  roomsError: string | null;
  unread: Readonly<Record<string, number>>;
  /** Mentions of me since I last read each room (core/alerts.ts). */
  mentions: Readonly<Record<string, number>>;
  timelines: Readonly<Record<string, Timeline>>;
  /** Why a room's history could not be loaded, if it couldn't. */
  historyErrors: Readonly<Record<string, string>>;
  loadingOlder: Readonly<Record<string, boolean>>;
  members: Readonly<Record<string, readonly Member[]>>;
  /** Presence by user id, from member lists and `presence` frames. */
  online: Readonly<Record<string, boolean>>;
  /** Names of the people typing, by room. */
  typing: Readonly<Record<string, readonly string[]>>;
  /** The latest notice, until dismissed. */
  notice: ChatNotice | null;
  /** Membership events by room, ordered by the seq they follow (core/room-events.ts). */
  roomEvents: Readonly<Record<string, readonly RoomEvent[]>>;
}

export function initialSnapshot(self: User): ChatSnapshot {
  return {
    self,
    connection: 'reconnecting',
    rooms: null,
    roomsError: null,
    unread: {},
    mentions: {},
    timelines: {},
    historyErrors: {},
    loadingOlder: {},
    members: {},
    online: {},
    typing: {},
    notice: null,
    roomEvents: {},
  };
}

/** What the outbox, sync and read markers share with the ChatStore that composes them. */
export interface ChatContext {
  readonly state: Store<ChatSnapshot>;
  readonly socket: { send(frame: ClientFrame): boolean };
  isStopped(): boolean;
  activeRoomId(): string | null;
  /** Bookkeeping for newly held messages: unread counts, read marker, typing. */
  afterMessages(roomId: string, messages: readonly Message[]): void;
}

export function timelineOf(state: Store<ChatSnapshot>, roomId: string): Timeline {
  return state.getSnapshot().timelines[roomId] ?? EMPTY_TIMELINE;
}

export function setTimeline(state: Store<ChatSnapshot>, roomId: string, timeline: Timeline): void {
  const { timelines } = state.getSnapshot();
  if (timeline !== timelines[roomId]) state.update({ timelines: { ...timelines, [roomId]: timeline } });
}

export function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : 'Something went wrong. Try again.';
}
