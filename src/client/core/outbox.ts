/**
 * Sending: a message shows as pending at once and is confirmed by the socket's ack, or
 * sent over HTTP when the socket is down, no ack comes in time, or the link drops.
 * Failed messages can be retried (same clientId, so the server keeps one) or discarded.
 */
import type { Message } from '../../shared/protocol.js';
import * as api from './api.js';
import { messageOf, setTimeline, timelineOf, type ChatContext } from './chat-state.js';
import { newClientId } from './client-id.js';
import * as tl from './timeline.js';

const ACK_TIMEOUT_MS = 10_000;

export class Outbox {
  private readonly ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pendingRooms = new Map<string, string>();
  /** The seq each pending reply answers, so a retry or an HTTP resend keeps it. */
  private readonly replies = new Map<string, number>();

  constructor(
    private readonly ctx: ChatContext,
    /** Asks for everything after a seq (a gap the ack revealed). */
    private readonly catchUp: (roomId: string, afterSeq: number) => void,
  ) {}

  stop(): void {
    for (const timer of this.ackTimers.values()) clearTimeout(timer);
  }

  send(roomId: string, body: string, replyTo?: number): void {
    const clientId = newClientId();
    this.pendingRooms.set(clientId, roomId);
    if (replyTo !== undefined) this.replies.set(clientId, replyTo);
    setTimeline(this.ctx.state, roomId, tl.addPending(timelineOf(this.ctx.state, roomId), clientId, body));
    this.deliver(roomId, clientId, body);
  }

  retry(roomId: string, clientId: string): void {
    const pending = tl.findPending(timelineOf(this.ctx.state, roomId), clientId);
    if (!pending) return;
    setTimeline(this.ctx.state, roomId, tl.markSending(timelineOf(this.ctx.state, roomId), clientId));
    this.deliver(roomId, clientId, pending.body);
  }

  discard(roomId: string, clientId: string): void {
    this.pendingRooms.delete(clientId);
    this.replies.delete(clientId);
    setTimeline(this.ctx.state, roomId, tl.discardPending(timelineOf(this.ctx.state, roomId), clientId));
  }

  acknowledge(clientId: string, message: Message): void {
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    this.pendingRooms.delete(clientId);
    this.replies.delete(clientId);
    const { timeline, gapAfter } = tl.acknowledge(timelineOf(this.ctx.state, message.roomId), clientId, message);
    setTimeline(this.ctx.state, message.roomId, timeline);
    this.ctx.afterMessages(message.roomId, [message]);
    if (gapAfter !== null) this.catchUp(message.roomId, gapAfter);
  }

  fail(clientId: string, reason: string): void {
    const roomId = this.pendingRooms.get(clientId);
    if (!roomId) return;
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    setTimeline(this.ctx.state, roomId, tl.markFailed(timelineOf(this.ctx.state, roomId), clientId, reason));
  }

  /** Messages sent on a link that just died will get no ack on it: send them over HTTP now. */
  resendUnacknowledged(): void {
    for (const [clientId, timer] of this.ackTimers) {
      clearTimeout(timer);
      this.ackTimers.delete(clientId);
      const roomId = this.pendingRooms.get(clientId);
      const pending = roomId ? tl.findPending(timelineOf(this.ctx.state, roomId), clientId) : undefined;
      if (roomId && pending?.status === 'sending') void this.postOverHttp(roomId, clientId, pending.body);
    }
  }

  private deliver(roomId: string, clientId: string, body: string): void {
    const replyTo = this.replies.get(clientId);
    if (!this.ctx.socket.send({ type: 'send', roomId, body, clientId, ...(replyTo !== undefined ? { replyTo } : {}) })) {
      void this.postOverHttp(roomId, clientId, body);
      return;
    }
    // The server is idempotent on clientId, so resending over HTTP is safe even if the
    // socket did deliver it.
    this.ackTimers.set(
      clientId,
      setTimeout(() => {
        this.ackTimers.delete(clientId);
        if (tl.findPending(timelineOf(this.ctx.state, roomId), clientId)?.status === 'sending') {
          void this.postOverHttp(roomId, clientId, body);
        }
      }, ACK_TIMEOUT_MS),
    );
  }

  private async postOverHttp(roomId: string, clientId: string, body: string): Promise<void> {
    try {
      const { message } = await api.postMessage(roomId, body, clientId, this.replies.get(clientId));
      this.acknowledge(clientId, message);
    } catch (error) {
      this.fail(clientId, messageOf(error));
    }
  }
}
