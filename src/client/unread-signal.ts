/**
 * The tab shows the unread state: the title counts unread messages ("(3) …", "@ " first when
 * I am mentioned) and the favicon gets a dot, drawn as an SVG data URL (no asset to fetch).
 */
import { useEffect } from 'preact/hooks';

const BASE_ICON = '/favicon.svg';

function dotIcon(color: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="4" width="24" height="20" rx="5" fill="#0d6efd"/><path d="M8 24v6l7-6z" fill="#0d6efd"/><circle cx="25" cy="8" r="7" fill="${color}" stroke="#fff" stroke-width="2"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** `title` without the unread prefix; the prefix and the favicon follow the counts. */
export function unreadTitle(title: string, unread: number, mentions: number): string {
  return `${mentions > 0 ? '@ ' : ''}${unread > 0 ? `(${unread}) ` : ''}${title}`;
}

export function useUnreadSignal(unread: number, mentions: number): void {
  useEffect(() => {
    let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    if (!link) {
      link = document.createElement('link');
      link.rel = 'icon';
      document.head.append(link);
    }
    link.type = 'image/svg+xml';
    link.href = mentions > 0 ? dotIcon('#dc3545') : unread > 0 ? dotIcon('#fd7e14') : BASE_ICON;
    link.dataset.unread = mentions > 0 ? 'mention' : unread > 0 ? 'unread' : 'none';
  }, [unread > 0, mentions > 0]);
}
