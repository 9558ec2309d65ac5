/** One entry of the sidebar's room and DM lists: the link, its icon and name, and its mention and unread badges. */
import type { ComponentChildren } from 'preact';
import type { Room } from '../../shared/protocol.js';
import { roomPath } from '../paths.js';
import { Link } from '../router.js';

interface RoomLinkProps {
  room: Room;
  active: boolean;
  unread: number;
  /** Mentions of me since my read marker: a badge of its own. */
  mentioned: number;
  testId: 'room-item' | 'dm-item';
  onNavigate: () => void;
  /** What stands before the name (a room's # or lock, a DM's presence dot). */
  icon: ComponentChildren;
  /** Read by screen readers after the name (", private", "(online)"). */
  hint?: string;
}

export function RoomLink({ room, active, unread, mentioned, testId, onNavigate, icon, hint }: RoomLinkProps) {
  return (
    <li class="list-group-item p-0 border-0">
      <Link
        href={roomPath(room.id)}
        onClick={onNavigate}
        class={`room-link list-group-item-action d-flex align-items-center gap-2 px-3 py-2${active ? ' active' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-testid={testId}
        data-room-id={room.id}
        data-room-name={room.name}
      >
        {icon}
        <span class={`text-truncate flex-grow-1${unread > 0 ? ' fw-semibold' : ''}`}>{room.name}</span>
        {hint && <span class="visually-hidden">{hint}</span>}
        {mentioned > 0 && (
          <span class="badge rounded-pill text-bg-danger" data-testid="mention-count" title={`${mentioned} mentioning you`}>
            @{mentioned}
            <span class="visually-hidden"> {mentioned === 1 ? 'mention' : 'mentions'} of you</span>
          </span>
        )}
        {unread > 0 && (
          <>
            <span class="badge rounded-pill text-bg-primary" data-testid="unread-count">
              {unread}
            </span>
            <span class="visually-hidden">unread {unread === 1 ? 'message' : 'messages'}</span>
          </>
        )}
      </Link>
    </li>
  );
}
