import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FernetKey,
  InvalidKeyError,
  InvalidTokenError,
  decryptFernet,
  encryptFernet,
  generateFernetKey,
} from '../../src/server/crypto/fernet.js';
import { KeyConfigError, createKeyring, loadKeyring } from '../../src/server/crypto/keyring.js';

interface CryptoVectors {
  fernet: {
    rotation: { oldKey: string; newKey: string; plaintext: string; oldToken: string; rotatedToken: string };
  };
  keyring: { key: string; keyId: string; value: string; blindIndex: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/crypto-vectors.json', import.meta.url), 'utf8'),
) as CryptoVectors;
const { rotation } = vectors.fernet;

const NOT_A_KEY = 'this-is-not-a-key-but-looks-SECRET';

async function expectKeyConfigError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KeyConfigError);
  return (error as KeyConfigError).message;
}

describe('createKeyring', () => {
  it('derives a 16-hex-digit key id that is stable and matches the independent Python derivation', () => {
    for (const vector of vectors.keyring) {
      const keyring = createKeyring(vector.key);
      expect(keyring.primaryKeyId).toMatch(/^[0-9a-f]{16}$/);
      expect(keyring.primaryKeyId).toBe(vector.keyId);
      expect(createKeyring(vector.key).primaryKeyId).toBe(vector.keyId);
    }
  });

  it('gives a key id that is not a piece of the key', () => {
    const keyText = generateFernetKey();
    const keyHex = Buffer.from(keyText, 'base64url').toString('hex');
    const { primaryKeyId } = createKeyring(keyText);
    expect(keyHex).not.toContain(primaryKeyId);
    expect(keyText).not.toContain(primaryKeyId);
  });

  it('lists key ids primary first and keeps a repeated key once', () => {
    const keyring = createKeyring(rotation.newKey, [rotation.oldKey, rotation.newKey, rotation.oldKey]);
    const newId = createKeyring(rotation.newKey).primaryKeyId;
    const oldId = createKeyring(rotation.oldKey).primaryKeyId;
    expect(keyring.keyIds).toEqual([newId, oldId]);
    expect(keyring.primaryKeyId).toBe(newId);
    expect(keyring.hasKey(oldId)).toBe(true);
    expect(keyring.hasKey('0000000000000000')).toBe(false);
  });

  it('refuses a bad key', () => {
    expect(() => createKeyring(NOT_A_KEY)).toThrow(InvalidKeyError);
    expect(() => createKeyring(generateFernetKey(), [NOT_A_KEY])).toThrow(InvalidKeyError);
  });

  it('encrypts with the primary key into a plain Fernet token under that key', () => {
    const keyring = createKeyring(rotation.newKey, [rotation.oldKey]);
    const { ciphertext, keyId } = keyring.encrypt('hello');
    expect(keyId).toBe(keyring.primaryKeyId);
    expect(decryptFernet(FernetKey.fromString(rotation.newKey), ciphertext).toString()).toBe('hello');
    expect(() => decryptFernet(FernetKey.fromString(rotation.oldKey), ciphertext)).toThrow(InvalidTokenError);
  });

  it('decrypts a token written before a rotation through the fallback key', () => {
    const keyring = createKeyring(rotation.newKey, [rotation.oldKey]);
    const oldId = createKeyring(rotation.oldKey).primaryKeyId;
    expect(keyring.decrypt(rotation.oldToken)).toBe(rotation.plaintext);
    expect(keyring.decrypt(rotation.oldToken, oldId)).toBe(rotation.plaintext);
    expect(keyring.decrypt(rotation.rotatedToken, keyring.primaryKeyId)).toBe(rotation.plaintext);
  });

  it('still decrypts when the stored key id is wrong or unknown', () => {
    const keyring = createKeyring(rotation.newKey, [rotation.oldKey]);
    expect(keyring.decrypt(rotation.oldToken, keyring.primaryKeyId)).toBe(rotation.plaintext);
    expect(keyring.decrypt(rotation.oldToken, 'ffffffffffffffff')).toBe(rotation.plaintext);
  });

  it('refuses a token that no key in the keyring made', () => {
    const keyring = createKeyring(rotation.newKey);
    expect(() => keyring.decrypt(rotation.oldToken)).toThrow(
      expect.objectContaining({ name: 'InvalidTokenError', reason: 'signature' }),
    );
  });

  it('refuses a malformed token without trying the other keys', () => {
    const keyring = createKeyring(rotation.newKey, [rotation.oldKey]);
    expect(() => keyring.decrypt('not a token')).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('round-trips UTF-8 text, and reads tokens any Fernet implementation made with the key', () => {
    const keyring = createKeyring(generateFernetKey());
    const text = 'Grüße, 世界 🔐';
    expect(keyring.decrypt(keyring.encrypt(text).ciphertext)).toBe(text);
    const primary = createKeyring(rotation.newKey);
    expect(primary.decrypt(encryptFernet(FernetKey.fromString(rotation.newKey), text))).toBe(text);
  });
});

describe('blind indexes', () => {
  it('match the independent Python derivation and are deterministic', () => {
    for (const vector of vectors.keyring) {
      expect(createKeyring(vector.key).blindIndex(vector.value)).toBe(vector.blindIndex);
      expect(createKeyring(vector.key).blindIndex(vector.value)).toBe(vector.blindIndex);
    }
  });

  it('differ per value and per key', () => {
    const first = createKeyring(rotation.oldKey);
    const second = createKeyring(rotation.newKey);
    expect(first.blindIndex('alice@example.com')).not.toBe(first.blindIndex('bob@example.com'));
    expect(first.blindIndex('alice@example.com')).not.toBe(second.blindIndex('alice@example.com'));
  });

  it('never use the Fernet signing key or the whole key directly', () => {
    const keyBytes = Buffer.from(rotation.oldKey, 'base64url');
    const index = createKeyring(rotation.oldKey).blindIndex('alice@example.com');
    for (const rawKey of [keyBytes, keyBytes.subarray(0, 16), keyBytes.subarray(16)]) {
      expect(index).not.toBe(createHmac('sha256', rawKey).update('alice@example.com').digest('hex'));
    }
  });

  it('list every key, primary first, so rows written before a rotation are found', () => {
    const rotated = createKeyring(rotation.newKey, [rotation.oldKey]);
    const value = 'alice@example.com';
    expect(rotated.blindIndex(value)).toBe(createKeyring(rotation.newKey).blindIndex(value));
    expect(rotated.blindIndexes(value)).toEqual([
      createKeyring(rotation.newKey).blindIndex(value),
      createKeyring(rotation.oldKey).blindIndex(value),
    ]);
  });
});

describe('loadKeyring', () => {
  let folder: string;
  let keyFile: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'securechat-keyring-'));
    keyFile = join(folder, 'data', 'master.key');
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('creates a missing key file, and its folder, with mode 0600 and one new key', async () => {
    const loaded = await loadKeyring({ keyFile, createIfMissing: true });
    expect(loaded.source).toBe('created');
    expect(loaded.warnings).toEqual([]);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const content = await readFile(keyFile, 'utf8');
    expect(content).toMatch(/^[A-Za-z0-9_-]{43}=\n$/);
    expect(createKeyring(content.trim()).primaryKeyId).toBe(loaded.keyring.primaryKeyId);
    expect(await readdir(join(folder, 'data'))).toEqual(['master.key']);
  });

  it('loads the created file on the next start', async () => {
    const created = await loadKeyring({ keyFile, createIfMissing: true });
    const loaded = await loadKeyring({ keyFile, createIfMissing: true });
    expect(loaded.source).toBe('file');
    expect(loaded.keyring.primaryKeyId).toBe(created.keyring.primaryKeyId);
  });

  it('never overwrites an existing key file', async () => {
    const keyText = generateFernetKey();
    await mkdir(join(folder, 'data'));
    await writeFile(keyFile, `${keyText}\n`, { mode: 0o600 });
    const loaded = await loadKeyring({ keyFile, createIfMissing: true });
    expect(loaded.source).toBe('file');
    expect(loaded.keyring.primaryKeyId).toBe(createKeyring(keyText).primaryKeyId);
    expect(await readFile(keyFile, 'utf8')).toBe(`${keyText}\n`);
  });

  it('ends with one key when several instances start at once on a missing file', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => loadKeyring({ keyFile, createIfMissing: true })),
    );
    const content = await readFile(keyFile, 'utf8');
    const fileKeyId = createKeyring(content.trim()).primaryKeyId;
    expect(results.map((result) => result.keyring.primaryKeyId)).toEqual(Array(8).fill(fileKeyId));
    expect(results.filter((result) => result.source === 'created')).toHaveLength(1);
    expect(await readdir(join(folder, 'data'))).toEqual(['master.key']);
  });

  it('refuses to start without a key when it may not create one', async () => {
    const message = await expectKeyConfigError(loadKeyring({ keyFile, createIfMissing: false }));
    expect(message).toContain('MASTER_ENCRYPTION_KEY');
    expect(message).toContain(keyFile);
  });

  it('prefers MASTER_ENCRYPTION_KEY over the key file and creates no file', async () => {
    const envKey = generateFernetKey();
    const loaded = await loadKeyring({ key: envKey, keyFile, createIfMissing: true });
    expect(loaded.source).toBe('env');
    expect(loaded.keyring.primaryKeyId).toBe(createKeyring(envKey).primaryKeyId);
    await expect(stat(keyFile)).rejects.toThrow();

    await loadKeyring({ keyFile, createIfMissing: true });
    const fromEnv = await loadKeyring({ key: envKey, keyFile, createIfMissing: true });
    expect(fromEnv.keyring.primaryKeyId).toBe(createKeyring(envKey).primaryKeyId);
  });

  it('treats a blank MASTER_ENCRYPTION_KEY as unset and trims surrounding whitespace', async () => {
    expect((await loadKeyring({ key: '  ', keyFile, createIfMissing: true })).source).toBe('created');
    const envKey = generateFernetKey();
    const loaded = await loadKeyring({ key: ` ${envKey}\n`, keyFile, createIfMissing: true });
    expect(loaded.keyring.primaryKeyId).toBe(createKeyring(envKey).primaryKeyId);
  });

  it('adds MASTER_ENCRYPTION_KEY_FALLBACKS after the primary key, skipping blank entries', async () => {
    const loaded = await loadKeyring({
      key: rotation.newKey,
      fallbacks: ['', ` ${rotation.oldKey} `],
      keyFile,
      createIfMissing: false,
    });
    expect(loaded.keyring.keyIds).toEqual(createKeyring(rotation.newKey, [rotation.oldKey]).keyIds);
    expect(loaded.keyring.decrypt(rotation.oldToken)).toBe(rotation.plaintext);
  });

  it('reads older keys from the lines after the first, ignoring comments, blank lines and CRLF', async () => {
    const extraFallback = generateFernetKey();
    await mkdir(join(folder, 'data'));
    await writeFile(
      keyFile,
      `# master key\r\n\r\n${rotation.newKey}\r\n# retired 2024\r\n  ${rotation.oldKey}  \r\n`,
      { mode: 0o600 },
    );
    const loaded = await loadKeyring({ fallbacks: [extraFallback], keyFile, createIfMissing: false });
    expect(loaded.source).toBe('file');
    expect(loaded.keyring.keyIds).toEqual(
      createKeyring(rotation.newKey, [rotation.oldKey, extraFallback]).keyIds,
    );
    expect(loaded.keyring.decrypt(rotation.oldToken)).toBe(rotation.plaintext);
  });

  it('names MASTER_ENCRYPTION_KEY, never the key, when it is bad', async () => {
    const message = await expectKeyConfigError(loadKeyring({ key: NOT_A_KEY, keyFile, createIfMissing: true }));
    expect(message).toMatch(/^MASTER_ENCRYPTION_KEY is not a valid key: expected .*32 bytes/);
    expect(message).not.toContain(NOT_A_KEY);
  });

  it('names the bad entry of MASTER_ENCRYPTION_KEY_FALLBACKS, never the key', async () => {
    const message = await expectKeyConfigError(
      loadKeyring({
        key: generateFernetKey(),
        fallbacks: [generateFernetKey(), NOT_A_KEY],
        keyFile,
        createIfMissing: true,
      }),
    );
    expect(message).toContain('Entry 2 of MASTER_ENCRYPTION_KEY_FALLBACKS');
    expect(message).not.toContain(NOT_A_KEY);
  });

  it('names the key file and line of a bad key, never the key', async () => {
    await mkdir(join(folder, 'data'));
    await writeFile(keyFile, `# comment\n${generateFernetKey()}\n${NOT_A_KEY}\n`, { mode: 0o600 });
    const message = await expectKeyConfigError(loadKeyring({ keyFile, createIfMissing: true }));
    expect(message).toContain(`Line 3 of the key file ${keyFile}`);
    expect(message).not.toContain(NOT_A_KEY);
  });

  it('refuses a key file that holds no key, and leaves it alone', async () => {
    await mkdir(join(folder, 'data'));
    await writeFile(keyFile, '# nothing here\n\n', { mode: 0o600 });
    const message = await expectKeyConfigError(loadKeyring({ keyFile, createIfMissing: true }));
    expect(message).toContain(`The key file ${keyFile} holds no key`);
    expect(await readFile(keyFile, 'utf8')).toBe('# nothing here\n\n');
  });

  it('reports a key file that cannot be read', async () => {
    await mkdir(keyFile, { recursive: true });
    const message = await expectKeyConfigError(loadKeyring({ keyFile, createIfMissing: true }));
    expect(message).toContain(`Cannot read the key file ${keyFile}`);
  });

  it.skipIf(process.platform === 'win32')(
    'loads a key file other users can read, with a warning to chmod it',
    async () => {
      await mkdir(join(folder, 'data'));
      await writeFile(keyFile, `${generateFernetKey()}\n`);
      await chmod(keyFile, 0o644);
      const loaded = await loadKeyring({ keyFile, createIfMissing: true });
      expect(loaded.source).toBe('file');
      expect(loaded.warnings).toHaveLength(1);
      expect(loaded.warnings[0]).toContain('mode 0644');
      expect(loaded.warnings[0]).toContain(`chmod 600 ${keyFile}`);

      await chmod(keyFile, 0o600);
      expect((await loadKeyring({ keyFile, createIfMissing: true })).warnings).toEqual([]);
    },
  );
});
