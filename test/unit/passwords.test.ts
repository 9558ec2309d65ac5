import { scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from '../../src/server/crypto/common-passwords.js';
import {
  PASSWORD_HASH_PARAMS,
  createPasswordHasher,
  hashPassword,
  isCommonPassword,
  verifyPassword,
} from '../../src/server/crypto/passwords.js';

interface CryptoVectors {
  passwords: {
    werkzeug: { label: string; password: string; hash: string; needsRehash: boolean }[];
    nodeMade: { password: string; hash: string }[];
  };
}

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/crypto-vectors.json', import.meta.url), 'utf8'),
) as CryptoVectors;

const werkzeugHash = (label: string): { password: string; hash: string } => {
  const vector = vectors.passwords.werkzeug.find((candidate) => candidate.label === label);
  if (!vector) throw new Error(`no Werkzeug vector labelled ${label}`);
  return vector;
};

const PRODUCTION_FORMAT = /^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$/;
const NOT_OK = { ok: false, needsRehash: false };
/** Cheap parameters so format and rehash tests do not pay for N=32768 each time. */
const cheapHasher = createPasswordHasher({ N: 1024, r: 8, p: 1 });

describe('Werkzeug hashes', () => {
  it.each(vectors.passwords.werkzeug)('verifies a Werkzeug hash: $label', async (vector) => {
    expect(await verifyPassword(vector.password, vector.hash)).toEqual({
      ok: true,
      needsRehash: vector.needsRehash,
    });
  });

  it('reads pbkdf2:sha256 without an iteration count as Werkzeug 3.1 does: 1,000,000 iterations', async () => {
    const { password, hash } = werkzeugHash('pbkdf2 sha256 without an iteration count');
    expect(hash).toMatch(/^pbkdf2:sha256\$/);
    const explicit = hash.replace(/^pbkdf2:sha256\$/, 'pbkdf2:sha256:1000000$');
    expect(await verifyPassword(password, explicit)).toEqual({ ok: true, needsRehash: true });
  });

  it('refuses a wrong password against scrypt and pbkdf2 hashes', async () => {
    const scrypt = werkzeugHash('scrypt default');
    const pbkdf2 = werkzeugHash('pbkdf2 sha256, 1000 iterations');
    expect(await verifyPassword(`${scrypt.password} `, scrypt.hash)).toEqual(NOT_OK);
    expect(await verifyPassword(pbkdf2.password.toUpperCase(), pbkdf2.hash)).toEqual(NOT_OK);
  });

  // make-crypto-vectors.py checked this hash of ours with Werkzeug's check_password_hash.
  it.each(vectors.passwords.nodeMade)('verifies a hash of ours that Werkzeug accepted', async (vector) => {
    expect(vector.hash).toMatch(PRODUCTION_FORMAT);
    expect(await verifyPassword(vector.password, vector.hash)).toEqual({ ok: true, needsRehash: false });
  });
});

describe('hashPassword', () => {
  it("writes Werkzeug's scrypt:32768:8:1$<salt>$<hex> format, which verifies", async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(PRODUCTION_FORMAT);
    expect(await verifyPassword('correct horse battery staple', hash)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword('correct horse battery stapler', hash)).toEqual(NOT_OK);
  });

  it('runs off the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await hashPassword('does not block');
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(2);
  });

  it('uses a fresh salt for every hash', async () => {
    const hashes = await Promise.all(Array.from({ length: 5 }, () => cheapHasher.hash('same password')));
    expect(new Set(hashes.map((hash) => hash.split('$')[1])).size).toBe(5);
  });

  it('exports the production parameters, frozen', () => {
    expect(PASSWORD_HASH_PARAMS).toEqual({ N: 32768, r: 8, p: 1 });
    expect(Object.isFrozen(PASSWORD_HASH_PARAMS)).toBe(true);
  });
});

describe('createPasswordHasher', () => {
  it('writes hashes with its own parameters', async () => {
    const hash = await cheapHasher.hash('pässwörd 🔑');
    expect(hash).toMatch(/^scrypt:1024:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$/);
    expect(await cheapHasher.verify('pässwörd 🔑', hash)).toEqual({ ok: true, needsRehash: false });
  });

  it('asks for a rehash when the stored parameters differ from its own', async () => {
    const cheapHash = await cheapHasher.hash('hunter2');
    expect(await verifyPassword('hunter2', cheapHash)).toEqual({ ok: true, needsRehash: true });
    const { password, hash } = werkzeugHash('scrypt default');
    expect(await cheapHasher.verify(password, hash)).toEqual({ ok: true, needsRehash: true });
  });

  it('asks for a rehash of a hash with a salt shorter than ours', async () => {
    for (const salt of ['abcd', '']) {
      const hex = scryptSync('hunter2', salt, 64, { N: 1024, r: 8, p: 1 }).toString('hex');
      expect(await cheapHasher.verify('hunter2', `scrypt:1024:8:1$${salt}$${hex}`)).toEqual({
        ok: true,
        needsRehash: true,
      });
    }
  });

  it('refuses parameters scrypt cannot use', () => {
    expect(() => createPasswordHasher({ N: 1000, r: 8, p: 1 })).toThrow(RangeError);
    expect(() => createPasswordHasher({ N: 1024, r: 0, p: 1 })).toThrow(RangeError);
    expect(() => createPasswordHasher({ N: 1024, r: 8, p: 0 })).toThrow(RangeError);
  });
});

