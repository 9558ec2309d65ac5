import type { Room } from '../../shared/protocol.js';
import { roomPath } from '../paths.js';
import { Link } from '../router.js';
import { Icon } from './Icon.js';

interface RoomListProps {
  rooms: readonly Room[];
  unread: Readonly<Record<string, number>>;
  /** Mentions of me per room: a badge of its own. */
  mentions?: Readonly<Record<string, number>>;
  activeRoomId: string | null;
  onNavigate: () => void;
}

export function RoomList({ rooms: all, unread, mentions = {}, activeRoomId, onNavigate }: RoomListProps) {
  // DMs have their own section (DmList).
  const rooms = all.filter((room) => room.kind !== 'dm');
  if (rooms.length === 0) {
    return <p class="text-body-secondary small px-3">You are not in any room yet. Create one or browse the directory.</p>;
  }
  return (
    <ul class="list-group list-group-flush room-list">
      {rooms.map((room) => {
        const count = unread[room.id] ?? 0;
        const mentioned = mentions[room.id] ?? 0;
        const active = room.id === activeRoomId;
        return (
          <li key={room.id} class="list-group-item p-0 border-0">
            <Link
              href={roomPath(room.id)}
              onClick={onNavigate}
              class={`room-link list-group-item-action d-flex align-items-center gap-2 px-3 py-2${active ? ' active' : ''}`}
              aria-current={active ? 'page' : undefined}
              data-testid="room-item"
              data-room-id={room.id}
              data-room-name={room.name}
            >
              <Icon name={room.isPrivate ? 'lock' : 'hash'} />
              <span class={`text-truncate flex-grow-1${count > 0 ? ' fw-semibold' : ''}`}>{room.name}</span>
              {room.isPrivate && <span class="visually-hidden">, private</span>}
              {mentioned > 0 && (
                <span class="badge rounded-pill text-bg-danger" data-testid="mention-count" title={`${mentioned} mentioning you`}>
                  @{mentioned}
                  <span class="visually-hidden"> {mentioned === 1 ? 'mention' : 'mentions'} of you</span>
                </span>
              )}
              {count > 0 && (
                <>
                  <span class="badge rounded-pill text-bg-primary" data-testid="unread-count">
                    {count}
                  </span>
                  <span class="visually-hidden">unread {count === 1 ? 'message' : 'messages'}</span>
                </>
              )}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
