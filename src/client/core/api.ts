/**
 * The HTTP side of the API contract (docs: /work/shared/design/api.md): one fetch
 * wrapper that speaks JSON, carries the CSRF token and turns every failure into an
 * ApiError, and one typed function per endpoint the client uses.
 */
import type {
  ActiveSession,
  Ban,
  InvitePreview,
  ChangePasswordBody,
  ErrorBody,
  Invite,
  LoginBody,
  Me,
  Member,
  Message,
  MessageEdit,
  MessagePage,
  RegisterBody,
  Role,
  Room,
  RoomInvite,
  SessionInfo,
  User,
  NotificationLevel,
  UserSearch,
} from '../../shared/protocol.js';
import type { SearchPage } from '../../shared/search-shapes.js';

/** A refused or failed request; `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RequestOptions {
  body?: unknown;
  /** Auth endpoints answer 401 as part of their contract; don't treat it as "signed out". */
  expectUnauthorized?: boolean;
  /** Cancels the request (a search overtaken by the next keystroke). */
  signal?: AbortSignal;
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

/** Remembers the token from login or GET /auth/session for state-changing requests. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The session ended elsewhere (the socket closed with 4401): as a 401 would. */
export function sessionEnded(): void {
  onUnauthorized();
}

/** Called when a request that needs a session is answered 401. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  // An empty JSON object rather than no body: it satisfies a route that declares an
  // all-optional body schema as well as one that declares none.
  const body = options.body ?? (method === 'POST' || method === 'PUT' || method === 'PATCH' ? {} : undefined);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
    });
  } catch {
    if (options.signal?.aborted) throw new ApiError(0, 'aborted', 'The request was cancelled.');
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
  }
  if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
  const error = await readError(response);
  if (response.status === 401 && !options.expectUnauthorized) onUnauthorized();
  throw error;
}

async function readError(response: Response): Promise<ApiError> {
  return errorFromAnswer(response.status, await response.text().catch(() => ''));
}

/** The ApiError for a refusal whose body is `text` (the error shape, or anything else a proxy sent). */
export function errorFromAnswer(status: number, text: string): ApiError {
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    return new ApiError(status, error.code, error.message, error.field);
  } catch {
    return new ApiError(status, 'http_error', `The server answered ${status}. Try again shortly.`);
  }
}

/** The headers a state-changing request needs besides its body's (for requests made without `request`, e.g. uploads). */
export function stateChangeHeaders(): Record<string, string> {
  return csrfToken ? { Accept: 'application/json', 'X-CSRF-Token': csrfToken } : { Accept: 'application/json' };
}

const segment = encodeURIComponent;

// ---- Auth --------------------------------------------------------------------

export const getSession = () => request<SessionInfo>('GET', '/auth/session', { expectUnauthorized: true });
export const login = (body: LoginBody) =>
  request<SessionInfo>('POST', '/auth/login', { body, expectUnauthorized: true });
export const register = (body: RegisterBody) => request<{ user: User }>('POST', '/auth/register', { body });
export const logout = () => request<void>('POST', '/auth/logout', { expectUnauthorized: true });
export const changePassword = (body: ChangePasswordBody) =>
  request<void>('POST', '/auth/password', { body, expectUnauthorized: true });
export const listSessions = () => request<ActiveSession[]>('GET', '/auth/sessions');
export const endSession = (sessionId: string) => request<void>('DELETE', `/auth/sessions/${segment(sessionId)}`);
export const getMe = () => request<Me>('GET', '/me');

// ---- Rooms -------------------------------------------------------------------

export interface CreateRoomBody {
  name: string;
  description?: string;
  isPrivate?: boolean;
}

export const listRooms = () => request<Room[]>('GET', '/rooms');
export const searchDirectory = (query: string) =>
  request<Room[]>('GET', `/rooms/directory?${new URLSearchParams({ q: query })}`);
export const createRoom = (body: CreateRoomBody) => request<{ room: Room }>('POST', '/rooms', { body });
export const joinRoomByName = (name: string) => request<{ room: Room }>('POST', '/rooms/join', { body: { name } });
export const joinRoom = (roomId: string) => request<unknown>('POST', `/rooms/${segment(roomId)}/join`);
export const leaveRoom = (roomId: string) => request<unknown>('POST', `/rooms/${segment(roomId)}/leave`);
export const listMembers = (roomId: string) => request<Member[]>('GET', `/rooms/${segment(roomId)}/members`);
export interface CreateInviteBody {
  expiresInHours?: number;
  maxUses?: number;
}
export const createInvite = (roomId: string, body: CreateInviteBody = {}) =>
  request<Invite>('POST', `/rooms/${segment(roomId)}/invites`, { body });
/** The room's links that still work (owner and moderators). */
export const listInvites = (roomId: string) => request<{ invites: RoomInvite[] }>('GET', `/rooms/${segment(roomId)}/invites`);
export const revokeInvite = (roomId: string, inviteId: string) =>
  request<void>('DELETE', `/rooms/${segment(roomId)}/invites/${segment(inviteId)}`);
