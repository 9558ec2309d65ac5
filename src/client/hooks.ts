/** Small hooks shared by views. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

/** Re-renders when an external store changes; `getSnapshot` must return a stable value. */
export function useStore<T>(subscribe: (listener: () => void) => () => void, getSnapshot: () => T): T {
  const value = getSnapshot();
  const [, setTick] = useState(0);
  const rendered = useRef(value);
  rendered.current = value;
  useLayoutEffect(() => {
    const rerender = () => setTick((tick) => tick + 1);
    const unsubscribe = subscribe(rerender);
    // The store may have changed between this render and the subscription.
    if (getSnapshot() !== rendered.current) rerender();
    return unsubscribe;
  }, [subscribe, getSnapshot]);
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
