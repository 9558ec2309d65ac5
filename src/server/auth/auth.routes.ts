/** HTTP surface of accounts and sessions (the Auth part of api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ActiveSessionSchema,
  ChangePasswordBodySchema,
  ErrorSchema,
  LoginBodySchema,
  MeSchema,
  RegisterBodySchema,
  SessionInfoSchema,
  UserSchema,
} from '../../shared/protocol.js';
import { addressBlock } from '../http/client-address.js';
import { errors } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { RateLimitsConfig } from '../config.js';
import type { AccountsService } from './accounts.service.js';
import { callerOf, type AuthGuard } from './auth.guard.js';
import type { SessionsService } from './sessions.service.js';
import type { SignIn } from './sign-in.js';

export interface AuthRoutesOptions {
  accounts: AccountsService;
  sessions: SessionsService;
  signIn: SignIn;
  guard: AuthGuard;
  secureCookies: boolean;
  rememberMaxAgeSeconds: number;
  limiter: RateLimiter;
  limits: RateLimitsConfig;
  /** Told to the client with the session, so its hints match what the server accepts. */
  messageMaxLength: number;
}

const MINUTE_MS = 60_000;

// 503: the password hashing queue is full (crypto/hashing-queue.ts).
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 409: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema };

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, options) => {
  const { accounts, sessions, signIn, guard, limiter, limits } = options;
  const clientLimits = { messageMaxLength: options.messageMaxLength };
  const requireUser = guard.requireUser;
  const cookieName = guard.cookieName;
  // Path=/, Secure and no Domain: what a `__Host-` cookie needs (auth.guard.ts).
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: options.secureCookies, signed: true };

  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account (and join General)',
        body: RegisterBodySchema,
        response: { 201: Type.Object({ user: UserSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await limiter.consume(`register-ip:${addressBlock(request.ip)}`, { limit: limits.registerPerHour, windowMs: 60 * MINUTE_MS });
      const user = await accounts.register(request.body);
      return reply.status(201).send({ user });
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets the session cookie',
        body: LoginBodySchema,
        response: { 200: SessionInfoSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const origin = { ip: request.ip, userAgent: request.headers['user-agent'], previous: () => guard.readSession(request) };
      const { user, token, csrfToken } = await signIn.signIn(request.body, origin);
      reply.setCookie(cookieName, token, { ...cookieOptions, ...(request.body.rememberMe ? { maxAge: options.rememberMaxAgeSeconds } : {}) });
      return { user, csrfToken, limits: clientLimits };
    },
  );

  app.post(
    '/auth/logout',
    { onRequest: requireUser, schema: { tags: ['auth'], summary: 'End this session', response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await signIn.signOut(callerOf(request));
      reply.clearCookie(cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure: options.secureCookies });
      // The browser drops this site's cookies and storage too (the client keeps its theme).
      // Not "cache": API answers are never stored (no-store), and clearing it stalls some browsers.
      reply.header('clear-site-data', '"cookies", "storage"');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/session',
    { schema: { tags: ['auth'], summary: 'The current session', response: { 200: SessionInfoSchema, 401: ErrorSchema } } },
    async (request) => {
      const auth = await guard.readSession(request);
      if (!auth) throw errors.authRequired();
      return { user: auth.user, csrfToken: sessions.csrfTokenFor(auth.sessionId), limits: clientLimits };
    },
  );

  app.get(
    '/auth/sessions',
    {
      onRequest: requireUser,
      schema: { tags: ['auth'], summary: "The caller's active sessions", response: { 200: Type.Array(ActiveSessionSchema), 401: ErrorSchema } },
    },
    async (request) => {
      const { user, sessionId } = callerOf(request);
      return sessions.list(user.id, sessionId);
    },
  );

  app.delete(
    '/auth/sessions/:sessionId',
    {
      onRequest: requireUser,
      schema: {
        tags: ['auth'],
        summary: 'End one of your sessions',
        params: Type.Object({ sessionId: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { user } = callerOf(request);
      if (!(await sessions.endOwn(user.id, request.params.sessionId))) throw errors.notFound('That session');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/auth/password',
    {
      onRequest: requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Change your password; your other sessions end',
        body: ChangePasswordBodySchema,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await signIn.changePassword(callerOf(request), request.body.currentPassword, request.body.newPassword, request.ip);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    { onRequest: requireUser, schema: { tags: ['auth'], summary: 'Your own profile, with email', response: { 200: MeSchema, 401: ErrorSchema } } },
    async (request) => accounts.me(callerOf(request).user.id),
  );
};
