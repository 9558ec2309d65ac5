/** The chat screen: rooms on the left, the open room in the middle, members on the right. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Member } from '../../shared/protocol.js';
import type { ChatStore } from '../core/chat-store.js';
import { BrowseRoomsDialog } from '../components/BrowseRoomsDialog.js';
import { Composer } from '../components/Composer.js';
import { CreateRoomDialog } from '../components/CreateRoomDialog.js';
import { Icon } from '../components/Icon.js';
import { InviteDialog } from '../components/InviteDialog.js';
import { LeaveRoomDialog } from '../components/LeaveRoomDialog.js';
import { MemberActionDialog } from '../components/MemberActionDialog.js';
import { MemberList } from '../components/MemberList.js';
import { RoomPeople } from '../components/RoomPeople.js';
import { MessageList } from '../components/MessageList.js';
import { NewMessageDialog } from '../components/NewMessageDialog.js';
import { MessageActionsContext } from '../components/message-actions-context.js';
import { RoomHeader } from '../components/RoomHeader.js';
import { RoomsSidebar } from '../components/RoomsSidebar.js';
import { SidePanel } from '../components/SidePanel.js';
import { TypingIndicator } from '../components/TypingIndicator.js';
import { useDocumentTitle, useStore } from '../hooks.js';
import { loadDraft, saveDraft } from '../core/drafts.js';
import { messageListSelector, typingSelector } from '../core/selectors.js';
import { viewerRole } from '../moderation.js';
import { chatPath, roomPath } from '../paths.js';
import { navigate, Redirect } from '../router.js';
import { MessageContext } from '../components/message-context.js';
import { unreadTitle, useUnreadSignal } from '../unread-signal.js';
import { useRoomMessages } from './use-room-messages.js';

type OpenDialog = 'create' | 'browse' | 'invite' | 'leave' | 'dm' | null;

/** A removal or ban waiting for confirmation. */
interface PendingMemberAction {
  roomId: string;
  action: 'remove' | 'ban';
  member: Member;
}

const WIDE_SCREEN = '(min-width: 992px)';

