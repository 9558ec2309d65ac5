/**
 * Predicates over the server's WebSocket frames (ServerFrame of src/shared/protocol.ts),
 * for `WsClient.waitFor`, `received` and `frames.find`:
 *
 *   await socket.waitFor(isMessage(room.id, (m) => m.body === 'hi'));
 *   const typing = socket.received(isTyping(room.id));
 */
import type { MemberChange, Message, ServerFrame } from '../../src/shared/protocol.js';

/** The frame of one type, e.g. `Frame<'ack'>`. */
export type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export const isHello = (f: ServerFrame): f is Frame<'hello'> => f.type === 'hello';
export const isPong = (f: ServerFrame): f is Frame<'pong'> => f.type === 'pong';

/** A message in the room (any room when `roomId` is undefined) that `where` accepts. */
export const isMessage =
  (roomId?: string, where: (m: Message) => boolean = () => true) =>
  (f: ServerFrame): f is Frame<'message'> =>
    f.type === 'message' && (roomId === undefined || f.message.roomId === roomId) && where(f.message);

/** The message with this id. */
export const isMessageId = (id: string) => (f: ServerFrame): f is Frame<'message'> => f.type === 'message' && f.message.id === id;

export const isAck = (clientId: string) => (f: ServerFrame): f is Frame<'ack'> => f.type === 'ack' && f.clientId === clientId;

/** An error frame (for the send with this clientId, when given). */
export const isError = (clientId?: string) => (f: ServerFrame): f is Frame<'error'> =>
  f.type === 'error' && (clientId === undefined || f.clientId === clientId);

/** The answer to a send: its ack or its error. */
export const isReply = (clientId: string) => (f: ServerFrame): f is Frame<'ack'> | Frame<'error'> =>
  (f.type === 'ack' || f.type === 'error') && f.clientId === clientId;

/** A presence change of the user (to `online` when given). */
export const isPresence = (userId: string, online?: boolean) => (f: ServerFrame): f is Frame<'presence'> =>
  f.type === 'presence' && f.userId === userId && (online === undefined || f.online === online);

/** A membership change in the room (of the user, when given; of the kind, when given). */
export const isMember = (roomId: string, userId?: string, change?: MemberChange | string) => (f: ServerFrame): f is Frame<'member'> =>
  f.type === 'member' && f.roomId === roomId && (userId === undefined || f.userId === userId) && (change === undefined || f.change === change);

export const isTyping = (roomId: string) => (f: ServerFrame): f is Frame<'typing'> => f.type === 'typing' && f.roomId === roomId;

/** Any frame whose JSON contains the text. */
export const mentions = (text: string) => (f: ServerFrame) => JSON.stringify(f).includes(text);
