/** HTTP surface of edits, deletes and reactions (api.md "Messages: replies, mentions, edits, deletes, reactions"). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, LIMITS, MessageEditSchema, MessageSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { MessageChangesService } from './message-changes.service.js';

const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const MessageParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }), seq: Seq });
const ReactionParams = Type.Object({
  roomId: Type.String({ minLength: 1, maxLength: 64 }),
  seq: Seq,
  emoji: Type.String({ minLength: 1, maxLength: 64, description: `One emoji (percent-encoded), at most ${LIMITS.emojiMax} UTF-16 units.` }),
});
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema };
const NoContent = Type.Null({ description: 'Done.' });
const LIVE =
  'Every member\'s sockets get `message_updated {message}` (the full new state; keep the one with the highest `changeSeq`). ' +
  'A client that was away catches up with `GET …/messages?changedAfter=<lastChange from its hello>`.';

export const messageChangesRoutes: FastifyPluginAsyncTypebox<{ changes: MessageChangesService; guard: AuthGuard }> = async (app, { changes, guard }) => {
  app.addHook('onRequest', guard.requireUser);

  app.patch(
    '/rooms/:roomId/messages/:seq',
    {
      schema: {
        tags: ['messages'],
        summary: 'Edit a message (its author only)',
        description: `The body is trimmed and checked like a new message's; the previous body is kept, encrypted, as an earlier version (…/edits). Editing shares a per-user budget with deletes and reactions. ${LIVE}`,
        params: MessageParams,
        body: Type.Object({ body: Type.String({ maxLength: LIMITS.messageMaxCeiling }) }),
        response: { 200: Type.Object({ message: MessageSchema }), ...errorResponses },
      },
    },
    async (request) => ({
      message: await changes.edit(callerOf(request).user.id, request.params.roomId, request.params.seq, request.body.body),
    }),
  );

  app.delete(
    '/rooms/:roomId/messages/:seq',
    {
      schema: {
        tags: ['messages'],
        summary: 'Delete a message (its author, or the room’s moderators and owner)',
        description: `Leaves a tombstone at its seq (\`deletedAt\` set, \`body\` ""): the body's ciphertext is overwritten and every earlier version and reaction deleted. Deleting it again answers 404. ${LIVE}`,
        params: MessageParams,
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await changes.remove(callerOf(request).user.id, request.params.roomId, request.params.seq);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/rooms/:roomId/messages/:seq/edits',
    {
      schema: {
        tags: ['messages'],
        summary: 'Earlier versions of an edited message, newest first (members only; 404 once deleted)',
        params: MessageParams,
        response: { 200: Type.Object({ edits: Type.Array(MessageEditSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ edits: await changes.edits(callerOf(request).user.id, request.params.roomId, request.params.seq) }),
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({
      method,
      url: '/rooms/:roomId/messages/:seq/reactions/:emoji',
      schema: {
        tags: ['messages'],
        summary: method === 'PUT' ? 'React with an emoji (once per user and emoji; again changes nothing)' : 'Take back a reaction (none: nothing changes)',
        description: `Members only. At most ${LIMITS.reactionsPerMessageMax} different emoji per message (409 too_many_reactions). A deleted message: 404. ${LIVE}`,
        params: ReactionParams,
        response: { 204: NoContent, 409: ErrorSchema, ...errorResponses },
      },
      handler: async (request, reply) => {
        const { roomId, seq, emoji } = request.params;
        await changes.react(callerOf(request).user.id, roomId, seq, emoji, method === 'PUT');
        return reply.status(204).send(null);
      },
    });
  }
};
