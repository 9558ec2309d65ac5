/**
 * Who is calling: resolves the session cookie to a user, and enforces CSRF on
 * cookie-authenticated state changes (a cross-site form can send the cookie but
 * cannot read the token).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../http/errors.js';
import type { Caller, SessionsService } from './sessions.service.js';

export const SESSION_COOKIE = 'securechat_session';

declare module 'fastify' {
  interface FastifyRequest {
    auth: Caller | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createAuthGuard(sessions: SessionsService) {
  /** The session behind the request's cookie, or null (bad signature, unknown, expired). */
  async function readSession(request: FastifyRequest): Promise<Caller | null> {
    const raw = request.cookies[SESSION_COOKIE];
    if (!raw) return null;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return null;
    return sessions.resolve(unsigned.value);
  }

  return {
    readSession,

    /** onRequest hook (before body validation, so a stranger gets 401, not 400): requires a signed-in caller. */
    async requireUser(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      const auth = await readSession(request);
      if (!auth) throw errors.authRequired();
      if (!SAFE_METHODS.has(request.method)) {
        const header = request.headers['x-csrf-token'];
        if (!sessions.verifyCsrf(auth.sessionId, typeof header === 'string' ? header : undefined)) throw errors.csrf();
      }
      request.auth = auth;
    },
  };
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;

/** The signed-in caller of a route guarded by requireUser. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.auth) throw errors.authRequired();
  return request.auth;
}
