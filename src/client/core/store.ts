/**
 * A small framework-free store: an immutable snapshot, replaced by `update`, with
 * listeners told once per burst of updates (after the current task's microtasks).
 */
export interface Readable<S> {
  getSnapshot(): S;
  subscribe(listener: () => void): () => void;
}

export class Store<S extends object> implements Readable<S> {
  private snapshot: S;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  constructor(initial: S) {
    this.snapshot = initial;
  }

  getSnapshot = (): S => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  update(patch: Partial<S>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    // Frames often come in bursts (catch-up pages, presence storms): notify once per burst.
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of this.listeners) listener();
    });
  }
}

/** Calls `onChange(next, previous)` whenever the selected slice changes; returns the unsubscribe. */
export function watch<S, T>(
  store: Readable<S>,
  selector: (snapshot: S) => T,
  isEqual: (a: T, b: T) => boolean,
  onChange: (next: T, previous: T) => void,
): () => void {
  let current = selector(store.getSnapshot());
  return store.subscribe(() => {
    const next = selector(store.getSnapshot());
    if (isEqual(next, current)) return;
    const previous = current;
    current = next;
    onChange(next, previous);
  });
}

/** Equal when both hold the same keys with identical (===) values. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = Object.keys(a) as (keyof T)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && Object.is(a[key], b[key]));
}
