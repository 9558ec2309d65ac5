/**
 * Look-alike detection for names (Unicode TR39, section 4): the keys under which a username
 * or a public room name is reserved, so that no second name that reads or looks the same
 * can be taken. The confusables data is Unicode's confusables.txt (13.0.0) as shipped by
 * the `unhomoglyph` package (MIT, pinned: a new data version changes keys already stored,
 * so an upgrade needs a migration that recomputes them).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// Each source code point of confusables.txt mapped to its prototype (one or more code points).
const PROTOTYPES: Readonly<Record<string, string>> = require('unhomoglyph/data.json');

/** TR39 skeleton: NFD, each code point replaced by its prototype, NFD again. */
export function skeleton(text: string): string {
  let mapped = '';
  for (const char of text.normalize('NFD')) mapped += PROTOTYPES[char] ?? char;
  return mapped.normalize('NFD');
}

/**
 * The keys a name is reserved under; two names clash when they share one. Two, because
 * case and shape interact: "ALICE" reads as "alice" (fold case, then skeleton), while
 * "aIice" looks like "alice" only before folding (skeleton first: capital I → l, then fold
 * and skeleton again). So "alice", "ALICE", "aIice", "a1ice", "Аlice" (Cyrillic А) clash,
 * but "aiice" and "alice" do not.
 */
export function nameKeys(name: string): string[] {
  const reads = skeleton(name.toLowerCase());
  const looks = skeleton(skeleton(name).toLowerCase());
  return reads === looks ? [reads] : [reads, looks];
}
