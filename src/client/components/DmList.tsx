/** The sidebar's "Direct messages" section: DMs named by the other people, a presence dot for 1:1s. */
import { dmPartner } from '../../shared/dm.js';
import type { Room } from '../../shared/protocol.js';
import { roomPath } from '../paths.js';
import { Link } from '../router.js';
import { Icon } from './Icon.js';

interface DmListProps {
  rooms: readonly Room[];
  unread: Readonly<Record<string, number>>;
  online: Readonly<Record<string, boolean>>;
  selfId: string;
  activeRoomId: string | null;
  onNavigate: () => void;
  onNewMessage: () => void;
}

export function DmList({ rooms, unread, online, selfId, activeRoomId, onNavigate, onNewMessage }: DmListProps) {
  const dms = rooms.filter((room) => room.kind === 'dm');
  return (
    <section class="dm-section mt-2" aria-labelledby="dm-heading">
      <div class="d-flex align-items-center px-3 py-1">
        <h3 id="dm-heading" class="h6 text-body-secondary text-uppercase small mb-0 flex-grow-1">
          Direct messages
        </h3>
        <button type="button" class="btn btn-link btn-sm p-0" onClick={onNewMessage} title="New message">
          <Icon name="plus" />
          <span class="visually-hidden">New message</span>
        </button>
      </div>
      {dms.length === 0 ? (
        <p class="text-body-secondary small px-3 mb-0">No direct messages yet.</p>
      ) : (
        <ul class="list-group list-group-flush room-list" data-testid="dm-list">
          {dms.map((room) => {
            const count = unread[room.id] ?? 0;
            const active = room.id === activeRoomId;
            const partner = dmPartner(room.dmMembers ?? [], selfId);
            const present = partner ? (online[partner.id] ?? partner.online ?? false) : undefined;
            return (
              <li key={room.id} class="list-group-item p-0 border-0">
                <Link
                  href={roomPath(room.id)}
                  onClick={onNavigate}
                  class={`room-link list-group-item-action d-flex align-items-center gap-2 px-3 py-2${active ? ' active' : ''}`}
                  aria-current={active ? 'page' : undefined}
                  data-testid="dm-item"
                  data-room-id={room.id}
                  data-room-name={room.name}
                >
                  {present === undefined ? (
                    <Icon name="users" />
                  ) : (
                    <span class={`status-dot ${present ? 'text-success' : 'text-body-tertiary'}`} aria-hidden="true" data-online={String(present)} />
                  )}
                  <span class={`text-truncate flex-grow-1${count > 0 ? ' fw-semibold' : ''}`}>{room.name}</span>
                  {present !== undefined && <span class="visually-hidden">{present ? '(online)' : '(offline)'}</span>}
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
      )}
    </section>
  );
}
