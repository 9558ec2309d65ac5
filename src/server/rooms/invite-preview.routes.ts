/**
 * The invite page's question, "who invited me, and to what?": answered signed out too, so a
 * visitor sees what they are invited to before signing up. Rate-limited per client address
 * (shared between instances), since an answer would otherwise confirm guessed codes quickly.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, InvitePreviewSchema } from '../../shared/protocol.js';
import { addressBlock } from '../http/client-address.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { RoomManagementService } from './room-management.service.js';

export const invitePreviewRoutes: FastifyPluginAsyncTypebox<{
  management: RoomManagementService;
  limiter: RateLimiter;
  perMinute: number;
}> = async (app, { management, limiter, perMinute }) => {
  app.get(
    '/invites/:code',
    {
      schema: {
        tags: ['rooms'],
        summary: 'What an invite link is for: the room and who invited (no session needed)',
        description:
          'A bad code: 404 invite_not_found; a spent one: 410 invite_expired, invite_used_up or invite_revoked, naming no room. ' +
          'RATE_LIMIT_INVITE_PREVIEWS_PER_MINUTE per client address (429 with Retry-After).',
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: InvitePreviewSchema, 400: ErrorSchema, 404: ErrorSchema, 410: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request) => {
      await limiter.consume(`invite-preview-ip:${addressBlock(request.ip)}`, { limit: perMinute, windowMs: 60_000 });
      return management.preview(request.params.code);
    },
  );
};
