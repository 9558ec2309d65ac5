/**
 * The public protocol: the shapes that cross the wire between server and clients.
 * One TypeBox schema per shape gives the server its validation, both sides their
 * TypeScript types, and the OpenAPI document its content. Nothing here imports
 * from the server or the client.
 */
import { Type, type Static } from 'typebox';
import { EMOJI_MAX, REACTIONS_PER_MESSAGE_MAX } from './emoji.js';
import { ERROR_CODES, type ErrorCode } from './errors.js';
import { FILE_LIMITS, FileSchema } from './file-shapes.js';
import { ROOM_NAME_MAX, ROOM_NAME_MIN, USERNAME_MAX, USERNAME_MIN, USERNAME_PATTERN } from './names.js';

// Invites and bans have their own file; everything stays importable from here.
export * from './invite-shapes.js';
export * from './file-shapes.js';

/** Limits shared by validation on the server and hints in the client. */
export const LIMITS = {
  usernameMin: USERNAME_MIN,
  usernameMax: USERNAME_MAX,
  passwordMax: 128,
  emailMax: 254,
  roomNameMin: ROOM_NAME_MIN,
  roomNameMax: ROOM_NAME_MAX,
  roomDescriptionMax: 500,
  /** The highest MESSAGE_MAX_LENGTH; the limit in force comes in SessionInfo.limits. */
  messageMaxCeiling: 100_000,
  clientIdMax: 64,
  pageDefault: 50,
  pageMax: 200,
  catchUpMax: 1000,
  /** An invite link's life when none is asked for (7 days), its longest (90 days), and its highest use limit. */
  inviteHoursDefault: 168,
  inviteHoursMax: 2160,
  inviteUsesMax: 10_000,
  /** A DM's people besides its creator (a DM holds at most 9), and the people search's page sizes. */
  dmOthersMax: 8,
  userSearchDefault: 10,
  userSearchMax: 50,
  /** Distinct emoji one message may carry, and the longest emoji (UTF-16 units) a reaction may be. */
  reactionsPerMessageMax: REACTIONS_PER_MESSAGE_MAX,
  emojiMax: EMOJI_MAX,
  /** Distinct @names looked up per message (more are left as text). */
  mentionsMax: 50,
} as const;

export const NOTIFICATION_LEVELS = ['all', 'mentions', 'none'] as const;
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number];
export const NotificationLevelSchema = Type.Union([Type.Literal('all'), Type.Literal('mentions'), Type.Literal('none')], {
  description: 'Which messages notify: all (any from others), mentions (of you only), none.',
});

export { USERNAME_PATTERN };

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.Unsafe<ErrorCode>(Type.String({ enum: [...ERROR_CODES], description: 'A stable snake_case code (src/shared/errors.ts).' })),
    message: Type.String({ description: 'A sentence a person can act on.' }),
    field: Type.Optional(Type.String({ description: 'The request field the error concerns.' })),
  }),
});
export type ErrorBody = Static<typeof ErrorSchema>;

export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof UserSchema>;

export const MeSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Me = Static<typeof MeSchema>;

export const SessionInfoSchema = Type.Object({
  user: UserSchema,
  csrfToken: Type.String(),
  limits: Type.Object(
    { messageMaxLength: Type.Integer({ minimum: 1, description: 'Characters per message after trimming (MESSAGE_MAX_LENGTH).' }) },
    { description: "This server's limits, for the client's hints." },
  ),
});
export type SessionInfo = Static<typeof SessionInfoSchema>;

