/** HTTP surface of message search (the Search part of api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema } from '../../shared/protocol.js';
import { SEARCH_LIMITS, SearchPageSchema } from '../../shared/search-shapes.js';
import { SEARCH_QUERY_MAX } from '../../shared/search-words.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { SearchService } from './search.service.js';

export const searchRoutes: FastifyPluginAsyncTypebox<{ search: SearchService; guard: AuthGuard }> = async (app, { search, guard }) => {
  app.addHook('onRequest', guard.requireUser);

  app.get(
    '/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Messages in the rooms and DMs the caller belongs to, newest first',
        description: [
          'Every word of `q` must appear in the message (case- and accent-insensitive), the last one as a prefix.',
          '`q` may also hold filters: `from:username`, `has:file`, `after:YYYY-MM-DD`, `before:YYYY-MM-DD` (UTC days, both exclusive).',
          'An edited message is found by its current text, a deleted one never.',
          'Only rooms the caller is a member of are searched; a `roomId` the caller is not in answers 404.',
          'While this instance builds its first index (at start) it answers 503 `search_index_building` with Retry-After; with SEARCH_INDEX=off, 503 `search_off`.',
          'Rate-limited per caller (RATE_LIMIT_SEARCH_PER_MINUTE, 429 with Retry-After).',
        ].join(' '),
        querystring: Type.Object({
          q: Type.String({ maxLength: SEARCH_QUERY_MAX, description: 'Words and filters, separated by spaces.' }),
          roomId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this room (the caller must be a member).' })),
          before: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SEARCH_LIMITS.pageMax, description: `Default ${SEARCH_LIMITS.pageDefault}.` })),
        }),
        response: { 200: SearchPageSchema, 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => search.search(callerOf(request).user, request.query),
  );
};