/** Who invited, and to which room: works signed out. */
export const getInvitePreview = (code: string) => request<InvitePreview>('GET', `/invites/${segment(code)}`, { expectUnauthorized: true });
export const addMemberByUsername = (roomId: string, username: string) =>
  request<{ member: Member }>('POST', `/rooms/${segment(roomId)}/members`, { body: { username } });
export const listBans = (roomId: string) => request<{ bans: Ban[] }>('GET', `/rooms/${segment(roomId)}/bans`);
export const unban = (roomId: string, userId: string) => request<void>('DELETE', `/rooms/${segment(roomId)}/bans/${segment(userId)}`);
export const handOverRoom = (roomId: string, userId: string) => request<void>('PUT', `/rooms/${segment(roomId)}/owner`, { body: { userId } });
export const deleteRoom = (roomId: string) => request<void>('DELETE', `/rooms/${segment(roomId)}`);
export const acceptInvite = (code: string) => request<{ room: Room }>('POST', `/invites/${segment(code)}/accept`);
/** The caller has read `seq` in this room. */
export const markRoomRead = (roomId: string, seq: number) =>
  request<void>('POST', `/rooms/${segment(roomId)}/read`, { body: { seq } });

// ---- Direct messages -----------------------------------------------------------

/** People whose username starts with `query`. */
export const searchUsers = (query: string, limit = 10) =>
  request<UserSearch>('GET', `/users?${new URLSearchParams({ q: query, limit: String(limit) })}`);
/** The DM of the caller and these people (created, or the existing one). */
export const openDm = (userIds: string[]) => request<{ room: Room }>('POST', '/dms', { body: { userIds } });

// ---- Moderation (owner and moderators) ---------------------------------------

const memberPath = (roomId: string, userId: string) => `/rooms/${segment(roomId)}/members/${segment(userId)}`;
/** Removes a member; they may join again (a public room) or be invited back. */
export const removeMember = (roomId: string, userId: string) => request<void>('POST', `${memberPath(roomId, userId)}/remove`);
/** Removes a member and keeps them from coming back by any path. */
export const banMember = (roomId: string, userId: string) =>
  request<void>('PUT', `/rooms/${segment(roomId)}/bans/${segment(userId)}`);
/** Owner only: makes a member a moderator, or a moderator a member again. */
export const setMemberRole = (roomId: string, userId: string, role: Exclude<Role, 'owner'>) =>
  request<void>('PUT', `${memberPath(roomId, userId)}/role`, { body: { role } });

// ---- Messages ----------------------------------------------------------------

type MessageQuery = { before?: number; after?: number; changedAfter?: number; limit?: number; events?: boolean };

export function listMessages(roomId: string, query: MessageQuery = {}): Promise<MessagePage> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const search = params.toString();
  return request<MessagePage>('GET', `/rooms/${segment(roomId)}/messages${search ? `?${search}` : ''}`);
}

export const postMessage = (roomId: string, body: string, clientId: string, replyTo?: number, attachments: readonly string[] = []) =>
  request<{ message: Message }>('POST', `/rooms/${segment(roomId)}/messages`, {
    body: { body, clientId, ...(replyTo ? { replyTo } : {}), ...(attachments.length > 0 ? { attachments } : {}) },
  });

const messagePath = (roomId: string, seq: number) => `/rooms/${segment(roomId)}/messages/${seq}`;
/** The author only; answers the new state. */
export const editMessage = (roomId: string, seq: number, body: string) =>
  request<{ message: Message }>('PATCH', messagePath(roomId, seq), { body: { body } });
/** The author, or the room's moderators and owner: leaves a tombstone. */
export const deleteMessage = (roomId: string, seq: number) => request<void>('DELETE', messagePath(roomId, seq));
/** The earlier versions of an edited message, newest first. */
export const listEdits = (roomId: string, seq: number) => request<{ edits: MessageEdit[] }>('GET', `${messagePath(roomId, seq)}/edits`);
/** Adds (`on`) or takes back the caller's reaction. */
export const setReaction = (roomId: string, seq: number, emoji: string, on: boolean) =>
  request<void>(on ? 'PUT' : 'DELETE', `${messagePath(roomId, seq)}/reactions/${segment(emoji)}`);

export const setNotificationLevel = (roomId: string, level: NotificationLevel) =>
  request<void>('PUT', `/rooms/${segment(roomId)}/notifications`, { body: { level } });

// ---- Search --------------------------------------------------------------------

export interface MessageSearch {
  /** Words and filters (`from:alice`, `has:file`, `after:2026-03-01`, `before:…`). */
  q: string;
  roomId?: string;
  /** The `nextCursor` of the previous page. */
  before?: string;
  limit?: number;
}

/** Messages of the caller's rooms matching `q`, newest first. */
export function searchMessages(search: MessageSearch, signal?: AbortSignal): Promise<SearchPage> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) if (value !== undefined && value !== '') params.set(key, String(value));
  return request<SearchPage>('GET', `/search?${params}`, { signal });
}
