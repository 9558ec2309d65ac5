/** Client frames: rate-limited, parsed, validated and dispatched one at a time per socket. */
import type { FastifyBaseLogger } from 'fastify';
import { Compile } from 'typebox/compile';
import {
  PingFrameSchema,
  SendFrameSchema,
  TypingFrameSchema,
  type ErrorBody,
  type ServerFrame,
} from '../../shared/protocol.js';
import { toAppError } from '../http/errors.js';
import { findNul } from '../http/nul.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { Connection } from './connections.js';
import type { TypingThrottle } from './typing-throttle.js';

const frameValidators = {
  send: Compile(SendFrameSchema),
  typing: Compile(TypingFrameSchema),
  ping: Compile(PingFrameSchema),
};

export interface FrameHandlerOptions {
  messages: Pick<MessagesService, 'send'>;
  /** Typing is asked of the same rule as sending (rooms.policy.ts), not of the socket's subscriptions. */
  rooms: Pick<RoomsService, 'authorize'>;
  bus: Pick<Bus, 'publish'>;
  limiter: RateLimiter;
  framesPerMinute: number;
  /** Typing is throttled per user and room, across the user's sockets. */
  typing: TypingThrottle;
  log: FastifyBaseLogger;
  send: (connection: Connection, frame: ServerFrame) => void;
}

export function createFrameHandler({ messages, rooms, bus, limiter, framesPerMinute, typing, log, send }: FrameHandlerOptions) {
  function sendError(connection: Connection, error: ErrorBody['error'], clientId?: string): void {
    send(connection, { type: 'error', ...(clientId ? { clientId } : {}), error });
  }

  return async function handleFrame(connection: Connection, raw: string): Promise<void> {
    try {
      await limiter.consume(`frames:${connection.id}`, { limit: framesPerMinute, windowMs: 60_000 });
    } catch (error) {
      return sendError(connection, toAppError(error)!.toBody().error);
    }
    let frame: unknown;
    try {
      frame = JSON.parse(raw);
    } catch {
      return sendError(connection, { code: 'invalid_frame', message: 'Frames must be JSON objects.' });
    }
    const nulAt = findNul(frame);
    if (nulAt !== undefined) {
      const id = (frame as { clientId?: unknown })?.clientId;
      const error = { code: 'invalid_frame' as const, message: `${nulAt} may not contain the NUL character (U+0000).`, field: nulAt };
      return sendError(connection, error, typeof id === 'string' && !id.includes('\u0000') ? id : undefined);
    }
    const type = (frame as { type?: unknown })?.type;
    const clientId = typeof (frame as { clientId?: unknown })?.clientId === 'string' ? (frame as { clientId: string }).clientId : undefined;
    if (type !== 'send' && type !== 'typing' && type !== 'ping') {
      return sendError(connection, { code: 'invalid_frame', message: 'Unknown frame type; expected send, typing or ping.' }, clientId);
    }
    if (!frameValidators[type].Check(frame)) {
      const first = frameValidators[type].Errors(frame)[0];
      const path = first?.instancePath.replace(/^\//, '') || 'frame';
      return sendError(connection, { code: 'invalid_frame', message: `The ${type} frame is malformed at ${path}: ${first?.message ?? 'invalid'}.` }, clientId);
    }
    if (type === 'ping') return send(connection, { type: 'pong' });
    if (type === 'typing') {
      const { roomId } = frame as { roomId: string };
      const userId = connection.user.id;
      // Claimed before the check, so the user's other sockets asking meanwhile are throttled too.
      if (!typing.claim(userId, roomId)) return;
      // Whoever may not send there is not typing there either; nothing is answered (typing is best effort),
      // and nothing is kept for a room the caller may not use (the frame budget bounds the checks).
      const allowed = await rooms.authorize(userId, roomId, 'send').then(() => true, () => false);
      if (!allowed || connection.ended) return typing.release(userId, roomId);
      await bus.publish({ kind: 'typing', roomId, userId });
      return;
    }
    const { roomId, body, clientId: id, replyTo, attachments } = frame as { roomId: string; body: string; clientId: string; replyTo?: number; attachments?: string[] };
    // The session may have ended while this frame waited for its budget: nothing is stored.
    if (connection.ended) return;
    try {
      const { message } = await messages.send(connection.user, roomId, body, id, { replyTo, attachments });
      send(connection, { type: 'ack', clientId: id, message });
    } catch (error) {
      const appError = toAppError(error);
      if (!appError) log.error({ err: error }, 'send frame failed');
      sendError(
        connection,
        appError?.toBody().error ?? { code: 'internal_error', message: 'The message could not be sent; try again.' },
        id,
      );
    }
  };
}
