/**
 * What the message actions need beside the message itself, given once for the whole list
 * (ChatView provides it) so MessageItem takes no new props: the room, who is looking and
 * with which role, and how to name a user.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role } from '../../shared/protocol.js';
import type { MessageChanges } from '../core/message-changes.js';

export interface MessageActionsEnv {
  changes: MessageChanges;
  roomId: string;
  selfId: string;
  role: Role | null;
  roomKind?: 'room' | 'dm';
  /** A user's name for the reactions' tooltips. */
  nameOf: (userId: string) => string;
}

export const MessageActionsContext = createContext<MessageActionsEnv | null>(null);

export const useMessageActions = () => useContext(MessageActionsContext);
