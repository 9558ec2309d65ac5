/**
 * Who is online: a user is online while they have at least one open socket on ANY
 * instance. One instance counts in memory (createMemoryPresence). Several instances share
 * a store (a PostgreSQL table or Redis keys, see presence-postgres.ts / presence-redis.ts)
 * in which each instance says "I hold this user" once, not once per socket; the
 * online/offline transitions come from the store, so they are announced once across
 * all instances.
 */
export interface Presence {
  /** Counts a new connection; true when the user just came online (no socket anywhere before). */
  connected(userId: string): Promise<boolean>;
  /** Counts a closed connection; true when the user just went offline (no socket anywhere now). */
  disconnected(userId: string): Promise<boolean>;
  isOnline(userId: string): Promise<boolean>;
  /** Those of these users who are online: one look-up for a whole members list. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Transitions that no connect or disconnect here caused: users whose last socket was on
   * an instance that stopped without saying so (they go offline when its entries expire),
   * and users this instance holds but the store had lost (they come back online).
   */
  watch(listener: PresenceListener): () => void;
  /** Stops housekeeping and removes this instance's entries (a clean stop). */
  close(): Promise<void>;
}

export interface PresenceListener {
  changed(userId: string, online: boolean): void;
  failed(error: unknown): void;
}

/** Presence of a single instance: a count per user, in memory. */
export function createMemoryPresence(): Presence {
  const connections = new Map<string, number>();
  return {
    async connected(userId) {
      const count = (connections.get(userId) ?? 0) + 1;
      connections.set(userId, count);
      return count === 1;
    },
    async disconnected(userId) {
      const count = (connections.get(userId) ?? 0) - 1;
      if (count > 0) {
        connections.set(userId, count);
        return false;
      }
      connections.delete(userId);
      return true;
    },
    async isOnline(userId) {
      return connections.has(userId);
    },
    async onlineAmong(userIds) {
      return new Set(userIds.filter((userId) => connections.has(userId)));
    },
    watch() {
      return () => undefined;
    },
    async close() {
      connections.clear();
    },
  };
}

/**
 * Where instances record which users they hold. Every method is atomic per user in the
 * store, so two instances racing on one user still see exactly one transition.
 */
export interface PresenceStore {
  /** Records that this instance holds the user; true when no live instance (this one included) held them before. */
  add(userId: string): Promise<boolean>;
  /** Records that this instance no longer holds the user; true when it did and no live instance holds them now. */
  remove(userId: string): Promise<boolean>;
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Keeps this instance's entries alive; returns the users the store has for this instance. */
  heartbeat(): Promise<string[]>;
  /** Drops the entries of instances that stopped heart-beating; returns users left with no live instance. */
  sweep(): Promise<string[]>;
  /** Drops every entry of this instance. */
  removeAll(): Promise<void>;
}

export interface SharedPresenceOptions {
  /** How often entries are refreshed and expired ones swept; entries live a few heartbeats. */
  heartbeatMs: number;
}

/**
 * Presence shared through a store. Sockets are counted here, in memory (that count is
 * the truth for this instance); the store only hears when a user's first socket opens
 * and last socket closes on this instance, and each heartbeat brings the store back in
 * line with the count if a write was lost (the store was unreachable for a while).
 */
export function createSharedPresence(store: PresenceStore, options: SharedPresenceOptions): Presence {
  const counts = new Map<string, number>();
  /** Users this instance believes the store has for it. */
  const held = new Set<string>();
  const listeners = new Set<PresenceListener>();
  // One store operation at a time per user, in call order: an add overtaken by its
  // remove would leave a user online with no socket.
  const chains = new Map<string, Promise<unknown>>();
  let closed = false;

  function failed(error: unknown): void {
    for (const listener of listeners) listener.failed(error);
  }

  function serial<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const run = (chains.get(userId) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    chains.set(userId, tail);
    void tail.then(() => {
      if (chains.get(userId) === tail) chains.delete(userId);
    });
    return run;
  }

  /** Brings the store in line with the count; returns the transition it caused, if any. */
  function sync(userId: string): Promise<'online' | 'offline' | null> {
    return serial(userId, async () => {
      if (closed) return null;
      const wanted = (counts.get(userId) ?? 0) > 0;
      try {
        if (wanted && !held.has(userId)) {
          const first = await store.add(userId);
          held.add(userId);
          return first ? 'online' : null;
        }
        if (!wanted && held.has(userId)) {
          held.delete(userId);
          return (await store.remove(userId)) ? 'offline' : null;
        }
      } catch (error) {
        // The count stays right; the next heartbeat retries the store.
        failed(error);
      }
      return null;
    });
  }

  function announce(userId: string, transition: 'online' | 'offline' | null): void {
    if (transition === null) return;
    for (const listener of listeners) listener.changed(userId, transition === 'online');
  }

  async function housekeeping(): Promise<void> {
    const stored = new Set(await store.heartbeat());
    const users = new Set([...counts.keys(), ...held, ...stored]);
    for (const userId of users) {
      const believed = held.has(userId);
      // The store lost an entry (an instance swept it while we could not heartbeat), or
      // kept one we meant to remove: re-sync, announcing what that changes.
      if (believed !== stored.has(userId)) {
        if (stored.has(userId)) held.add(userId);
        else held.delete(userId);
        announce(userId, await sync(userId));
      }
    }
    for (const userId of await store.sweep()) announce(userId, 'offline');
  }

  let running = false;
  const timer = setInterval(() => {
    if (running || closed) return;
    running = true;
    housekeeping()
      .catch(failed)
      .finally(() => {
        running = false;
      });
  }, options.heartbeatMs);
  timer.unref();

  return {
    async connected(userId) {
      counts.set(userId, (counts.get(userId) ?? 0) + 1);
      return (await sync(userId)) === 'online';
    },
    async disconnected(userId) {
      const count = (counts.get(userId) ?? 0) - 1;
      if (count > 0) counts.set(userId, count);
      else counts.delete(userId);
      return (await sync(userId)) === 'offline';
    },
    async isOnline(userId) {
      return (await store.online([userId])).has(userId);
    },
    async onlineAmong(userIds) {
      return userIds.length === 0 ? new Set() : store.online(userIds);
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await Promise.all([...chains.values()]);
      listeners.clear();
      await store.removeAll();
    },
  };
}
