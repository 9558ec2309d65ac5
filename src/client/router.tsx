/** History-API routing: the current location as a hook, in-app links and redirects. */
import type { AnchorHTMLAttributes, TargetedMouseEvent } from 'preact';
import { useEffect } from 'preact/hooks';
import { useStore } from './hooks.js';

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The path and query of the page, e.g. `/login?next=%2Fchat`. */
export function currentPath(): string {
  return window.location.pathname + window.location.search;
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === currentPath()) return;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  notify();
}

const locationStore = { subscribe, getSnapshot: currentPath };

/** The current URL; re-renders on navigation. */
export function useLocation(): URL {
  const path = useStore(locationStore);
  return new URL(path, window.location.origin);
}

type LinkProps = AnchorHTMLAttributes & { href: string };

/** An <a> that navigates inside the app (modified clicks still open new tabs). */
export function Link({ href, onClick, ...rest }: LinkProps) {
  function follow(event: TargetedMouseEvent<HTMLAnchorElement>) {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
  }
  return <a href={href} onClick={follow} {...rest} />;
}

export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
