/** Small hooks shared by views. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Readable } from './core/store.js';

/**
 * The slice `selector` picks from an external store, re-rendering only when it changes
 * (by `isEqual`, identity unless told). The selector must return a stable value for an
 * unchanged snapshot (memoise slices built from several fields).
 */
export function useStore<S, T = S>(
  store: Readable<S>,
  selector: (snapshot: S) => T = identity as (snapshot: S) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const value = selector(store.getSnapshot());
  const [, setTick] = useState(0);
  const rendered = useRef({ value, selector, isEqual });
  rendered.current = { value, selector, isEqual };
  useLayoutEffect(() => {
    const check = () => {
      const { value, selector, isEqual } = rendered.current;
      if (!isEqual(selector(store.getSnapshot()), value)) setTick((tick) => tick + 1);
    };
    const unsubscribe = store.subscribe(check);
    // The store may have changed between this render and the subscription.
    check();
    return unsubscribe;
  }, [store]);
  return value;
}

function identity<T>(value: T): T {
  return value;
}

/** Whether a CSS media query matches, kept current. */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const onChange = () => setMatches(list.matches);
    onChange();
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/** Sets the document title while the component is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · SecureChat` : 'SecureChat';
  }, [title]);
}
