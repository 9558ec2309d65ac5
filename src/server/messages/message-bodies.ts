/**
 * Message bodies in and out of their Fernet tokens, remembering the newest ones.
 *
 * Most reads are of recent messages (the newest page of a room, a catch-up), and each
 * decryption creates an HMAC and a decipher object: at 50 messages a page it was a third
 * of the page's server time, and the native objects' clean-up lengthened every young-GC
 * pause (docs/decisions/006-message-body-cache.md). So bodies that were opened are kept by their token, up to a
 * byte budget, least recently used out first. Bodies sealed are not: most new messages
 * reach their readers over the sockets and are never read back, and keeping each one cost
 * the send path young-GC work for nothing.
 *
 * Keyed by the whole token: a token is authenticated, so a hit is only ever the text that
 * token was verified to hold; a token never seen, or altered, is decrypted and
 * verified as before. The keyring cannot change while the process runs, so a remembered
 * body never outlives the key that opened it. The plaintext stays in this process's
 * memory, where the key that decrypts everything already is (docs/security.md).
 */
import type { Keyring } from '../crypto/keyring.js';
import { noMetrics, type Metrics } from '../http/metrics.js';

// A Map entry's own cost beside its two strings, roughly: the bound is a budget, not an
// audit (the Map's table, which grows by doubling, comes on top).
const ENTRY_OVERHEAD_BYTES = 80;

export interface MessageBodies {
  /** Encrypts a body under the primary key. */
  seal(text: string): { ciphertext: string; keyId: string };
  /**
   * The body a token holds (remembered, or decrypted and then remembered); throws
   * InvalidTokenError. `ref` names the message it belongs to, so forget() can drop it.
   */
  open(ciphertext: string, keyId?: string, ref?: string): string;
  /** Drops every remembered body of the message `ref` (it was deleted). */
  forget(ref: string): void;
}

/** `maxBytes` 0 remembers nothing. */
export function createMessageBodies(
  keyring: Keyring,
  options: { maxBytes: number; metrics?: Pick<Metrics, 'messageCacheRead' | 'messageCacheSize'> },
): MessageBodies {
  const { maxBytes, metrics = noMetrics } = options;
  // A Map iterates in insertion order: re-inserting on use makes the first entry the least recent.
  const remembered = new Map<string, { text: string; ref: string | undefined }>();
  // The tokens remembered per message, for forget(): most messages have one.
  const byRef = new Map<string, Set<string>>();
  let bytes = 0;

  const sizeOf = (ciphertext: string, text: string) => 2 * (ciphertext.length + text.length) + ENTRY_OVERHEAD_BYTES;

  function drop(ciphertext: string): void {
    const entry = remembered.get(ciphertext);
    if (!entry) return;
    remembered.delete(ciphertext);
    bytes -= sizeOf(ciphertext, entry.text);
    if (entry.ref === undefined) return;
    const tokens = byRef.get(entry.ref);
    tokens?.delete(ciphertext);
    if (tokens?.size === 0) byRef.delete(entry.ref);
  }

  function remember(ciphertext: string, text: string, ref: string | undefined): void {
    const size = sizeOf(ciphertext, text);
    if (size > maxBytes) return;
    remembered.set(ciphertext, { text, ref });
    bytes += size;
    if (ref !== undefined) {
      const tokens = byRef.get(ref);
      if (tokens) tokens.add(ciphertext);
      else byRef.set(ref, new Set([ciphertext]));
    }
    for (const [oldest] of remembered) {
      if (bytes <= maxBytes) break;
      drop(oldest);
    }
    metrics.messageCacheSize(bytes);
  }

  return {
    seal(text) {
      return keyring.encrypt(text);
    },
    open(ciphertext, keyId, ref) {
      const known = remembered.get(ciphertext);
      metrics.messageCacheRead(known !== undefined);
      if (known !== undefined) {
        remembered.delete(ciphertext);
        remembered.set(ciphertext, known);
        return known.text;
      }
      const text = keyring.decrypt(ciphertext, keyId);
      remember(ciphertext, text, ref);
      return text;
    },
    forget(ref) {
      for (const ciphertext of [...(byRef.get(ref) ?? [])]) drop(ciphertext);
      metrics.messageCacheSize(bytes);
    },
  };
}