export function ChatView({ chat, roomId }: { chat: ChatStore; roomId: string | null }) {
  const snapshot = useStore(chat);
  const [roomsOpen, setRoomsOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(() => window.matchMedia(WIDE_SCREEN).matches);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [memberAction, setMemberAction] = useState<PendingMemberAction | null>(null);
  const { rooms, notice } = snapshot;
  const room = rooms?.find((candidate) => candidate.id === roomId) ?? null;
  const totalUnread = Object.values(snapshot.unread).reduce((sum, count) => sum + count, 0);
  const totalMentions = Object.values(snapshot.mentions).reduce((sum, count) => sum + count, 0);
  useDocumentTitle(unreadTitle(room ? room.name : 'Chat', totalUnread, totalMentions));
  useUnreadSignal(totalUnread, totalMentions);
  const chatMain = useRef<HTMLElement>(null);
  const replies = useRoomMessages(chat, room?.id ?? null, room ? snapshot.members[room.id] : undefined);

  // Only a room known to be ours is opened, so a stale link never fetches what we can't read.
  const openRoomId = room?.id ?? null;
  useEffect(() => {
    chat.openRoom(openRoomId);
    return () => chat.openRoom(null);
  }, [chat, openRoomId]);

  // The message list is memoised: its slice keeps its identity through typing and presence
  // frames, and its callbacks stay the same while the room does, so it skips those renders.
  const selectMessageList = useMemo(() => messageListSelector(openRoomId), [openRoomId]);
  // Read before the open room is marked read (the effect above runs after this render).
  const unreadAfterSeq = useMemo(() => (openRoomId ? chat.unreadDividerAfter(openRoomId) : null), [chat, openRoomId]);
  const selfId = snapshot.self.id;
  const draft = useMemo(() => (openRoomId ? loadDraft(selfId, openRoomId) : ''), [selfId, openRoomId]);
  const messageList = selectMessageList(snapshot);
  const messageActions = useMemo(() => {
    const id = openRoomId ?? '';
    return {
      onLoadOlder: () => void chat.loadOlder(id),
      onReloadHistory: () => chat.openRoom(id),
      onRetry: (clientId: string) => chat.retry(id, clientId),
      onDiscard: (clientId: string) => chat.discard(id, clientId),
    };
  }, [chat, openRoomId]);

  // What the message actions need (who is looking, with which role), one value per room and role.
  const viewingRole = room ? viewerRole(snapshot.self.id, snapshot.members[room.id], room.role) : null;
  const roomMembers = openRoomId ? snapshot.members[openRoomId] : undefined;
  const actionsEnv = useMemo(
    () =>
      openRoomId === null
        ? null
        : {
            changes: chat.changes,
            roomId: openRoomId,
            selfId: snapshot.self.id,
            role: viewingRole,
            roomKind: room?.kind,
            nameOf: (userId: string) => (userId === snapshot.self.id ? 'You' : (roomMembers?.find((m) => m.user.id === userId)?.user.username ?? 'Someone')),
          },
    [chat, openRoomId, snapshot.self.id, viewingRole, room?.kind, roomMembers],
  );

  // Removed from the room on screen by an owner or moderator: back to /chat, notice shown.
  const handledNotice = useRef(0);
  useEffect(() => {
    if (!notice || notice.id === handledNotice.current) return;
    handledNotice.current = notice.id;
    if (notice.roomId === roomId) {
      setDialog(null);
      navigate(chatPath, { replace: true });
    }
  }, [notice, roomId]);

  const firstRoom = rooms?.[0];
  if (roomId === null && firstRoom) return <Redirect to={roomPath(firstRoom.id)} />;

  function openRoom(id: string) {
    setDialog(null);
    setRoomsOpen(false);
    navigate(roomPath(id));
  }

  return (
    <div class="chat-layout">
      <SidePanel
        id="rooms-panel"
        title="Rooms"
        side="start"
        breakpoint="md"
        open={roomsOpen}
        onClose={() => setRoomsOpen(false)}
        class="rooms-panel"
      >
        <RoomsSidebar chat={chat} snapshot={snapshot} activeRoomId={roomId} onOpen={setDialog} onNavigate={() => setRoomsOpen(false)} />
      </SidePanel>

      <section ref={chatMain} class="chat-main" aria-label={room ? `Room ${room.name}` : 'Conversation'}>
        {notice && (
          <div class="alert alert-warning alert-dismissible small m-2 mb-0" role="alert" data-testid="chat-notice">
            {notice.text}
            <button type="button" class="btn-close" aria-label="Dismiss" onClick={() => chat.dismissNotice()} />
          </div>
        )}
        {room ? (
          <>
            <RoomHeader
              room={room}
              roomsOpen={roomsOpen}
              membersOpen={membersOpen}
              onToggleRooms={() => setRoomsOpen(!roomsOpen)}
              onToggleMembers={() => setMembersOpen(!membersOpen)}
              onInvite={() => setDialog('invite')}
              onLeave={() => setDialog('leave')}
              onNotificationLevel={(level) => void chat.setNotificationLevel(room.id, level).catch(() => void chat.reloadRooms())}
            />
            <MessageActionsContext.Provider value={actionsEnv}>
              <MessageContext.Provider value={replies.context}>
                <MessageList key={room.id} {...messageList} {...messageActions} unreadAfterSeq={unreadAfterSeq} />
              </MessageContext.Provider>
            </MessageActionsContext.Provider>
            <TypingIndicator names={typingSelector(room.id)(snapshot)} />
            <Composer
              key={room.id}
              roomId={room.id}
              roomName={room.name}
              dropZone={chatMain}
              draft={draft}
              onDraft={(text) => saveDraft(selfId, room.id, text)}
              onSend={replies.composer.send}
              onTyping={() => chat.notifyTyping(room.id)}
              replyTo={replies.composer.replyTo}
              onCancelReply={replies.composer.onCancelReply}
              members={replies.composer.members}
            />
          </>
        ) : (
          <NoRoomOpen
            loading={rooms === null}
            missing={roomId !== null}
            onShowRooms={() => setRoomsOpen(true)}
            onCreate={() => setDialog('create')}
            onBrowse={() => setDialog('browse')}
          />
        )}
      </section>

      {room && (
        <SidePanel
          id="members-panel"
          title="Members"
          side="end"
          breakpoint="lg"
          open={membersOpen}
          collapsible
          onClose={() => setMembersOpen(false)}
          class="members-panel"
        >
          <MemberList
            key={room.id}
            members={snapshot.members[room.id]}
            online={snapshot.online}
            moderation={{
              viewer: { id: snapshot.self.id, role: viewerRole(snapshot.self.id, snapshot.members[room.id], room.role) },
              onConfirm: (action, member) => setMemberAction({ roomId: room.id, action, member }),
              onSetRole: (member, role) => chat.setMemberRole(room.id, member.user.id, role),
            }}
          />
          <RoomPeople key={`people-${room.id}`} chat={chat} roomId={room.id} role={room.role} memberCount={snapshot.members[room.id]?.length ?? 0} />
        </SidePanel>
      )}

      {dialog === 'create' && (
        <CreateRoomDialog chat={chat} onCreated={(created) => openRoom(created.id)} onClose={() => setDialog(null)} />
      )}
      {dialog === 'dm' && (
        <NewMessageDialog chat={chat} selfId={snapshot.self.id} onOpened={(opened) => openRoom(opened.id)} onClose={() => setDialog(null)} />
      )}
      {dialog === 'browse' && (
        <BrowseRoomsDialog
          chat={chat}
          memberOf={new Set(rooms?.map((r) => r.id))}
          onOpen={openRoom}
          onClose={() => setDialog(null)}
        />
      )}
      {memberAction && room?.id === memberAction.roomId && (
        <MemberActionDialog
          chat={chat}
          room={room}
          member={memberAction.member}
          action={memberAction.action}
          onDone={() => setMemberAction(null)}
          onClose={() => setMemberAction(null)}
        />
      )}
      {dialog === 'invite' && room && <InviteDialog room={room} onClose={() => setDialog(null)} />}
      {dialog === 'leave' && room && (
        <LeaveRoomDialog
          chat={chat}
          room={room}
          onLeft={() => {
            setDialog(null);
            navigate(chatPath, { replace: true });
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

interface NoRoomOpenProps {
  loading: boolean;
  missing: boolean;
  onShowRooms: () => void;
  onCreate: () => void;
  onBrowse: () => void;
}

function NoRoomOpen({ loading, missing, onShowRooms, onCreate, onBrowse }: NoRoomOpenProps) {
  if (loading) {
    return (
      <div class="m-auto text-body-secondary" role="status">
        <span class="spinner-border spinner-border-sm me-2" aria-hidden="true" />
        Loading…
      </div>
    );
  }
  return (
    <div class="m-auto p-4 text-center no-room">
      <h1 class="h4" tabIndex={-1}>
        {missing ? 'Room not available' : 'No room yet'}
      </h1>
      <p class="text-body-secondary">
        {missing
          ? 'This room does not exist, or you are not a member of it.'
          : 'You are not in any room. Create one, or find a public room to join.'}
      </p>
      <div class="d-flex flex-wrap gap-2 justify-content-center">
        <button type="button" class="btn btn-outline-secondary d-md-none" onClick={onShowRooms}>
          <Icon name="menu" /> Your rooms
        </button>
        <button type="button" class="btn btn-primary" onClick={onCreate}>
          <Icon name="plus" /> Create room
        </button>
        <button type="button" class="btn btn-outline-secondary" onClick={onBrowse}>
          <Icon name="search" /> Browse rooms
        </button>
      </div>
    </div>
  );
}
