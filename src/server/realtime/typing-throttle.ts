/**
 * Typing is announced at most once per TYPING_THROTTLE_MS per user and room, however many
 * sockets the user has. The typing events every instance hears on the bus count too, so
 * the throttle holds across instances (give or take the bus's delay) at no extra cost.
 */
import type { Clock } from '../clock.js';

export const TYPING_THROTTLE_MS = 2_000;

export function createTypingThrottle(clock: Clock) {
  /** Last announcement per `userId roomId`; entries older than the throttle are pruned. */
  const lastAt = new Map<string, number>();
  const keyOf = (userId: string, roomId: string) => `${userId} ${roomId}`;

  return {
    /**
     * Claims the right to announce typing now: false while the user's last announcement in
     * the room is recent. A claim that turns out unauthorized is handed back with `release`.
     */
    claim(userId: string, roomId: string): boolean {
      const key = keyOf(userId, roomId);
      const now = clock.now();
      if (now - (lastAt.get(key) ?? -Infinity) < TYPING_THROTTLE_MS) return false;
      lastAt.set(key, now);
      return true;
    },

    release(userId: string, roomId: string): void {
      lastAt.delete(keyOf(userId, roomId));
    },

    /** A typing event heard on the bus (any instance's, this one's included). */
    heard(userId: string, roomId: string): void {
      const key = keyOf(userId, roomId);
      lastAt.set(key, Math.max(lastAt.get(key) ?? -Infinity, clock.now()));
    },

    /** Forgets announcements the throttle no longer needs. */
    prune(): void {
      const now = clock.now();
      for (const [key, at] of lastAt) if (now - at >= TYPING_THROTTLE_MS) lastAt.delete(key);
    },

    size: () => lastAt.size,
  };
}

export type TypingThrottle = ReturnType<typeof createTypingThrottle>;
