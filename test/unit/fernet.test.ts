import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  FernetKey,
  InvalidKeyError,
  InvalidTokenError,
  decryptFernet,
  encryptFernet,
  generateFernetKey,
  type InvalidTokenReason,
} from '../../src/server/crypto/fernet.js';

interface SpecVectors {
  generate: { token: string; now: string; iv: number[]; src: string; secret: string }[];
  verify: { token: string; now: string; ttl_sec: number; src: string; secret: string }[];
  invalid: { desc: string; token: string; now: string; ttl_sec: number; secret: string }[];
}

interface TokenVector {
  label: string;
  key: string;
  plaintext: string;
  token: string;
}

interface CryptoVectors {
  fernet: {
    fixedIv: (TokenVector & { now: number; iv: string })[];
    pythonRandomIv: TokenVector[];
    nodeMade: TokenVector[];
  };
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const spec = readFixture<SpecVectors>('fernet-spec-vectors.json');
const vectors = readFixture<CryptoVectors>('crypto-vectors.json');

const unixSeconds = (isoTime: string): number => Date.parse(isoTime) / 1000;

/** Decodes a token to bytes, lets `mutate` change them, and encodes the result back. */
function mutateTokenBytes(token: string, mutate: (bytes: Buffer) => Buffer): string {
  return mutate(Buffer.from(token, 'base64url')).toString('base64url');
}

function reasonOf(run: () => unknown): InvalidTokenReason | 'no error' {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.reason;
    throw error;
  }
  return 'no error';
}

const key = FernetKey.fromString(generateFernetKey());

describe('Fernet spec vectors (github.com/fernet/spec)', () => {
  it.each(spec.generate)('generates the exact spec token for "$src"', (vector) => {
    const token = encryptFernet(FernetKey.fromString(vector.secret), vector.src, {
      now: unixSeconds(vector.now),
      iv: Buffer.from(vector.iv),
    });
    expect(token).toBe(vector.token);
  });

  it.each(spec.verify)('verifies the spec token for "$src" within its TTL', (vector) => {
    const plaintext = decryptFernet(FernetKey.fromString(vector.secret), vector.token, {
      ttlSeconds: vector.ttl_sec,
      now: unixSeconds(vector.now),
    });
    expect(plaintext.toString('utf8')).toBe(vector.src);
  });

  // Our reason for each spec case; the spec only says "invalid".
  const expectedReasons: Record<string, InvalidTokenReason> = {
    'incorrect mac': 'signature',
    'too short': 'malformed',
    'invalid base64': 'malformed',
    'payload size not multiple of block size': 'malformed',
    'payload padding error': 'padding',
    'far-future TS (unacceptable clock skew)': 'future',
    'expired TTL': 'expired',
    'incorrect IV (causes padding error)': 'padding',
    'trailing characters after b64 padding': 'malformed',
    'invalid characters in b64': 'malformed',
    'invalid non-urlsafe characters in b64': 'malformed',
  };

  it.each(spec.invalid)('refuses the spec token with $desc', (vector) => {
    const reason = reasonOf(() =>
      decryptFernet(FernetKey.fromString(vector.secret), vector.token, {
        ttlSeconds: vector.ttl_sec,
        now: unixSeconds(vector.now),
      }),
    );
    expect(reason).toBe(expectedReasons[vector.desc]);
  });
});

describe('interoperability with Python cryptography.fernet', () => {
  it.each(vectors.fernet.fixedIv)('makes the same token as Python: $label', (vector) => {
    const token = encryptFernet(FernetKey.fromString(vector.key), Buffer.from(vector.plaintext, 'hex'), {
      now: vector.now,
      iv: Buffer.from(vector.iv, 'hex'),
    });
    expect(token).toBe(vector.token);
  });

  it.each(vectors.fernet.pythonRandomIv)('decrypts a Python token: $label', (vector) => {
    const plaintext = decryptFernet(FernetKey.fromString(vector.key), vector.token);
    expect(plaintext.toString('hex')).toBe(vector.plaintext);
  });

  // make-crypto-vectors.py had Python decrypt each of these before storing it.
  it.each(vectors.fernet.nodeMade)('round-trips a token Python has decrypted: $label', (vector) => {
    const plaintext = decryptFernet(FernetKey.fromString(vector.key), vector.token);
    expect(plaintext.toString('hex')).toBe(vector.plaintext);
  });
});

