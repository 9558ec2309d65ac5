/** The sidebar's "Direct messages" section: DMs named by the other people, a presence dot for 1:1s. */
import { dmPartner } from '../../shared/dm.js';
import type { Room } from '../../shared/protocol.js';
import { Icon } from './Icon.js';
import { RoomLink } from './RoomLink.js';

interface DmListProps {
  rooms: readonly Room[];
  unread: Readonly<Record<string, number>>;
  /** Mentions of me per DM. */
  mentions: Readonly<Record<string, number>>;
  online: Readonly<Record<string, boolean>>;
  selfId: string;
  activeRoomId: string | null;
  onNavigate: () => void;
  onNewMessage: () => void;
}

export function DmList({ rooms, unread, mentions, online, selfId, activeRoomId, onNavigate, onNewMessage }: DmListProps) {
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
            const partner = dmPartner(room.dmMembers ?? [], selfId);
            const present = partner ? (online[partner.id] ?? partner.online ?? false) : undefined;
            return (
              <RoomLink
                key={room.id}
                room={room}
                active={room.id === activeRoomId}
                unread={unread[room.id] ?? 0}
                mentioned={mentions[room.id] ?? 0}
                testId="dm-item"
                onNavigate={onNavigate}
                icon={
                  present === undefined ? (
                    <Icon name="users" />
                  ) : (
                    <span class={`status-dot ${present ? 'text-success' : 'text-body-tertiary'}`} aria-hidden="true" data-online={String(present)} />
                  )
                }
                hint={present === undefined ? undefined : present ? '(online)' : '(offline)'}
              />
            );
          })}
        </ul>
      )}
    </section>
  );
}
