/**
 * Users, rooms, invites and messages, made through the API of an in-process app or of a
 * server process alike (any `HttpTarget`, see http.ts), typed from src/shared/protocol.ts.
 * They throw on anything but success: a test asserts on what it is about, not on its
 * preparations.
 *
 *   const alice = await signUp(t.app);                 // or signUp(server.url, 'alice')
 *   const room = await createRoom(t.app, alice, { isPrivate: true });
 *   await inviteInto(t.app, alice, room.id, bob);
 *   const message = await sendMessage(t.app, alice, room.id, 'hi');
 */
import { randomUUID } from 'node:crypto';
import type { NewMessage } from '../../src/server/messages/message-batch.js';
import type { Invite, Message, MessagePage, Room } from '../../src/shared/protocol.js';
import { call, cookieFrom, type Answer, type HttpTarget, type Session } from './http.js';

export const TEST_PASSWORD = 'correct horse battery staple';

let userCounter = 0;

/** A unique, valid username for this test run. */
export function uniqueName(prefix = 'user'): string {
  userCounter += 1;
  return `${prefix}${userCounter}_${Math.random().toString(36).slice(2, 7)}`;
}

/** The answer, when its status is `status`; else an error naming what failed and what came back. */
function expectStatus<T>(what: string, status: number, answer: Answer<T>): Answer<T> {
  if (answer.status !== status) throw new Error(`${what} failed: ${answer.status} ${answer.text}`);
  return answer;
}

export async function register(target: HttpTarget, username: string = uniqueName(), options: { email?: string; password?: string } = {}): Promise<void> {
  const password = options.password ?? TEST_PASSWORD;
  const body = { username, email: options.email ?? `${username}@example.com`, password, confirmPassword: password };
  expectStatus(`register ${username}`, 201, await call(target, 'POST', '/api/v1/auth/register', { body }));
}

export async function logIn(target: HttpTarget, username: string, password = TEST_PASSWORD, options: { rememberMe?: boolean } = {}): Promise<Session> {
  const body = { username, password, rememberMe: options.rememberMe ?? false };
  const answer = await call<{ user: Session['user']; csrfToken: string }>(target, 'POST', '/api/v1/auth/login', { body });
  if (answer.status !== 200) throw new Error(`login ${username} failed: ${answer.status} ${answer.text} after ${answer.ms.toFixed(0)} ms`);
  return { user: answer.body.user, cookie: cookieFrom(answer), csrfToken: answer.body.csrfToken };
}

/** Registers and logs in a new user through the API. */
export async function signUp(target: HttpTarget, username: string = uniqueName(), options: { rememberMe?: boolean } = {}): Promise<Session> {
  await register(target, username);
  return logIn(target, username, TEST_PASSWORD, options);
}

export interface RoomFields {
  name?: string;
  description?: string;
  isPrivate?: boolean;
}

/** A new room of the owner's; its name is unique unless given. */
export async function createRoom(target: HttpTarget, owner: Session, fields: RoomFields = {}): Promise<Room> {
  const answer = await call<{ room: Room }>(target, 'POST', '/api/v1/rooms', { session: owner, body: { name: uniqueName('Room'), ...fields } });
  return expectStatus('create room', 201, answer).body.room;
}

export async function joinRoom(target: HttpTarget, session: Session, roomId: string): Promise<void> {
  expectStatus(`join ${roomId}`, 200, await call(target, 'POST', `/api/v1/rooms/${roomId}/join`, { session }));
}

/** The rooms the session is a member of (GET /api/v1/rooms). */
export async function myRooms(target: HttpTarget, session: Session): Promise<Room[]> {
  return expectStatus('rooms', 200, await call<Room[]>(target, 'GET', '/api/v1/rooms', { session })).body;
}

export async function createInvite(target: HttpTarget, session: Session, roomId: string, fields: { expiresInHours?: number; maxUses?: number } = {}): Promise<Invite> {
  return expectStatus('invite', 201, await call<Invite>(target, 'POST', `/api/v1/rooms/${roomId}/invites`, { session, body: fields })).body;
}

/** Accepts an invite code; the room it let the session into. */
export async function acceptInvite(target: HttpTarget, session: Session, code: string): Promise<Room> {
  return expectStatus('accept', 200, await call<{ room: Room }>(target, 'POST', `/api/v1/invites/${code}/accept`, { session })).body.room;
}

/** The owner invites the guest into the room, and the guest accepts. */
export async function inviteInto(target: HttpTarget, owner: Session, roomId: string, guest: Session): Promise<void> {
  const invite = await createInvite(target, owner, roomId);
  await acceptInvite(target, guest, invite.code);
}

/** Sends over HTTP and returns the stored message. */
export async function sendMessage(target: HttpTarget, session: Session, roomId: string, body: string, clientId: string = randomUUID()): Promise<Message> {
  const answer = await call<{ message: Message }>(target, 'POST', `/api/v1/rooms/${roomId}/messages`, { session, body: { body, clientId } });
  return expectStatus('send', 201, answer).body.message;
}

/** One page of a room's messages; `query` as in `?after=3&limit=10`. */
export async function readPage(target: HttpTarget, session: Session, roomId: string, query = ''): Promise<MessagePage> {
  return expectStatus(`read ${roomId}`, 200, await call<MessagePage>(target, 'GET', `/api/v1/rooms/${roomId}/messages${query}`, { session })).body;
}

/** Every message of the room through the catch-up API (`after=`, page by page until hasMore is false). */
export async function readAll(target: HttpTarget, session: Session, roomId: string, pageSize = 200): Promise<Message[]> {
  const all: Message[] = [];
  let after = 0;
  for (;;) {
    const page = await readPage(target, session, roomId, `?after=${after}&limit=${pageSize}`);
    all.push(...page.messages);
    if (!page.hasMore) return all;
    after = page.messages.at(-1)!.seq;
  }
}

/** A message row for a message store (below the API): a fresh id and clientId, a ciphertext nobody reads. */
export function newMessageRow(roomId: string, senderId: string): NewMessage {
  return {
    id: randomUUID(),
    room_id: roomId,
    sender_id: senderId,
    client_id: randomUUID(),
    body_format: 'fernet',
    body_ciphertext: 'gAAAA-not-read-here',
    body_key_id: 'k',
    created_at: Date.now(),
    edited_at: null,
  };
}

/** Seqs that are not exactly 1..n in order, and clientIds seen more than once; empty lists mean a clean room. */
export function sequenceProblems(messages: ReadonlyArray<{ seq: number; clientId?: string; client_id?: string; sender?: { id: string }; sender_id?: string }>): {
  outOfPlace: Array<{ index: number; seq: number }>;
  duplicateClientIds: string[];
} {
  const outOfPlace = messages.map((m, index) => ({ index, seq: Number(m.seq) })).filter(({ index, seq }) => seq !== index + 1);
  const seen = new Map<string, number>();
  for (const m of messages) {
    const key = `${m.sender?.id ?? m.sender_id}/${m.clientId ?? m.client_id}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return { outOfPlace, duplicateClientIds: [...seen].filter(([, count]) => count > 1).map(([key]) => key) };
}
