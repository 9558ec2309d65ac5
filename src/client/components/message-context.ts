/**
 * What a message item needs from the open room beyond its message: who I am, which names are
 * the room's members (for mention highlighting), and the reply and jump actions. Given by
 * context, so MessageList and MessageItem keep their props (and their memoised renders).
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Message } from '../../shared/protocol.js';

export interface MessageContextValue {
  selfId: string;
  /** Lower-cased usernames of the room's members; null while unknown (then every @name is shown). */
  memberKeys: ReadonlySet<string> | null;
  /** My own lower-cased username: a mention of it stands out. */
  selfKey: string;
  onReply(message: Message): void;
  onJump(seq: number): void;
}

export const MessageContext = createContext<MessageContextValue | null>(null);

export const useMessageContext = () => useContext(MessageContext);
