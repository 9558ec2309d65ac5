/**
 * Splits message text into plain runs and http(s) links. The result is rendered as
 * text nodes, so a body can never become markup; only these two schemes become links.
 */

export type TextPart = { text: string; href?: string };

const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"']+/gi;
// Punctuation that usually ends the sentence rather than the URL.
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let plainStart = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const candidate = match[0].replace(TRAILING_PUNCTUATION, '');
    const href = httpUrl(candidate);
    if (!href) continue;
    const start = match.index;
    if (start > plainStart) parts.push({ text: text.slice(plainStart, start) });
    parts.push({ text: candidate, href });
    plainStart = start + candidate.length;
  }
  if (plainStart < text.length) parts.push({ text: text.slice(plainStart) });
  return parts;
}

function httpUrl(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
