/**
 * Who is calling: resolves the session cookie to a user, and enforces CSRF on
 * cookie-authenticated state changes (a cross-site form can send the cookie but
 * cannot read the token).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../http/errors.js';
import type { Caller, SessionsService } from './sessions.service.js';

/**
 * The session cookie's name. Under FORCE_HTTPS it carries the `__Host-` prefix: browsers
 * then accept it only Secure, for Path=/ and without Domain, so neither a sibling
 * subdomain nor a plain-HTTP answer can plant or overwrite it.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-securechat_session' : 'securechat_session';
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Caller | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createAuthGuard(sessions: SessionsService, cookieName: string) {
  /** The session behind the request's cookie, or null (bad signature, unknown, expired). */
  async function readSession(request: FastifyRequest): Promise<Caller | null> {
    const raw = request.cookies[cookieName];
    if (!raw) return null;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return null;
    return sessions.resolve(unsigned.value);
  }

  return {
    /** The one name every reader and writer of the session cookie uses. */
    cookieName,
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
