/** HTTP surface of people search (the Direct messages part of api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, LIMITS, UserSearchSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { UsersService } from './users.service.js';

export const usersRoutes: FastifyPluginAsyncTypebox<{ users: UsersService; guard: AuthGuard }> = async (app, { users, guard }) => {
  app.addHook('onRequest', guard.requireUser);

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'People whose username starts with q (case-insensitive), for starting DMs and @mentions',
        description: `Signed-in callers only; in username order; rate-limited per caller (RATE_LIMIT_USER_SEARCH_PER_MINUTE, 429 with Retry-After).`,
        querystring: Type.Object({
          q: Type.String({ maxLength: 64, description: 'The start of a username; at least one character after trimming.' }),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.userSearchMax, description: `Default ${LIMITS.userSearchDefault}.` })),
        }),
        response: { 200: UserSearchSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request) => ({ users: await users.search(callerOf(request).user.id, request.query.q, request.query.limit) }),
  );
};
