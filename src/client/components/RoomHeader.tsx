import type { NotificationLevel, Room } from '../../shared/protocol.js';
import { can } from '../../shared/room-rules.js';
import { plural } from '../format.js';
import { Icon } from './Icon.js';
import { LinkedText } from './LinkedText.js';
import { NotificationMenu } from './NotificationMenu.js';

interface RoomHeaderProps {
  room: Room;
  roomsOpen: boolean;
  membersOpen: boolean;
  onToggleRooms: () => void;
  onToggleMembers: () => void;
  onInvite: () => void;
  onLeave: () => void;
  onNotificationLevel?: (level: NotificationLevel) => void;
}

export function RoomHeader(props: RoomHeaderProps) {
  const { room } = props;
  return (
    <div class="room-header d-flex align-items-center gap-2 border-bottom px-3 py-2">
      <button
        type="button"
        class="btn btn-outline-secondary btn-sm d-md-none"
        aria-controls="rooms-panel"
        aria-expanded={props.roomsOpen}
        onClick={props.onToggleRooms}
        title="Rooms"
      >
        <Icon name="menu" />
        <span class="visually-hidden">Rooms</span>
      </button>
      <div class="flex-grow-1 min-width-0">
        <h1 class="h5 mb-0 d-flex align-items-center gap-2" tabIndex={-1}>
          <Icon name={room.kind === 'dm' ? 'messageSquare' : room.isPrivate ? 'lock' : 'hash'} class="text-body-secondary" />
          <span class="text-truncate">{room.name}</span>
          {room.kind === 'dm' ? (
            <span class="badge text-bg-secondary fw-normal">Direct message</span>
          ) : (
            room.isPrivate && <span class="badge text-bg-secondary fw-normal">Private</span>
          )}
        </h1>
        {room.description && (
          <p class="room-description small text-body-secondary mb-0" data-testid="room-description">
            <LinkedText text={room.description} />
          </p>
        )}
      </div>
      {props.onNotificationLevel && <NotificationMenu level={room.notificationLevel ?? 'all'} onChange={props.onNotificationLevel} />}
      <button
        type="button"
        class="btn btn-outline-secondary btn-sm text-nowrap"
        aria-controls="members-panel"
        aria-expanded={props.membersOpen}
        onClick={props.onToggleMembers}
        title="Members"
      >
        <Icon name="users" /> <span aria-hidden="true">{room.memberCount}</span>
        <span class="visually-hidden">{plural(room.memberCount, 'member')}</span>
      </button>
      {/* Invite links: private rooms, for those the shared rule lets invite. */}
      {room.isPrivate && can(room.role, 'invite', { isPrivate: room.isPrivate, kind: room.kind }) && (
        <button type="button" class="btn btn-outline-secondary btn-sm" onClick={props.onInvite} title="Invite">
          <Icon name="userPlus" />
          <span class="btn-label"> Invite</span>
        </button>
      )}
      <button type="button" class="btn btn-outline-danger btn-sm" onClick={props.onLeave} title="Leave room">
        <Icon name="logOut" />
        <span class="btn-label"> Leave</span>
      </button>
    </div>
  );
}
