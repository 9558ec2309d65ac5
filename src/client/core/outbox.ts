/**
 * Sending: a message shows as pending at once and is confirmed by the socket's ack, or
 * sent over HTTP when the socket is down, no ack comes in time, or the link drops.
 * What could not reach the server waits for the link to come back and then goes out by
 * itself; what the server refused can be retried (same clientId, so the server keeps
 * one) or discarded. A message with files names them by id: they were uploaded before
 * it was written, so it takes this same path (offline included). Every unsent message is also kept in localStorage (outbox-persist.ts),
 * so a reload shows it again and sends it.
 */
import type { FileInfo } from '../../shared/file-shapes.js';
import type { ClientFrame, Message } from '../../shared/protocol.js';
import * as api from './api.js';
import { ApiError } from './api.js';
import { messageOf, setTimeline, timelineOf, type ChatContext } from './chat-state.js';
import { newClientId } from './client-id.js';
import { loadUnsent, saveUnsent, type UnsentMessage } from './outbox-persist.js';
import * as tl from './timeline.js';

const ACK_TIMEOUT_MS = 10_000;

export const OFFLINE_REASON = 'Not sent yet: offline. It will be sent when the connection is back.';

export class Outbox {
  private readonly ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Every message not yet acknowledged, by clientId, in the order written. */
  private readonly unsent = new Map<string, UnsentMessage>();
  /** Written while the server could not be reached: sent again once the link is back. */
  private readonly awaitingLink = new Set<string>();

  constructor(
    private readonly ctx: ChatContext,
    /** Asks for everything after a seq (a gap the ack revealed). */
    private readonly catchUp: (roomId: string, afterSeq: number) => void,
  ) {}

  stop(): void {
    for (const timer of this.ackTimers.values()) clearTimeout(timer);
  }

  /** Shows what an earlier page left unsent; it goes out once the link is up (`linkUp`). */
  restore(): void {
    for (const entry of loadUnsent(this.userId)) {
      if (this.unsent.has(entry.clientId)) continue;
      this.unsent.set(entry.clientId, entry);
      let timeline = tl.addPending(timelineOf(this.ctx.state, entry.roomId), entry.clientId, entry.body, entry.attachments);
      if (entry.refused !== undefined) timeline = tl.markFailed(timeline, entry.clientId, entry.refused);
      else this.awaitingLink.add(entry.clientId);
      setTimeline(this.ctx.state, entry.roomId, timeline);
    }
  }

  send(roomId: string, body: string, replyTo?: number, attachments: readonly FileInfo[] = []): void {
    const clientId = newClientId();
    this.remember({ roomId, clientId, body, ...(replyTo !== undefined ? { replyTo } : {}), ...(attachments.length > 0 ? { attachments } : {}) });
    setTimeline(this.ctx.state, roomId, tl.addPending(timelineOf(this.ctx.state, roomId), clientId, body, attachments));
    this.deliver(roomId, clientId, body);
  }

  retry(roomId: string, clientId: string): void {
    const pending = tl.findPending(timelineOf(this.ctx.state, roomId), clientId);
    if (!pending) return;
    this.awaitingLink.delete(clientId);
    this.remember({ ...this.unsent.get(clientId), roomId, clientId, body: pending.body, refused: undefined });
    setTimeline(this.ctx.state, roomId, tl.markSending(timelineOf(this.ctx.state, roomId), clientId));
    this.deliver(roomId, clientId, pending.body);
  }

  discard(roomId: string, clientId: string): void {
    this.forget(clientId);
    setTimeline(this.ctx.state, roomId, tl.discardPending(timelineOf(this.ctx.state, roomId), clientId));
  }

  acknowledge(clientId: string, message: Message): void {
    this.forget(clientId);
    const { timeline, gapAfter } = tl.acknowledge(timelineOf(this.ctx.state, message.roomId), clientId, message);
    setTimeline(this.ctx.state, message.roomId, timeline);
    this.ctx.afterMessages(message.roomId, [message]);
    if (gapAfter !== null) this.catchUp(message.roomId, gapAfter);
  }

  /** The server refused it (`reason` is shown beside Retry); with `awaitLink`, it could not be reached. */
  fail(clientId: string, reason: string, options: { awaitLink?: boolean } = {}): void {
    const entry = this.unsent.get(clientId);
    if (!entry) return;
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    if (options.awaitLink) this.awaitingLink.add(clientId);
    else this.remember({ ...entry, refused: reason });
    setTimeline(this.ctx.state, entry.roomId, tl.markFailed(timelineOf(this.ctx.state, entry.roomId), clientId, reason));
  }

  /** The link is back (socket, or HTTP polling): send what was written while it was down. */
  linkUp(): void {
    const waiting = [...this.awaitingLink];
    this.awaitingLink.clear();
    for (const clientId of waiting) {
      const entry = this.unsent.get(clientId);
      if (entry && tl.findPending(timelineOf(this.ctx.state, entry.roomId), clientId)) this.retry(entry.roomId, clientId);
    }
  }

  /** Messages sent on a link that just died will get no ack on it: send them over HTTP now. */
  resendUnacknowledged(): void {
    for (const [clientId, timer] of this.ackTimers) {
      clearTimeout(timer);
      this.ackTimers.delete(clientId);
      const roomId = this.unsent.get(clientId)?.roomId;
      const pending = roomId ? tl.findPending(timelineOf(this.ctx.state, roomId), clientId) : undefined;
      if (roomId && pending?.status === 'sending') void this.postOverHttp(roomId, clientId, pending.body);
    }
  }

  private get userId(): string {
    return this.ctx.state.getSnapshot().self.id;
  }

  private remember(entry: UnsentMessage): void {
    this.unsent.set(entry.clientId, entry);
    saveUnsent(this.userId, [...this.unsent.values()]);
  }

  private forget(clientId: string): void {
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    this.awaitingLink.delete(clientId);
    if (this.unsent.delete(clientId)) saveUnsent(this.userId, [...this.unsent.values()]);
  }

  private deliver(roomId: string, clientId: string, body: string): void {
    const entry = this.unsent.get(clientId);
    const attachments = fileIds(entry);
    const frame: ClientFrame = {
      type: 'send',
      roomId,
      body,
      clientId,
      ...(entry?.replyTo !== undefined ? { replyTo: entry.replyTo } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    };
    if (!this.ctx.socket.send(frame)) {
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
      const entry = this.unsent.get(clientId);
      const { message } = await api.postMessage(roomId, body, clientId, entry?.replyTo, fileIds(entry));
      this.acknowledge(clientId, message);
    } catch (error) {
      // Unreachable, or a server error: nothing was refused, so it goes again with the link.
      const unreachable = error instanceof ApiError && (error.status === 0 || error.status >= 500);
      this.fail(clientId, unreachable ? OFFLINE_REASON : messageOf(error), { awaitLink: unreachable });
    }
  }
}

function fileIds(entry: UnsentMessage | undefined): string[] {
  return entry?.attachments?.map((file) => file.id) ?? [];
}
