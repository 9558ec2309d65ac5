/**
 * Who is online: a user is online while they have at least one open socket.
 * Counted on this instance; scale-out replaces this with a shared count.
 */
export interface Presence {
  /** Counts a new connection; true when it is the user's first (they just came online). */
  connected(userId: string): boolean;
  /** Counts a closed connection; true when it was the user's last (they just went offline). */
  disconnected(userId: string): boolean;
  isOnline(userId: string): boolean;
}

export function createPresence(): Presence {
  const connections = new Map<string, number>();
  return {
    connected(userId) {
      const count = (connections.get(userId) ?? 0) + 1;
      connections.set(userId, count);
      return count === 1;
    },
    disconnected(userId) {
      const count = (connections.get(userId) ?? 0) - 1;
      if (count > 0) {
        connections.set(userId, count);
        return false;
      }
      connections.delete(userId);
      return true;
    },
    isOnline(userId) {
      return connections.has(userId);
    },
  };
}
