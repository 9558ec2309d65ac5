/**
 * The WebSocket link to /api/v1/ws: reconnects with exponential backoff and jitter,
 * detects dead connections with ping/pong, and reports whether it is usable.
 * It knows nothing about rooms; frames go to `onFrame` as they come.
 */
import type { ClientFrame, ServerFrame } from '../../shared/protocol.js';
import { sessionEnded } from './api.js';

/**
 * `connected`: the server said hello. `reconnecting`: a live link was lost and the
 * first retry is under way. `offline`: an attempt failed, so the app should poll.
 */
export type LinkState = 'connected' | 'reconnecting' | 'offline';

export interface ChatSocketOptions {
  url: string;
  onFrame: (frame: ServerFrame) => void;
  onStateChange: (state: LinkState) => void;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const PING_EVERY_MS = 25_000;
/** How long a ping may go unanswered, and a new connection may wait for hello. */
const LIVENESS_TIMEOUT_MS = 10_000;

/**
 * Delay before reconnect attempt number `failures` (0-based): doubling from 1 s up to
 * 30 s, with the upper half randomised so clients dropped together don't return together.
 */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** The WebSocket URL of the API on the page's own origin. */
export function socketUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
}

export class ChatSocket {
  private ws: WebSocket | null = null;
  private state: LinkState = 'reconnecting';
  private failures = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private livenessTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ChatSocketOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.retryNow);
    window.addEventListener('offline', this.dropNow);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.retryNow);
    window.removeEventListener('offline', this.dropNow);
    clearTimeout(this.retryTimer);
    this.drop(this.ws);
  }

  /** Sends a frame if the link is up; false means the caller must use HTTP instead. */
  send(frame: ClientFrame): boolean {
    if (this.state !== 'connected' || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private connect(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url);
    } catch {
      this.setState('offline');
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => this.receive(event);
    ws.onclose = (event) => {
      // 4401: the session ended (another device, a password change): the app signs out with a notice.
      if (event?.code === 4401) sessionEnded();
      this.handleLoss(ws);
    };
    this.expectLifeWithin(ws);
  }

  private receive(event: MessageEvent): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'pong') {
      clearTimeout(this.livenessTimer);
      this.livenessTimer = undefined;
      return;
    }
    if (frame.type === 'hello') {
      clearTimeout(this.livenessTimer);
      this.livenessTimer = undefined;
      this.failures = 0;
      this.startPinging();
      this.setState('connected');
    }
    this.options.onFrame(frame);
  }

  private startPinging(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'ping' } satisfies ClientFrame));
      if (this.livenessTimer === undefined) this.expectLifeWithin(ws);
    }, PING_EVERY_MS);
  }

  /** A socket that stays silent this long is dead even if the browser hasn't noticed. */
  private expectLifeWithin(ws: WebSocket): void {
    clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => this.handleLoss(ws), LIVENESS_TIMEOUT_MS);
  }

  private handleLoss(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.drop(ws);
    if (this.stopped) return;
    this.setState(this.state === 'connected' ? 'reconnecting' : 'offline');
    this.scheduleRetry();
  }

  private drop(ws: WebSocket | null): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.livenessTimer);
    this.livenessTimer = undefined;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = null;
    ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close();
  }

  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), reconnectDelay(this.failures));
    this.failures += 1;
  }

  /** The browser says the network is gone: the socket is as good as dead, so poll/retry now. */
  private readonly dropNow = (): void => {
    if (this.ws) this.handleLoss(this.ws);
  };

  /** The browser says the network is back: don't sit out the rest of the backoff. */
  private readonly retryNow = (): void => {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  };

  private setState(state: LinkState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onStateChange(state);
  }
}
