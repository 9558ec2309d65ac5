/**
 * The authorization matrix's vocabulary: the callers, what an answer must be, the rows'
 * shape, the world they are tried in, and a tiny client over `inject` that checks answers.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { Room, ServerFrame } from '../../../src/shared/protocol.js';
import { as, uniqueName, type Session, type TestApp } from '../../support/app.js';
import type { WsClient } from '../../support/ws-client.js';
import { refusalProblem } from '../security-harness.js';

export const CALLER_KINDS = [
  'logged-out',
  'ended-session',
  'non-member',
  'member-of-another-room',
  'removed-member',
  'expired-invite-holder',
  'kicked-member',
  'banned-member',
] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];
export const SIGNED_IN_KINDS = CALLER_KINDS.filter((kind) => kind !== 'logged-out' && kind !== 'ended-session');

export const CALLER_LABELS: Record<CallerKind, string> = {
  'logged-out': 'a logged-out caller (no cookie)',
  'ended-session': 'a caller whose session was logged out (stale cookie)',
  'non-member': 'a signed-in non-member',
  'member-of-another-room': 'a member of another room (shared with the owner) only',
  'removed-member': 'a removed member (joined R and P, then left)',
  'expired-invite-holder': 'a user holding an expired invite to R',
  'kicked-member': 'a member kicked from R (by the owner) and P (by a moderator)',
  'banned-member': 'a member banned from R (by a moderator) and P (by the owner)',
};

export interface Caller {
  kind: CallerKind;
  /** The cookie and CSRF token sent; undefined for no cookie at all. */
  session?: Session;
  signedIn: boolean;
}


export interface Expectation {
  status: number;
  /** The error code, for refusals. */
  code?: string;
}
export const ok = (status: number): Expectation => ({ status });
export const refused = (status: number, code: string): Expectation => ({ status, code });
export const AUTH_REQUIRED = refused(401, 'auth_required');
export const HIDDEN = refused(404, 'not_found');

export interface Probe {
  method: string;
  url: string;
  /** Sent as JSON, unless `headers` give another Content-Type (then a string or Buffer, e.g. a multipart body). */
  payload?: unknown;
  headers?: Record<string, string>;
}

/** A row about one room (R or P in its URL): the answer depends on membership. */
export interface RoomRow {
  key: string;
  /** `self`: the session sending it (moderation rows aimed at the caller themselves). */
  probe(room: Room, world: World, self: Session | undefined): Probe;
  /** What a signed-in caller who is not in public P gets; 'allowed' rows change state and run last. */
  onPublic: Expectation | 'allowed-last';
  /** What the member banned from P gets instead, where it differs (the ways back in). */
  onPublicBanned?: Expectation;
  /**
   * Positive controls on R and P: the plain member M, the moderator D and the owner O
   * ('skip' where it would change the membership of the world).
   */
  member: Expectation | 'skip';
  moderator: Expectation | 'skip';
  owner: Expectation | 'skip';
}

/** A row not about R or P: the same answer for every signed-in caller. */
export interface UserRow {
  key: string;
  /** public: no sign-in needed; user: 401 when logged out. */
  access: 'public' | 'user';
  probe(caller: Caller, world: World): Probe | Promise<Probe>;
  /** The answer to a signed-in caller ('skip': not sent with a live cookie, see the note). */
  signedIn: Expectation | 'skip';
  /** The answer to a logged-out caller (defaults to 401 for `user` rows). */
  loggedOut?: Expectation;
  /** Sent with a second session of the caller, so their main session survives (logout). */
  spareSession?: boolean;
  /** Extra checks on a 2xx answer to a signed-in caller; returns problems. */
  inspect?(response: LightMyRequestResponse, caller: Caller, world: World): string[];
  /** A request that must get byte-for-byte the same refusal (no existence oracle). */
  sameAs?(world: World): Probe;
}

