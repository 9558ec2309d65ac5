/**
 * Table types for Kysely. Times are milliseconds since the epoch (BIGINT), flags are
 * 0/1 integers, and ids are text: the same columns behave alike on SQLite and PostgreSQL.
 * Every `*_ciphertext` column holds a Fernet token; its `*_key_id` names the key.
 */
import type { Kysely, Transaction } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  /** Lower-cased username: the unique key that makes names case-insensitive. */
  username_key: string;
  email_ciphertext: string;
  email_key_id: string;
  /** Keyed HMAC of the normalised email (a blind index): uniqueness without plaintext. */
  email_index: string;
  password_hash: string;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  /** SHA-256 of the cookie token: a stolen database copy cannot be replayed as cookies. */
  token_hash: string;
  user_id: string;
  remember_me: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
}

export interface RoomsTable {
  id: string;
  name: string;
  /** Lower-cased name, for join by name and the directory. Not unique: private rooms reserve no name; public ones are kept apart by room_name_keys. */
  name_key: string;
  description_ciphertext: string | null;
  description_key_id: string | null;
  is_private: number;
  owner_id: string;
  /** The last message sequence number handed out in this room. */
  last_seq: number;
  /** (Optional in writes: it has a default.) The room's change counter: bumped by every edit, delete or reaction change (catch-up by `changedAfter`). */
  last_change?: number;
  created_at: number;
  /**
   * 'dm': a direct message (private, nameless, no invites or moderators); 'room' otherwise.
   * Optional for inserts only (the column defaults to 'room'); every read has it.
   */
  kind?: 'room' | 'dm';
  /** A DM's set of people (rooms/dm-key.ts), unique; null (the default) for other rooms. */
  dm_key?: string | null;
}

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  role: 'owner' | 'moderator' | 'member';
  joined_at: number;
  last_read_seq: number;
  /** (Optional in writes: it has a default.) Which messages notify: 'all' | 'mentions' | 'none'. */
  notification_level?: 'all' | 'mentions' | 'none';
}

export interface MessagesTable {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  /** 'fernet': encrypted by the server's keyring. Room for client-side (end-to-end) formats later. */
  body_format: string;
  body_ciphertext: string;
  body_key_id: string | null;
  created_at: number;
  edited_at: number | null;
  /** (Optional in writes.) The seq (same room) this message replies to; null for none. */
  reply_to_seq?: number | null;
  /** (Optional in writes.) The members mentioned, user ids joined by ',' (null: none); counted from message_mentions. */
  mention_ids?: string | null;
  /** (Optional in writes: these have defaults.) A tombstone: the body ciphertext is '' and its earlier versions are deleted. */
  deleted_at?: number | null;
  /** rooms.last_change at this message's last change; 0 for a message never changed. */
  change_seq?: number;
}

/** An earlier version of an edited message (a Fernet token, like the body). */
export interface MessageEditsTable {
  id: string;
  room_id: string;
  seq: number;
  body_format: string;
  body_ciphertext: string;
  body_key_id: string | null;
  /** When this version was replaced. */
  edited_at: number;
  /** rooms.last_change of the edit that replaced it (orders versions). */
  change_seq: number;
}

/** One user's reaction with one emoji to one message. */
export interface MessageReactionsTable {
  room_id: string;
  seq: number;
  emoji: string;
  user_id: string;
  created_at: number;
}

/** One member mentioned by one message: counted per member after its read marker. */
export interface MessageMentionsTable {
  room_id: string;
  user_id: string;
  seq: number;
}

export interface RoomInvitesTable {
  id: string;
  room_id: string;
  /** SHA-256 of the invite code: the code itself is shown once, to its creator. */
  code_hash: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  /** When an owner or moderator revoked it (null: not revoked). */
  revoked_at: number | null;
}

/** The user may not use this invite: it was made before they were removed or banned. */
export interface RoomInviteExclusionsTable {
  invite_id: string;
  user_id: string;
}

/** One row: bumped by `securechat search reindex`; every instance rebuilds its in-memory index when it changes. */
export interface SearchStateTable {
  id: number;
  generation: number;
}

/** A known plaintext under the current key: start-up proves the key reads existing data. */
export interface KeyCanaryTable {
  id: string;
  ciphertext: string;
  key_id: string;
  created_at: number;
}

export interface RateLimitCountersTable {
  key: string;
  count: number;
  reset_at: number;
}

/** A sign-in attempt budget (platform/cluster/counters.ts); `holder` names the last granted reservation. */
export interface AttemptBudgetsTable {
  key: string;
  count: number;
  next_at: number;
  reset_at: number;
  holder: string;
}

export interface RoomBansTable {
  room_id: string;
  user_id: string;
  banned_by: string;
  created_at: number;
}

/** One row while an instance holds a socket of the user (presence across instances). */
export interface PresenceTable {
  user_id: string;
  instance_id: string;
  /** The database's clock, in ms, at the holding instance's last heartbeat. */
  heartbeat_at: number;
}

/** A key a username is reserved under (server/names/name-keys.ts): no two accounts share one. */
export interface UsernameKeysTable {
  key: string;
  user_id: string;
}

/** A key a public room's name is reserved under; private rooms reserve none. */
export interface RoomNameKeysTable {
  key: string;
  room_id: string;
}

/** A membership change shown in the room's timeline, placed after the message `after_seq`. */
export interface RoomEventsTable {
  id: string;
  room_id: string;
  after_seq: number;
  at: number;
  user_id: string;
  change: 'joined' | 'left' | 'removed';
  /** Who added or removed the user (null: they joined or left themselves). */
  actor_id: string | null;
}

/** 'uploading' until every chunk is stored, 'stored' once readable, 'released' once its message is deleted (bytes being purged). */
export type FileState = 'uploading' | 'stored' | 'released';
export type FileStorageKind = 'local' | 'database';

/** An attachment; its chunks are in `storage` under blob id `id` (and `<id>.thumb` for its thumbnail). */
export interface FilesTable {
  id: string;
  room_id: string;
  uploader_id: string;
  state: FileState;
  storage: FileStorageKind;
  size: number;
  chunk_count: number;
  chunk_size: number;
  content_key_id: string;
  /** Fernet token of JSON `{name, mime, width?, height?, thumbnail?: {width, height, mime}}`. */
  meta_ciphertext: string;
  meta_key_id: string;
  thumbnail_chunks?: number;
  message_seq: number | null;
  created_at: number;
}

/** One Fernet token of a blob kept in the database storage. */
export interface FileChunksTable {
  blob_id: string;
  idx: number;
  token: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  messages: MessagesTable;
  message_edits: MessageEditsTable;
  message_reactions: MessageReactionsTable;
  message_mentions: MessageMentionsTable;
  room_invites: RoomInvitesTable;
  room_invite_exclusions: RoomInviteExclusionsTable;
  key_canary: KeyCanaryTable;
  search_state: SearchStateTable;
  presence: PresenceTable;
  room_bans: RoomBansTable;
  rate_limit_counters: RateLimitCountersTable;
  attempt_budgets: AttemptBudgetsTable;
  username_keys: UsernameKeysTable;
  room_name_keys: RoomNameKeysTable;
  room_events: RoomEventsTable;
  files: FilesTable;
  file_chunks: FileChunksTable;
}

/** What repositories take: the database itself or an open transaction. */
export type Db = Kysely<Database> | Transaction<Database>;