describe('encryptFernet', () => {
  it('writes padded url-safe base64 starting with the version byte', () => {
    const token = encryptFernet(key, 'hello');
    expect(token).toMatch(/^gAAAAA[A-Za-z0-9_-]*={0,2}$/);
    expect(token.length % 4).toBe(0);
  });

  it('uses a fresh IV for every token', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => encryptFernet(key, 'same text', { now: 1 })));
    expect(tokens.size).toBe(50);
  });

  it('round-trips strings as UTF-8 and buffers as bytes', () => {
    const text = 'Grüße 🔐 '.repeat(500);
    expect(decryptFernet(key, encryptFernet(key, text)).toString('utf8')).toBe(text);
    const bytes = Buffer.from([0, 255, 128, 1]);
    expect(decryptFernet(key, encryptFernet(key, bytes)).equals(bytes)).toBe(true);
  });

  it('records the current time when none is given', () => {
    const before = Math.floor(Date.now() / 1000);
    const token = encryptFernet(key, 'x');
    const timestamp = Number(Buffer.from(token, 'base64url').readBigUInt64BE(1));
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('refuses an IV that is not 16 bytes and a timestamp that is not a whole non-negative number', () => {
    expect(() => encryptFernet(key, 'x', { iv: Buffer.alloc(15) })).toThrow(RangeError);
    expect(() => encryptFernet(key, 'x', { now: -1 })).toThrow(RangeError);
    expect(() => encryptFernet(key, 'x', { now: 1.5 })).toThrow(RangeError);
  });
});

describe('decryptFernet refuses bad tokens', () => {
  const now = 1_700_000_000;
  const token = encryptFernet(key, 'a message of more than one block', { now });
  const byteLength = Buffer.from(token, 'base64url').length;

  const regions = [
    { name: 'timestamp', offsets: [1, 8] },
    { name: 'IV', offsets: [9, 24] },
    { name: 'ciphertext', offsets: [25, byteLength - 33] },
    { name: 'HMAC', offsets: [byteLength - 32, byteLength - 1] },
  ];

  it.each(regions)('refuses a token with a changed byte in the $name', ({ offsets }) => {
    for (const offset of offsets) {
      const tampered = mutateTokenBytes(token, (bytes) => {
        bytes[offset] = (bytes[offset] as number) ^ 0x01;
        return bytes;
      });
      expect(reasonOf(() => decryptFernet(key, tampered))).toBe('signature');
    }
  });

  it('refuses a token with another version byte', () => {
    const wrongVersion = mutateTokenBytes(token, (bytes) => {
      bytes[0] = 0x81;
      return bytes;
    });
    expect(reasonOf(() => decryptFernet(key, wrongVersion))).toBe('version');
  });

  it('refuses every truncation of a token', () => {
    for (let length = 0; length < byteLength; length++) {
      const truncated = mutateTokenBytes(token, (bytes) => bytes.subarray(0, length));
      expect(['malformed', 'signature']).toContain(reasonOf(() => decryptFernet(key, truncated)));
    }
    expect(reasonOf(() => decryptFernet(key, token.slice(0, -4)))).not.toBe('no error');
  });

  it('refuses a token with bytes appended', () => {
    const extended = mutateTokenBytes(token, (bytes) => Buffer.concat([bytes, Buffer.alloc(16)]));
    expect(reasonOf(() => decryptFernet(key, extended))).toBe('signature');
  });

  it('refuses a token made with another key', () => {
    const otherKey = FernetKey.fromString(generateFernetKey());
    expect(reasonOf(() => decryptFernet(otherKey, token))).toBe('signature');
  });

  it('accepts a token with or without its = padding', () => {
    const padded = encryptFernet(key, 'pad me');
    expect(padded).toMatch(/=$/);
    expect(decryptFernet(key, padded.replace(/=+$/, '')).toString()).toBe('pad me');
  });

  it('refuses base64 that is not strict url-safe base64', () => {
    let withUrlSafeChars = token;
    while (!/[-_]/.test(withUrlSafeChars)) withUrlSafeChars = encryptFernet(key, 'x');
    const unpadded = token.replace(/=+$/, '');
    const badSpellings = [
      withUrlSafeChars.replace(/-/g, '+').replace(/_/g, '/'),
      ` ${token}`,
      `${token}\n`,
      `${token.slice(0, 20)}=${token.slice(20)}`,
      `${unpadded}===`,
      `${unpadded}A`,
      '',
      '====',
    ];
    for (const badSpelling of badSpellings) {
      expect(reasonOf(() => decryptFernet(key, badSpelling))).toBe('malformed');
    }
  });

  it('refuses a final character whose unused bits are set', () => {
    // 1 + 8 + 16 + 16 + 32 = 73 bytes: the last base64 group holds one byte, so 4 bits are unused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const shortToken = encryptFernet(key, 'x').replace(/=+$/, '');
    const lastValue = alphabet.indexOf(shortToken.slice(-1));
    const nonCanonical = shortToken.slice(0, -1) + alphabet.charAt(lastValue | 0b0001);
    expect(Buffer.from(nonCanonical, 'base64url').equals(Buffer.from(shortToken, 'base64url'))).toBe(true);
    expect(reasonOf(() => decryptFernet(key, nonCanonical))).toBe('malformed');
  });

  it('enforces the TTL only when asked, with 60 s of clock skew allowed', () => {
    const ttlSeconds = 3600;
    expect(decryptFernet(key, token, { ttlSeconds, now: now + ttlSeconds }).toString()).toContain('message');
    expect(reasonOf(() => decryptFernet(key, token, { ttlSeconds, now: now + ttlSeconds + 1 }))).toBe('expired');
    expect(decryptFernet(key, token, { ttlSeconds, now: now - 60 }).length).toBeGreaterThan(0);
    expect(reasonOf(() => decryptFernet(key, token, { ttlSeconds, now: now - 61 }))).toBe('future');
    expect(decryptFernet(key, token).length).toBeGreaterThan(0);
  });

  it('says why in the error without echoing the token', () => {
    const tampered = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
    try {
      decryptFernet(key, tampered);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect((error as Error).message).not.toContain(tampered.slice(10, 30));
    }
  });
});