export interface World {
  O: Session;
  M: Session;
  /** A plain member of R and P, the bystander the moderation rows aim at. */
  T: Session;
  /** Moderators of R and P (appointed by O). */
  D: Session;
  D2: Session;
  R: Room;
  P: Room;
  Q: Room;
  general: Room;
  /** Marks every message body in R (and its name and description); P's bodies carry pMark. */
  rMark: string;
  pMark: string;
  callers: Record<CallerKind, Caller>;
  /** A member of R whose socket stays open while their session is logged out. */
  ender: Session;
  loginTarget: Session;
  ownerSessionIds: string[];
  expiredCode: string;
  neverIssuedCode: string;
  unknownRoomId: string;
  /** Every socket of a caller, with the index from which nothing of R (or P) may appear. */
  listeners: Array<{ label: string; client: WsClient; fromR: number; fromP: number }>;
  ownerSocket: WsClient;
  memberSocket: WsClient;
  /** Who is in R and P with which role, and who is banned, once the world is set up. */
  membershipAtStart: string[];
  /** Per room (R, P): the seq of a message by the owner O and of one by the bystander T (edits, deletes, reactions). */
  notes: Record<string, { byOwner: number; byBystander: number }>;
  /** Files uploaded by the owner O: attached to O's note in R and in P, and one in R no message names yet (file-rows.ts). */
  files: { attachedInR: string; attachedInP: string; pendingInR: string };
  /**
   * Per room (R, P), per user: a stored upload of theirs, not yet sent, made while they were
   * members (O, D, M, T, and the removed, kicked and banned members): what `attachments` names.
   */
  uploads: Record<string, Record<string, string>>;
}

export type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
export const isMessageIn = (roomId: string, id?: string) => (f: ServerFrame) =>
  f.type === 'message' && f.message.roomId === roomId && (id === undefined || f.message.id === id);
export const isMember = (roomId: string, userId: string, change: string) => (f: ServerFrame) =>
  f.type === 'member' && f.roomId === roomId && f.userId === userId && f.change === change;

/** Problems when a body names R (or P, for callers not in it) in any way. */
export function leakProblems(text: string, world: World, alsoPublic: boolean): string[] {
  const secrets = [world.R.id, world.rMark, ...(alsoPublic ? [world.P.id, world.pMark] : [])];
  return secrets.filter((secret) => text.includes(secret)).map((secret) => `the answer mentions ${secret}`);
}
/** Checks an answer: status, and for refusals the exact error shape and code. */
export function answerProblems(response: LightMyRequestResponse, expected: Expectation, method: string): string[] {
  if (response.statusCode !== expected.status) return [`answered ${response.statusCode} ${response.body.slice(0, 200)}, expected ${expected.status}`];
  if (expected.code === undefined) return [];
  const shape = refusalProblem(response, method);
  if (shape) return [shape];
  if (method === 'HEAD') return [];
  const code = (response.json() as { error: { code: string } }).error.code;
  return code === expected.code ? [] : [`error code ${code}, expected ${expected.code}`];
}

/** Requests against the test app: `must` throws unless the status is the one given. */
export function createKit(t: TestApp) {
  async function call(session: Session | undefined, probe: Probe): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: probe.method as 'GET',
      url: probe.url,
      headers: { ...(session ? as(session) : {}), ...probe.headers },
      ...(probe.payload === undefined ? {} : { payload: probe.payload as object }),
    });
  }
  async function must(session: Session, probe: Probe, status: number): Promise<LightMyRequestResponse> {
    const response = await call(session, probe);
    if (response.statusCode !== status) throw new Error(`${probe.method} ${probe.url}: ${response.statusCode} ${response.body}`);
    return response;
  }
  const post = (session: Session, url: string, payload?: unknown, status = 200) => must(session, { method: 'POST', url, payload }, status);
  return {
    call,
    must,
    post,
    async createRoom(owner: Session, fields: { name?: string; description?: string; isPrivate?: boolean }): Promise<Room> {
      return (await post(owner, '/api/v1/rooms', { name: uniqueName('Room'), ...fields }, 201)).json().room as Room;
    },
    async inviteCode(owner: Session, roomId: string, options: object = {}): Promise<string> {
      return (await post(owner, `/api/v1/rooms/${roomId}/invites`, options, 201)).json().code as string;
    },
    async sendHttp(session: Session, room: Room, body: string): Promise<string> {
      return (await post(session, `/api/v1/rooms/${room.id}/messages`, { body, clientId: randomUUID() }, 201)).json().message.id as string;
    },
  };
}
export type Kit = ReturnType<typeof createKit>;