export const ActiveSessionSchema = Type.Object({
  id: Type.String(),
  current: Type.Boolean(),
  rememberMe: Type.Boolean(),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type ActiveSession = Static<typeof ActiveSessionSchema>;

// Names and texts are trimmed before their lengths are checked, so those limits are stated
// (and checked by the services); passwords are taken as typed, so the schema holds theirs.
export const RegisterBodySchema = Type.Object({
  username: Type.String({
    description: `${LIMITS.usernameMin} to ${LIMITS.usernameMax} letters, digits, underscores, dots and hyphens, after trimming; not one that reads or looks like a taken username (409 username_taken).`,
  }),
  email: Type.String({ description: `An email address of at most ${LIMITS.emailMax} characters, after trimming.` }),
  password: Type.String({ maxLength: LIMITS.passwordMax, description: 'At least PASSWORD_MIN_LENGTH characters (default 8), not one of the most common passwords, nor built on the username, the email address or "SecureChat".' }),
  confirmPassword: Type.String({ maxLength: LIMITS.passwordMax }),
});
export type RegisterBody = Static<typeof RegisterBodySchema>;

export const LoginBodySchema = Type.Object({
  username: Type.String(),
  password: Type.String(),
  rememberMe: Type.Optional(Type.Boolean()),
});
export type LoginBody = Static<typeof LoginBodySchema>;

export const ChangePasswordBodySchema = Type.Object({
  currentPassword: Type.String(),
  newPassword: Type.String({ maxLength: LIMITS.passwordMax, description: 'At least PASSWORD_MIN_LENGTH characters (default 8), not one of the most common passwords, nor built on the username, the email address or "SecureChat".' }),
});
export type ChangePasswordBody = Static<typeof ChangePasswordBodySchema>;

export const RoleSchema = Type.Union([
  Type.Literal('owner'),
  Type.Literal('moderator'),
  Type.Literal('member'),
]);
export type Role = Static<typeof RoleSchema>;

export const RoomKindSchema = Type.Union([Type.Literal('room'), Type.Literal('dm')]);
export type RoomKind = Static<typeof RoomKindSchema>;

/** Someone as a search or a DM names them. */
export const UserRefSchema = Type.Object({ id: Type.String(), username: Type.String() });
export type UserRef = Static<typeof UserRefSchema>;

/** A DM's member, with whether they were online when the room was read (presence frames keep it current). */
export const DmMemberSchema = Type.Object({ id: Type.String(), username: Type.String(), online: Type.Optional(Type.Boolean()) });
export type DmMember = Static<typeof DmMemberSchema>;

export const RoomSchema = Type.Object({
  id: Type.String(),
  name: Type.String({ description: "A DM's name is the other members' usernames, comma-joined (as the caller sees it)." }),
  kind: RoomKindSchema,
  description: Type.String(),
  isPrivate: Type.Boolean(),
  role: Type.Union([RoleSchema, Type.Null()], { description: "The caller's role; null when not a member." }),
  lastSeq: Type.Integer(),
  memberCount: Type.Integer(),
  lastReadSeq: Type.Optional(Type.Integer({ description: 'The last seq the caller has read (members only).' })),
  dmMembers: Type.Optional(Type.Array(DmMemberSchema, { description: 'DMs only: everyone in it, the caller included, in the order they joined.' })),
  unreadCount: Type.Optional(Type.Integer({ description: "In the room list: others' messages after the read marker (counted up to 1000)." })),
  mentionCount: Type.Optional(Type.Integer({ description: 'In the room list: mentions of the caller after the read marker (counted up to 1000).' })),
  notificationLevel: Type.Optional(NotificationLevelSchema),
});
export type Room = Static<typeof RoomSchema>;

export const UserSearchSchema = Type.Object({ users: Type.Array(UserRefSchema) });
export type UserSearch = Static<typeof UserSearchSchema>;

export const MemberSchema = Type.Object({
  user: UserSchema,
  role: RoleSchema,
  online: Type.Boolean(),
});
export type Member = Static<typeof MemberSchema>;

export const ReactionSchema = Type.Object({
  emoji: Type.String(),
  userIds: Type.Array(Type.String(), { description: 'Who reacted with it, first first.' }),
});
export type Reaction = Static<typeof ReactionSchema>;
export const ReplyRefSchema = Type.Object({
  seq: Type.Integer(),
  sender: Type.Object({ id: Type.String(), username: Type.String() }),
  excerpt: Type.String({ description: 'The start of the original body ("" once deleted).' }),
  deleted: Type.Optional(Type.Boolean()),
});
export type ReplyRef = Static<typeof ReplyRefSchema>;

/** The files a new message carries: the sender's uploads to the room not yet sent, each once. */
export const AttachmentIdsSchema = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: FILE_LIMITS.attachmentsPerMessageMax,
  uniqueItems: true,
  description:
    `Ids of files you uploaded to this room (POST /rooms/:roomId/files) and have not sent yet; 1 to ${FILE_LIMITS.attachmentsPerMessageMax}, each once. ` +
    'With attachments the body may be empty. Any other id is a 400 invalid_attachment and nothing is stored.',
});

