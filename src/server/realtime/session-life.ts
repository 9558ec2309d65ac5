/**
 * A socket lives no longer than its session. Each connection knows when its session ends
 * unless it is used again (`endsAt`: absolute expiry or idle deadline); once a second the
 * sessions whose end has come are read again (another tab, device or HTTP request may
 * have used them meanwhile), and the sockets of those that have ended are ended. Logout,
 * "end session" and a password change end sockets through the bus (fanout.ts).
 *
 * Frames pass `admit` before they are handled: none of a socket whose session has ended is
 * read, and a frame counts as use of its session, as an HTTP request does (read again and
 * `last_seen_at` written at most once a minute per socket).
 */
import type { FastifyBaseLogger } from 'fastify';
import { TOUCH_INTERVAL_MS, type SessionsService } from '../auth/sessions.service.js';
import type { Clock } from '../clock.js';
import { CLOSE_CODES, endConnection, type Connection, type Connections } from './connections.js';

/** Sessions read at once by a sweep (bounds the burst after a resync marks every socket due). */
const RECHECKS_AT_ONCE = 16;
/** A session that could not be read (database unreachable) is tried again after this long. */
const RETRY_MS = 10_000;

export interface SessionLifeOptions {
  connections: Connections;
  sessions: Pick<SessionsService, 'recheck'>;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How often due sessions are read again; the delay between an expiry and its socket closing. */
  checkEveryMs: number;
}

export function createSessionLife({ connections, sessions, clock, log, checkEveryMs }: SessionLifeOptions) {
  /** Reads the connection's session again; false (and the socket ended) when it has ended. */
  async function recheck(connection: Connection, used: boolean): Promise<boolean> {
    const endsAt = await sessions.recheck(connection.sessionId, used);
    connection.checkedAt = clock.now();
    if (endsAt === null) {
      endConnection(connection, CLOSE_CODES.sessionEnded, 'session ended');
      return false;
    }
    connection.endsAt = endsAt;
    return !connection.ended;
  }

  async function sweep(): Promise<void> {
    const now = clock.now();
    const due: Connection[] = [];
    for (const connection of connections.all()) {
      if (!connection.ended && now >= connection.endsAt && now >= connection.retryAt) due.push(connection);
    }
    const worker = async () => {
      for (let connection = due.pop(); connection; connection = due.pop()) {
        try {
          await recheck(connection, false);
        } catch (error) {
          connection.retryAt = clock.now() + RETRY_MS;
          log.warn({ err: error }, 'could not read a socket’s session; trying again shortly');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECHECKS_AT_ONCE, due.length) }, worker));
  }

  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweep().finally(() => {
      sweeping = false;
    });
  }, checkEveryMs);
  timer.unref();

  return {
    /** Whether a frame that just arrived may be handled; reads the session again when due (a frame is use of it). */
    async admit(connection: Connection): Promise<boolean> {
      if (connection.ended) return false;
      const now = clock.now();
      const due = now >= connection.endsAt;
      if (!due && now - connection.checkedAt < TOUCH_INTERVAL_MS) return true;
      try {
        return await recheck(connection, true);
      } catch (error) {
        // Unreachable database: a session not yet at its end is still live, and the frame gets
        // its own answer (a send's error frame); past its end, nothing is handled unchecked.
        if (due) throw error;
        connection.checkedAt = now;
        return true;
      }
    },

    /** The bus may have lost `sessions-ended` events: every socket's session is read again at the next sweep. */
    recheckAll(): void {
      const now = clock.now();
      for (const connection of connections.all()) connection.endsAt = Math.min(connection.endsAt, now);
    },

    stop(): void {
      clearInterval(timer);
    },
  };
}

export type SessionLife = ReturnType<typeof createSessionLife>;
