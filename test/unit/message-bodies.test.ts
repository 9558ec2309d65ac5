import { describe, expect, it } from 'vitest';
import { InvalidTokenError, generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring, type Keyring } from '../../src/server/crypto/keyring.js';
import { createMessageBodies } from '../../src/server/messages/message-bodies.js';

/** A real keyring that counts how often it was asked to decrypt. */
function countingKeyring(keys: string[] = [generateFernetKey()]): { keyring: Keyring; decrypts: () => number } {
  const real = createKeyring(keys[0]!, keys.slice(1));
  let decrypts = 0;
  const keyring: Keyring = {
    ...real,
    encrypt: (text) => real.encrypt(text),
    decrypt: (ciphertext, keyId) => {
      decrypts += 1;
      return real.decrypt(ciphertext, keyId);
    },
  };
  return { keyring, decrypts: () => decrypts };
}

/** Flips one character of a token's signature so it no longer verifies. */
function tampered(token: string): string {
  const at = token.length - 10;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

const MiB = 1024 * 1024;

describe('createMessageBodies', () => {
  it('seals under the primary key: the token is a plain Fernet token the keyring opens', () => {
    const { keyring } = countingKeyring();
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    const sealed = bodies.seal('hello there');
    expect(sealed.keyId).toBe(keyring.primaryKeyId);
    expect(keyring.decrypt(sealed.ciphertext, sealed.keyId)).toBe('hello there');
  });

  it('opens a body it opened once without decrypting again', () => {
    const { keyring, decrypts } = countingKeyring();
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    const stored = keyring.encrypt('written by another instance');
    expect(bodies.open(stored.ciphertext, stored.keyId)).toBe('written by another instance');
    expect(bodies.open(stored.ciphertext, stored.keyId)).toBe('written by another instance');
    expect(decrypts()).toBe(1);
  });

  it('does not keep what it seals: a new message is decrypted when first read back', () => {
    const { keyring, decrypts } = countingKeyring();
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    const sent = bodies.seal('just sent');
    expect(bodies.open(sent.ciphertext, sent.keyId)).toBe('just sent');
    expect(bodies.open(sent.ciphertext, sent.keyId)).toBe('just sent');
    expect(decrypts()).toBe(1);
  });

  it('refuses an altered token even when the original is remembered', () => {
    const { keyring } = countingKeyring();
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    const sealed = bodies.seal('the real text');
    expect(bodies.open(sealed.ciphertext, sealed.keyId)).toBe('the real text');
    expect(() => bodies.open(tampered(sealed.ciphertext), sealed.keyId)).toThrow(InvalidTokenError);
    expect(bodies.open(sealed.ciphertext, sealed.keyId)).toBe('the real text');
  });

  it('opens tokens of an older key through the keyring (rotation in progress)', () => {
    const older = generateFernetKey();
    const { keyring } = countingKeyring([generateFernetKey(), older]);
    const oldToken = createKeyring(older).encrypt('from before the rotation');
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    expect(bodies.open(oldToken.ciphertext, oldToken.keyId)).toBe('from before the rotation');
  });

  it('keeps within its byte budget, letting the least recently used body go first', () => {
    const { keyring, decrypts } = countingKeyring();
    const tokens = ['one', 'two', 'three'].map((text) => ({ text, ...keyring.encrypt(text) }));
    const entryBytes = 2 * (tokens[0]!.ciphertext.length + 5) + 80;
    // Room for two entries, not three.
    const bodies = createMessageBodies(keyring, { maxBytes: 2 * entryBytes + 10 });
    const open = (i: number) => bodies.open(tokens[i]!.ciphertext, tokens[i]!.keyId);

    open(0);
    open(1);
    open(0); // "one" is now more recent than "two"
    open(2); // over budget: "two" goes
    expect(decrypts()).toBe(3);
    open(0);
    open(2);
    expect(decrypts()).toBe(3);
    expect(open(1)).toBe('two');
    expect(decrypts()).toBe(4);
  });

  it('remembers nothing with a budget of 0, and never a body larger than the budget', () => {
    const { keyring, decrypts } = countingKeyring();
    const off = createMessageBodies(keyring, { maxBytes: 0 });
    const stored = keyring.encrypt('not kept');
    off.open(stored.ciphertext, stored.keyId);
    off.open(stored.ciphertext, stored.keyId);
    expect(decrypts()).toBe(2);

    const small = createMessageBodies(keyring, { maxBytes: 1024 });
    const big = keyring.encrypt('x'.repeat(4000));
    expect(small.open(big.ciphertext, big.keyId)).toBe('x'.repeat(4000));
    expect(small.open(big.ciphertext, big.keyId)).toBe('x'.repeat(4000));
    expect(decrypts()).toBe(4);
  });

  it('forgets every body of a deleted message (its current one and earlier versions), and only those', () => {
    const { keyring, decrypts } = countingKeyring();
    const bodies = createMessageBodies(keyring, { maxBytes: MiB });
    const [current, earlier, other] = ['now', 'before', 'another message'].map((text) => keyring.encrypt(text));
    bodies.open(current!.ciphertext, current!.keyId, 'room:1');
    bodies.open(earlier!.ciphertext, earlier!.keyId, 'room:1');
    bodies.open(other!.ciphertext, other!.keyId, 'room:2');
    expect(decrypts()).toBe(3);
    bodies.forget('room:1');
    bodies.open(other!.ciphertext, other!.keyId, 'room:2');
    expect(decrypts()).toBe(3);
    bodies.open(current!.ciphertext, current!.keyId, 'room:1');
    bodies.open(earlier!.ciphertext, earlier!.keyId, 'room:1');
    expect(decrypts()).toBe(5);
    bodies.forget('room:unknown');
  });
});
