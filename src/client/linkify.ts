/**
 * Splits message text into plain runs and http(s) links. The result is rendered as
 * text nodes, so a body can never become markup; only these two schemes become links.
 * A link's text shows the host the browser will really go to, as its own URL parser reads
 * it: IDN hosts in punycode (`xn--pple-43d.com`, not a Cyrillic `аpple.com`), userinfo
 * removed (`https://example.com@evil.example/` shows and opens `https://evil.example/`).
 */

export type TextPart = { text: string; href?: string };

const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"']+/gi;
// Punctuation that usually ends the sentence rather than the URL.
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;
// Where the authority (userinfo, host, port) of a typed http(s) URL ends; the WHATWG parser
// treats a backslash like a slash for these schemes.
const AUTHORITY_END = /[/?#\\]/;

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let plainStart = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const candidate = match[0].replace(TRAILING_PUNCTUATION, '');
    const link = httpLink(candidate);
    if (!link) continue;
    const start = match.index;
    if (start > plainStart) parts.push({ text: text.slice(plainStart, start) });
    parts.push(link);
    plainStart = start + candidate.length;
  }
  if (plainStart < text.length) parts.push({ text: text.slice(plainStart) });
  return parts;
}

/** The link a typed http(s) URL really opens, with the text to show for it; null for any other scheme. */
export function httpLink(candidate: string): Required<TextPart> | null {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // Credentials in a shared link only serve to dress one host up as another.
  url.username = '';
  url.password = '';
  // The parsed scheme and host, then the rest as it was typed (paths read better undecoded).
  const afterScheme = candidate.slice(candidate.indexOf('//') + 2);
  const authorityEnd = afterScheme.search(AUTHORITY_END);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  return { text: `${url.protocol}//${url.host}${rest}`, href: url.href };
}

/** Characters that reorder the text around them (embeddings, overrides, isolates: "Trojan Source"). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export type VisiblePart = { text: string } | { control: string };

/**
 * Splits text so that each bidi control is shown as a visible token (`U+202E`) instead of
 * silently reversing what follows it: rendered text then reads in the order it was written.
 */
export function splitBidiControls(text: string): VisiblePart[] {
  const parts: VisiblePart[] = [];
  let plainStart = 0;
  for (const match of text.matchAll(BIDI_CONTROLS)) {
    if (match.index > plainStart) parts.push({ text: text.slice(plainStart, match.index) });
    parts.push({ control: `U+${match[0].codePointAt(0)!.toString(16).toUpperCase()}` });
    plainStart = match.index + match[0].length;
  }
  if (plainStart < text.length || parts.length === 0) parts.push({ text: text.slice(plainStart) });
  return parts;
}
