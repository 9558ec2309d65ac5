/** The rooms panel's contents: create, browse, new message; the rooms, then the DMs. */
import type { ChatSnapshot, ChatStore } from '../core/chat-store.js';
import { DmList } from './DmList.js';
import { Icon } from './Icon.js';
import { RoomList } from './RoomList.js';

interface RoomsSidebarProps {
  chat: ChatStore;
  snapshot: ChatSnapshot;
  activeRoomId: string | null;
  onOpen: (dialog: 'create' | 'browse' | 'dm') => void;
  onNavigate: () => void;
}

export function RoomsSidebar({ chat, snapshot, activeRoomId, onOpen, onNavigate }: RoomsSidebarProps) {
  const { rooms } = snapshot;
  return (
    <>
      <div class="d-grid gap-2 p-2">
        <button type="button" class="btn btn-primary btn-sm" onClick={() => onOpen('create')}>
          <Icon name="plus" /> Create room
        </button>
        <button type="button" class="btn btn-outline-secondary btn-sm" onClick={() => onOpen('browse')}>
          <Icon name="search" /> Browse rooms
        </button>
        <button type="button" class="btn btn-outline-secondary btn-sm" onClick={() => onOpen('dm')}>
          <Icon name="messageSquare" /> New message
        </button>
      </div>
      {rooms ? (
        <>
          <RoomList rooms={rooms} unread={snapshot.unread} mentions={snapshot.mentions} activeRoomId={activeRoomId} onNavigate={onNavigate} />
          <DmList
            rooms={rooms}
            unread={snapshot.unread}
            mentions={snapshot.mentions}
            online={snapshot.online}
            selfId={snapshot.self.id}
            activeRoomId={activeRoomId}
            onNavigate={onNavigate}
            onNewMessage={() => onOpen('dm')}
          />
        </>
      ) : snapshot.roomsError ? (
        <div class="alert alert-danger mx-2 small" role="alert">
          {snapshot.roomsError}{' '}
          <button type="button" class="btn btn-link btn-sm p-0" onClick={() => void chat.reloadRooms()}>
            Try again
          </button>
        </div>
      ) : (
        <p class="text-body-secondary small px-3" role="status">
          Loading rooms…
        </p>
      )}
    </>
  );
}
