/**
 * The open room's reply and mention state for ChatView: the message being replied to, the
 * jump to a quoted original (loading older pages until it is held, then scrolled to and
 * highlighted), and the context message items read (message-context.ts).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { FileInfo } from '../../shared/file-shapes.js';
import type { Member, Message } from '../../shared/protocol.js';
import type { ChatStore } from '../core/chat-store.js';
import type { MessageContextValue } from '../components/message-context.js';
import { navigate } from '../router.js';
import { roomPath } from '../paths.js';
import { jumpToMessage } from '../jump-to-message.js';

const HIGHLIGHT_MS = 2_000;

export function useRoomMessages(chat: ChatStore, roomId: string | null, members: readonly Member[] | undefined) {
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  useEffect(() => setReplyTo(null), [roomId]);
  // A clicked desktop notification opens its room.
  useEffect(() => {
    chat.onOpenRequest = (id) => navigate(roomPath(id));
    return () => (chat.onOpenRequest = undefined);
  }, [chat]);

  const self = chat.getSnapshot().self;
  const context = useMemo<MessageContextValue>(
    () => ({
      selfId: self.id,
      selfKey: self.username.toLowerCase(),
      memberKeys: members ? new Set(members.map((m) => m.user.username.toLowerCase())) : null,
      onReply: (message) => {
        setReplyTo(message);
        document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')?.focus();
      },
      onJump: (seq) => void (roomId && jumpToMessage(chat, roomId, seq, { className: 'message-highlight', markMs: HIGHLIGHT_MS })),
    }),
    [chat, roomId, members, self],
  );

  return {
    context,
    composer: {
      replyTo,
      onCancelReply: () => setReplyTo(null),
      members,
      send: (body: string, files: readonly FileInfo[] = []) => {
        if (!roomId) return;
        chat.send(roomId, body, replyTo?.seq, files);
        setReplyTo(null);
      },
    },
  };
}