export const MessageSchema = Type.Object({
  id: Type.String(),
  roomId: Type.String(),
  seq: Type.Integer(),
  sender: Type.Object({ id: Type.String(), username: Type.String() }),
  body: Type.String(),
  clientId: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  editedAt: Type.Optional(Type.String({ format: 'date-time' })),
  deletedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Set once deleted: a tombstone, `body` is "".' })),
  reactions: Type.Array(ReactionSchema, { description: 'One entry per emoji, in the order first used; [] when none.' }),
  changeSeq: Type.Optional(
    Type.Integer({ description: "The room's change counter at this message's last edit, delete or reaction change (absent: never changed). A client keeps the state with the highest." }),
  ),
  replyTo: Type.Optional(ReplyRefSchema),
  mentions: Type.Array(Type.String(), { description: 'Ids of the members `@username` in the body names.' }),
  attachments: Type.Array(FileSchema, {
    description: 'The files the message carries, in the order they were uploaded; [] when none, and [] once the message is deleted (its files are deleted with it).',
  }),
});
export type Message = Static<typeof MessageSchema>;

/** A membership change in a room's timeline: it happened after message `afterSeq` and before the next. */
export const RoomEventSchema = Type.Object({
  id: Type.String(),
  roomId: Type.String(),
  afterSeq: Type.Integer({ minimum: 0 }),
  at: Type.String({ format: 'date-time' }),
  user: Type.Object({ id: Type.String(), username: Type.String() }),
  change: Type.Union([Type.Literal('joined'), Type.Literal('left'), Type.Literal('removed')]),
  actor: Type.Union([Type.Object({ id: Type.String(), username: Type.String() }), Type.Null()], {
    description: 'Who added or removed the user; null when they joined or left themselves.',
  }),
});
export type RoomEvent = Static<typeof RoomEventSchema>;

export const MessagePageSchema = Type.Object({
  messages: Type.Array(MessageSchema),
  hasMore: Type.Boolean(),
  lastChange: Type.Optional(Type.Integer({ description: "With changedAfter: the room's change counter when the page was read." })),
  events: Type.Optional(
    Type.Array(RoomEventSchema, { description: "Membership events in the page's span of seqs (and after it, on the newest page), oldest first." }),
  ),
});

export const MessageEditSchema = Type.Object({
  body: Type.String(),
  editedAt: Type.String({ format: 'date-time', description: 'When this version was replaced by the next one.' }),
});
export type MessageEdit = Static<typeof MessageEditSchema>;
export type MessagePage = Static<typeof MessagePageSchema>;

// ---- WebSocket frames -------------------------------------------------------

export type MemberChange = 'joined' | 'left' | 'removed' | 'role';

/** Frames the server sends. */
export type ServerFrame =
  | { type: 'hello'; user: User; rooms: Array<{ id: string; lastSeq: number; lastChange?: number }> }
  | { type: 'message'; message: Message }
  /** An edit, delete or reaction change: the message's full new state (replace by seq). */
  | { type: 'message_updated'; message: Message }
  | { type: 'ack'; clientId: string; message: Message }
  | { type: 'error'; clientId?: string; error: ErrorBody['error'] }
  | { type: 'presence'; userId: string; online: boolean }
  | { type: 'typing'; roomId: string; userId: string }
  /** A DM the user is in was just created (by them, elsewhere, or by someone else): add it to the list; its events follow. */
  | { type: 'dm'; room: Room }
  | { type: 'member'; roomId: string; userId: string; change: MemberChange; event?: RoomEvent }
  /** The room was deleted by its owner: its messages are gone and nobody is subscribed any more. */
  | { type: 'room_deleted'; roomId: string }
  /** The caller changed a room's notification level (on any of its devices). */
  | { type: 'notification_level'; roomId: string; level: NotificationLevel }
  | { type: 'pong' };

export const SendFrameSchema = Type.Object({
  type: Type.Literal('send'),
  roomId: Type.String({ maxLength: 64 }),
  body: Type.String({ maxLength: LIMITS.messageMaxCeiling }),
  clientId: Type.String({ minLength: 1, maxLength: LIMITS.clientIdMax }),
  replyTo: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  attachments: Type.Optional(AttachmentIdsSchema),
});
export const TypingFrameSchema = Type.Object({
  type: Type.Literal('typing'),
  roomId: Type.String({ maxLength: 64 }),
});
export const PingFrameSchema = Type.Object({ type: Type.Literal('ping') });

/** Frames a client sends. */
export const ClientFrameSchema = Type.Union([SendFrameSchema, TypingFrameSchema, PingFrameSchema]);
export type ClientFrame = Static<typeof ClientFrameSchema>;
