/**
 * The requests of edits, deletes and reactions (message-changes.routes.ts), and a room with
 * an owner, a moderator and two members, for the suites that use them.
 */
import { expect } from 'vitest';
import type { Message, MessageEdit, MessagePage } from '../../src/shared/protocol.js';
import { as, signUp, type Session } from './app.js';
import { createInvite, createRoom, sendMessage } from './factories.js';
import type { HttpTarget } from './http.js';
import { httpClient } from './http.js';

const path = (roomId: string, seq: number) => `/api/v1/rooms/${roomId}/messages/${seq}`;

export function messageChanges(target: HttpTarget) {
  const http = httpClient(target);
  const call = (session: Session | null, method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    http.request(method, url, { session, ...(body === undefined ? {} : { body }) });
  return {
    call,
    edit: (session: Session | null, roomId: string, seq: number, body: unknown) => call(session, 'PATCH', path(roomId, seq), { body }),
    remove: (session: Session | null, roomId: string, seq: number) => call(session, 'DELETE', path(roomId, seq)),
    edits: (session: Session | null, roomId: string, seq: number) => call(session, 'GET', `${path(roomId, seq)}/edits`),
    react: (session: Session | null, roomId: string, seq: number, emoji: string, on = true) =>
      call(session, on ? 'PUT' : 'DELETE', `${path(roomId, seq)}/reactions/${encodeURIComponent(emoji)}`),
    /** Edits and expects 200; the new state. */
    async edited(session: Session, roomId: string, seq: number, body: string): Promise<Message> {
      const answer = await call(session, 'PATCH', path(roomId, seq), { body });
      expect(answer.status, answer.text).toBe(200);
      return answer.body.message as Message;
    },
    async history(session: Session, roomId: string, seq: number): Promise<MessageEdit[]> {
      const answer = await call(session, 'GET', `${path(roomId, seq)}/edits`);
      expect(answer.status, answer.text).toBe(200);
      return answer.body.edits as MessageEdit[];
    },
    async page(session: Session, roomId: string, query = ''): Promise<MessagePage> {
      const answer = await call(session, 'GET', `/api/v1/rooms/${roomId}/messages${query}`);
      expect(answer.status, answer.text).toBe(200);
      return answer.body as MessagePage;
    },
  };
}

/** A room (private unless asked) with its owner, a moderator and two plain members, and a first message by `alice`. */
export async function roomOfFour(target: HttpTarget, fields: { isPrivate?: boolean } = {}) {
  const http = httpClient(target);
  const owner = await signUp(target);
  const moderator = await signUp(target);
  const alice = await signUp(target);
  const bob = await signUp(target);
  const room = await createRoom(target, owner, { isPrivate: fields.isPrivate ?? true });
  const invite = await createInvite(target, owner, room.id);
  for (const session of [moderator, alice, bob]) {
    const accepted = await http.request('POST', `/api/v1/invites/${invite.code}/accept`, { session });
    expect(accepted.status, accepted.text).toBe(200);
  }
  const promoted = await http.request('PUT', `/api/v1/rooms/${room.id}/members/${moderator.user.id}/role`, { session: owner, body: { role: 'moderator' } });
  expect(promoted.status, promoted.text).toBe(204);
  const message = await sendMessage(target, alice, room.id, 'the first version');
  return { owner, moderator, alice, bob, room, message };
}

export { as };
