/**
 * Where a Markdown link may go, and what it must show. Only http(s) and mailto open; the
 * shown text always tells the real destination (linkify.ts's rules: punycode host, no
 * userinfo), so `[bank](https://evil.example)` reads "bank (evil.example)".
 */
import { httpLink } from '../linkify.js';

export interface SafeLink {
  href: string;
  /** The link's own text when it names the destination, else the destination itself. */
  shown: string;
  /** The host (or address) added after custom link text; null when `shown` already is it. */
  destination: string | null;
}

/** A link token's href and text → what to render, or null when it must stay text. */
export function safeLink(href: string, text: string): SafeLink | null {
  const trimmed = href.trim();
  if (/^mailto:/i.test(trimmed)) {
    let url: URL;
    let address: string;
    try {
      url = new URL(trimmed);
      address = decodeURIComponent(url.pathname);
    } catch {
      return null; // not a URL, or a broken %-escape: it stays text
    }
    return { href: url.href, shown: text || address, destination: text && text !== address && text !== trimmed ? address : null };
  }
  const link = httpLink(trimmed);
  if (!link) return null;
  // Text that is the URL (as typed, or as normalised) shows the normalised URL only.
  if (!text || text === trimmed || text === link.text || text === link.href) {
    return { href: link.href, shown: link.text, destination: null };
  }
  return { href: link.href, shown: text, destination: new URL(link.href).host };
}