describe('FernetKey', () => {
  it('parses generated keys, with or without padding', () => {
    const keyText = generateFernetKey();
    expect(keyText).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(generateFernetKey()).not.toBe(keyText);
    const plain = FernetKey.fromString(keyText);
    const unpadded = FernetKey.fromString(keyText.slice(0, -1));
    expect(decryptFernet(unpadded, encryptFernet(plain, 'same key')).toString()).toBe('same key');
  });

  it('refuses text that is not url-safe base64 of exactly 32 bytes, without echoing it', () => {
    const good = generateFernetKey();
    const bad = [
      '',
      'not a key',
      Buffer.alloc(31, 7).toString('base64url'),
      Buffer.alloc(33, 7).toString('base64url'),
      Buffer.alloc(32, 0xfb).toString('base64'),
      `${good} `,
      `${good}=`,
    ];
    for (const keyText of bad) {
      let caught: unknown;
      try {
        FernetKey.fromString(keyText);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(keyText)).toBeInstanceOf(InvalidKeyError);
      if (keyText.length > 8) expect((caught as Error).message).not.toContain(keyText);
    }
  });

  it('shows no key material when logged or serialised', () => {
    const keyText = generateFernetKey();
    const parsed = FernetKey.fromString(keyText);
    const bytesHex = Buffer.from(keyText, 'base64url').toString('hex');
    for (const shown of [inspect(parsed, { showHidden: true, depth: 5 }), JSON.stringify(parsed)]) {
      expect(shown).not.toContain(keyText.slice(0, 20));
      expect(shown).not.toContain(bytesHex.slice(0, 16));
    }
  });

  it('derives sub-keys that are stable per label and independent of each other', () => {
    const keyText = generateFernetKey();
    const first = FernetKey.fromString(keyText);
    const again = FernetKey.fromString(keyText);
    expect(first.deriveSubkey('a').equals(again.deriveSubkey('a'))).toBe(true);
    expect(first.deriveSubkey('a').equals(first.deriveSubkey('b'))).toBe(false);
    expect(first.deriveSubkey('a').includes(Buffer.from(keyText, 'base64url').subarray(0, 16))).toBe(false);
  });
});