describe('malformed stored hashes', () => {
  const salt = 'saltsaltsaltsalt';
  const hex64 = 'ab'.repeat(64);
  const hex32 = 'ab'.repeat(32);
  const malformed = [
    { label: 'empty', stored: '' },
    { label: 'no separators', stored: 'not a hash' },
    { label: 'plain text', stored: 'plain-text-password' },
    { label: 'two parts', stored: `scrypt:32768:8:1$${salt}` },
    { label: 'four parts', stored: `scrypt:32768:8:1$${salt}$${hex64}$extra` },
    { label: 'scrypt with two parameters', stored: `scrypt:32768:8$${salt}$${hex64}` },
    { label: 'scrypt with four parameters', stored: `scrypt:32768:8:1:1$${salt}$${hex64}` },
    { label: 'scrypt N not a power of two', stored: `scrypt:3:8:1$${salt}$${hex64}` },
    { label: 'scrypt N beyond the memory ceiling', stored: `scrypt:1048576:8:1$${salt}$${hex64}` },
    { label: 'scrypt N with too many digits', stored: `scrypt:1099511627776:8:1$${salt}$${hex64}` },
    { label: 'scrypt r not a number', stored: `scrypt:32768:x:1$${salt}$${hex64}` },
    { label: 'upper-case hex', stored: `scrypt:32768:8:1$${salt}$${hex64.toUpperCase()}` },
    { label: 'odd-length hex', stored: `scrypt:32768:8:1$${salt}$${hex64.slice(1)}` },
    { label: 'scrypt hash of 32 bytes', stored: `scrypt:32768:8:1$${salt}$${hex32}` },
    { label: 'unknown method', stored: `md5$${salt}$${'ab'.repeat(16)}` },
    { label: 'pbkdf2 with an unsupported digest', stored: `pbkdf2:md5:1000$${salt}$${'ab'.repeat(16)}` },
    { label: 'pbkdf2 with 0 iterations', stored: `pbkdf2:sha256:0$${salt}$${hex32}` },
    { label: 'pbkdf2 with negative iterations', stored: `pbkdf2:sha256:-5$${salt}$${hex32}` },
    { label: 'pbkdf2 beyond the iteration ceiling', stored: `pbkdf2:sha256:99999999$${salt}$${hex32}` },
    { label: 'pbkdf2 with three parameters', stored: `pbkdf2:sha256:1000:1$${salt}$${hex32}` },
    { label: 'pbkdf2 sha256 hash of 64 bytes', stored: `pbkdf2:sha256:1000$${salt}$${hex64}` },
  ];

  it.each(malformed)('answers ok: false without throwing: $label', async ({ stored }) => {
    expect(await cheapHasher.verify('password', stored)).toEqual(NOT_OK);
  });

  it('answers ok: false for a stored value that is not a string', async () => {
    expect(await verifyPassword('password', null as unknown as string)).toEqual(NOT_OK);
  });
});

describe('isCommonPassword', () => {
  it('recognises common passwords whatever their case', () => {
    for (const password of ['123456', 'password', 'PassWord', 'qwerty', 'LetMeIn', 'iloveyou', 'Password1']) {
      expect(isCommonPassword(password), password).toBe(true);
    }
  });

  it('lets uncommon passwords through', () => {
    for (const password of ['correct horse battery staple', 'Zx9!qL2#vR', 'password but longer']) {
      expect(isCommonPassword(password), password).toBe(false);
    }
  });

  it('keeps a list of at least the 10,000 most common, lower case, without duplicates', () => {
    expect(COMMON_PASSWORDS.length).toBeGreaterThanOrEqual(10_000);
    expect(COMMON_PASSWORDS.every((password) => password === password.toLowerCase())).toBe(true);
    expect(new Set(COMMON_PASSWORDS).size).toBe(COMMON_PASSWORDS.length);
  });
});
