import type { Room } from '../../shared/protocol.js';
import { Icon } from './Icon.js';
import { RoomLink } from './RoomLink.js';

interface RoomListProps {
  rooms: readonly Room[];
  unread: Readonly<Record<string, number>>;
  /** Mentions of me per room. */
  mentions: Readonly<Record<string, number>>;
  activeRoomId: string | null;
  onNavigate: () => void;
}

export function RoomList({ rooms: all, unread, mentions, activeRoomId, onNavigate }: RoomListProps) {
  // DMs have their own section (DmList).
  const rooms = all.filter((room) => room.kind !== 'dm');
  if (rooms.length === 0) {
    return <p class="text-body-secondary small px-3">You are not in any room yet. Create one or browse the directory.</p>;
  }
  return (
    <ul class="list-group list-group-flush room-list">
      {rooms.map((room) => (
        <RoomLink
          key={room.id}
          room={room}
          active={room.id === activeRoomId}
          unread={unread[room.id] ?? 0}
          mentioned={mentions[room.id] ?? 0}
          testId="room-item"
          onNavigate={onNavigate}
          icon={<Icon name={room.isPrivate ? 'lock' : 'hash'} />}
          hint={room.isPrivate ? ', private' : undefined}
        />
      ))}
    </ul>
  );
}
