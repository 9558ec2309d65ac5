/**
 * Mentions and notifications on the client: each room's count of mentions of me since I
 * last read it (from the room list, then kept current from live messages), each room's
 * notification level, and the desktop notification for a live message that matches the
 * level while the tab is hidden. The rule of what matches is `notifies` (unit-tested).
 */
import type { Message, NotificationLevel, Room } from '../../shared/protocol.js';
import { excerptOf } from '../../shared/mentions.js';
import * as api from './api.js';
import type { ChatContext } from './chat-state.js';

const DESKTOP_KEY = 'securechat.desktopNotifications';

/** Whether a message from someone else should notify at this level. */
export function notifies(level: NotificationLevel, message: Message, selfId: string): boolean {
  if (message.sender.id === selfId || level === 'none') return false;
  return level === 'all' || message.mentions.includes(selfId);
}

/** The settings toggle: on only once the user turned it on (and the browser allowed it). */
export function desktopNotificationsOn(): boolean {
  return typeof Notification !== 'undefined' && localStorage.getItem(DESKTOP_KEY) === '1' && Notification.permission === 'granted';
}

/** Turns desktop notifications on (asking the browser's permission now) or off; answers whether they are on. */
export async function setDesktopNotifications(on: boolean): Promise<boolean> {
  if (!on || typeof Notification === 'undefined') {
    localStorage.removeItem(DESKTOP_KEY);
    return false;
  }
  const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (permission !== 'granted') return false;
  localStorage.setItem(DESKTOP_KEY, '1');
  return true;
}

export class Alerts {
  constructor(
    private readonly ctx: Pick<ChatContext, 'state' | 'activeRoomId'>,
    /** Opens a room when its notification is clicked. */
    private readonly openRoom: (roomId: string) => void,
  ) {}

  /** The room list's counts replace what was counted locally. */
  trackRooms(rooms: readonly Room[]): void {
    const mentions: Record<string, number> = {};
    for (const room of rooms) mentions[room.id] = room.mentionCount ?? 0;
    this.ctx.state.update({ mentions });
  }

  /** The room is read up to its newest message: its mentions are too. */
  read(roomId: string): void {
    const { mentions } = this.ctx.state.getSnapshot();
    if (mentions[roomId]) this.ctx.state.update({ mentions: { ...mentions, [roomId]: 0 } });
  }

  /**
   * An edit or delete: whether it may have moved my mention count in its room (a mention
   * added or taken away). The caller then reloads the list, whose counts are the server's.
   */
  mentionCountMoved(before: Message | undefined, after: Message): boolean {
    const { self, mentions } = this.ctx.state.getSnapshot();
    const mentionsMe = (message: Message) => !message.deletedAt && message.sender.id !== self.id && message.mentions.includes(self.id);
    if (before) return mentionsMe(before) !== mentionsMe(after);
    // Not held here: only a new mention, or a change in a room that shows some, can matter.
    return mentionsMe(after) || ((mentions[after.roomId] ?? 0) > 0 && (after.deletedAt !== undefined || after.editedAt !== undefined));
  }

  /** A live message: counts a mention of me unless I am looking at the room; notifies when hidden. */
  live(message: Message): void {
    const { self, mentions, rooms } = this.ctx.state.getSnapshot();
    const looking = this.ctx.activeRoomId() === message.roomId && document.visibilityState === 'visible';
    if (!looking && message.sender.id !== self.id && message.mentions.includes(self.id)) {
      this.ctx.state.update({ mentions: { ...mentions, [message.roomId]: (mentions[message.roomId] ?? 0) + 1 } });
    }
    const room = rooms?.find((candidate) => candidate.id === message.roomId);
    if (!room || document.visibilityState !== 'hidden' || !desktopNotificationsOn()) return;
    if (!notifies(room.notificationLevel ?? 'all', message, self.id)) return;
    const notification = new Notification(`${message.sender.username} in ${room.name}`, { body: excerptOf(message.body), tag: `${room.id}:${message.seq}` });
    notification.onclick = () => {
      window.focus();
      this.openRoom(room.id);
      notification.close();
    };
  }

  /** Sets the level here at once and on the server; the other devices hear of it by socket. */
  async setLevel(roomId: string, level: NotificationLevel): Promise<void> {
    this.levelChanged(roomId, level);
    await api.setNotificationLevel(roomId, level);
  }

  levelChanged(roomId: string, level: NotificationLevel): void {
    const { rooms } = this.ctx.state.getSnapshot();
    if (!rooms) return;
    this.ctx.state.update({ rooms: rooms.map((room) => (room.id === roomId ? { ...room, notificationLevel: level } : room)) });
  }
}
