/**
 * The master keyring: one primary Fernet key that encrypts, older keys that still decrypt
 * (the semantics of Python's MultiFernet), and loading the keys from the environment or
 * the key file. Ciphertexts are plain Fernet tokens under the key itself, so a backup can
 * be read with nothing but the key and Python's cryptography.fernet.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FernetKey, InvalidKeyError, InvalidTokenError, decryptFernet, encryptFernet, generateFernetKey } from './fernet.js';
import { blindIndexUnder, counterKeyUnder } from './keyed-hashes.js';
// Part of the stored data format (key ids are persisted): changing it orphans every row
// written with it. The blind-index and counter labels are in keyed-hashes.ts.
const KEY_ID_LABEL = 'securechat key id v1';
const KEY_ID_BYTES = 8;
const LINK_UNSUPPORTED_CODES = ['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'];
const ENV_KEY_NAME = 'MASTER_ENCRYPTION_KEY';
const ENV_FALLBACKS_NAME = 'MASTER_ENCRYPTION_KEY_FALLBACKS';
const EXPECTED_KEY_TEXT =
  'expected a Fernet key: url-safe base64 of 32 bytes, 44 characters ending in "=" ' +
  '(`securechat keys generate` prints one)';

/** The keys the server encrypts and decrypts with. */
export interface Keyring {
  /** Id of the key new ciphertexts are written with. */
  readonly primaryKeyId: string;
  /** Ids of every key, primary first. */
  readonly keyIds: readonly string[];
  /** Encrypts UTF-8 text under the primary key; store `keyId` beside the ciphertext. */
  encrypt(plaintext: string): { ciphertext: string; keyId: string };
  /** Decrypts with the key named by `keyId` first, then every other key; throws InvalidTokenError. */
  decrypt(ciphertext: string, keyId?: string): string;
  /** The same two for bytes (file chunks). */
  encryptBytes(plaintext: Buffer): { ciphertext: string; keyId: string };
  decryptBytes(ciphertext: string, keyId?: string): Buffer;
  /** Whether a key with this id is in the keyring. */
  hasKey(keyId: string): boolean;
  /** Keyed HMAC-SHA256 (hex) of an already normalised value under the primary key. */
  blindIndex(value: string): string;
  /** The blind index of `value` under every key, primary first: finds rows written before a rotation. */
  blindIndexes(value: string): string[];
  /** Keyed HMAC (128 bits, hex) naming a shared rate-limit counter, so none holds a username or IP. */
  counterKey(value: string): string;
}

interface KeyringEntry {
  readonly id: string;
  readonly key: FernetKey;
  readonly blindIndex: (value: string) => string;
}

function createEntry(key: FernetKey): KeyringEntry {
  return {
    id: key.deriveSubkey(KEY_ID_LABEL).subarray(0, KEY_ID_BYTES).toString('hex'),
    key,
    blindIndex: blindIndexUnder(key),
  };
}

/**
 * Builds a keyring from Fernet key strings: `primary` encrypts, `fallbacks` only decrypt.
 * Throws InvalidKeyError for a bad key; a key listed twice is kept once.
 */
export function createKeyring(primary: string, fallbacks: readonly string[] = []): Keyring {
  const entries: KeyringEntry[] = [];
  for (const keyText of [primary, ...fallbacks]) {
    const entry = createEntry(FernetKey.fromString(keyText));
    if (!entries.some((existing) => existing.id === entry.id)) entries.push(entry);
  }
  const primaryEntry = entries[0] as KeyringEntry;
  const entriesById = new Map(entries.map((entry) => [entry.id, entry]));
  const keyIds = Object.freeze(entries.map((entry) => entry.id));
  const counterKey = counterKeyUnder(primaryEntry.key);

  function decryptWithAny(ciphertext: string, keyId: string | undefined): Buffer {
    const named = keyId === undefined ? undefined : entriesById.get(keyId);
    const candidates = named ? [named, ...entries.filter((entry) => entry !== named)] : entries;
    let lastError: InvalidTokenError | undefined;
    for (const entry of candidates) {
      try {
        return decryptFernet(entry.key, ciphertext);
      } catch (error) {
        // Only a signature mismatch can mean "another key"; anything else is the token's fault.
        if (!(error instanceof InvalidTokenError) || error.reason !== 'signature') throw error;
        lastError = error;
      }
    }
    throw lastError ?? new InvalidTokenError('signature');
  }

  return {
    primaryKeyId: primaryEntry.id,
    keyIds,
    encrypt(plaintext) {
      return { ciphertext: encryptFernet(primaryEntry.key, plaintext), keyId: primaryEntry.id };
    },
    decrypt(ciphertext, keyId) {
      return decryptWithAny(ciphertext, keyId).toString('utf8');
    },
    encryptBytes(plaintext) {
      return { ciphertext: encryptFernet(primaryEntry.key, plaintext), keyId: primaryEntry.id };
    },
    decryptBytes: (ciphertext, keyId) => decryptWithAny(ciphertext, keyId),
    hasKey(keyId) {
      return entriesById.has(keyId);
    },
    blindIndex: primaryEntry.blindIndex,
    blindIndexes: (value) => entries.map((entry) => entry.blindIndex(value)),
    counterKey,
  };
}

/** The master key configuration is unusable; the message names the source, never the key. */
export class KeyConfigError extends Error {
  override readonly name = 'KeyConfigError';
}

/** Where loadKeyring looks for keys. */
export interface LoadKeyringOptions {
  /** MASTER_ENCRYPTION_KEY; when set (non-blank) it wins over the key file. */
  key?: string;
  /** MASTER_ENCRYPTION_KEY_FALLBACKS, already split on commas; appended after the other keys. */
  fallbacks?: readonly string[];
  /** Key file: one key a line, first is primary, blank lines and `#` comments ignored. */
  keyFile: string;
  /** Create the key file (mode 0600) with a new key when it does not exist. */
  createIfMissing: boolean;
}

/** The loaded keyring, where its primary key came from, and non-fatal problems to log. */
export interface LoadedKeyring {
  keyring: Keyring;
  source: 'env' | 'file' | 'created';
  warnings: string[];
}

interface LabelledKey {
  text: string;
  /** Where the key came from, for error messages, e.g. "Line 2 of the key file data/master.key". */
  origin: string;
}

function buildKeyring(keys: readonly LabelledKey[]): Keyring {
  for (const { text, origin } of keys) {
    try {
      FernetKey.fromString(text);
    } catch (error) {
      if (error instanceof InvalidKeyError) {
        throw new KeyConfigError(`${origin} is not a valid key: ${EXPECTED_KEY_TEXT}.`);
      }
      throw error;
    }
  }
  const [primary, ...fallbacks] = keys.map((key) => key.text);
  return createKeyring(primary as string, fallbacks);
}

function parseKeyFile(content: string, keyFile: string): LabelledKey[] {
  const keys: LabelledKey[] = [];
  content.split(/\r?\n/).forEach((line, index) => {
    const text = line.trim();
    if (text !== '' && !text.startsWith('#')) {
      keys.push({ text, origin: `Line ${index + 1} of the key file ${keyFile}` });
    }
  });
  return keys;
}

function isErrnoException(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Writes `text` to a file that must not exist yet, readable and writable by the owner only. */
async function writeNewPrivateFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    // The umask may have narrowed the mode given to open(); the owner must keep read+write.
    await handle.chmod(0o600);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the key file with a new key; false when it already exists (it is never overwritten). */
async function createKeyFile(keyFile: string, keyText: string): Promise<boolean> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  // Nothing but the key, so Python's Fernet(open(path).read().strip()) reads it as is.
  const content = `${keyText}\n`;
  // Write a private temporary file, then hard-link it into place: link() fails when the key
  // file exists, and a concurrent reader never sees the key file empty.
  const tempFile = `${keyFile}.${randomBytes(8).toString('hex')}.tmp`;
  await writeNewPrivateFile(tempFile, content);
  try {
    await link(tempFile, keyFile);
    return true;
  } catch (error) {
    if (isErrnoException(error, 'EEXIST')) return false;
    if (!LINK_UNSUPPORTED_CODES.some((code) => isErrnoException(error, code))) throw error;
  } finally {
    await rm(tempFile, { force: true });
  }
  // A file system without hard links: an exclusive create still never overwrites.
  try {
    await writeNewPrivateFile(keyFile, content);
    return true;
  } catch (error) {
    if (isErrnoException(error, 'EEXIST')) return false;
    throw error;
  }
}

/** Reads the key file; null when it does not exist, KeyConfigError when it cannot be read. */
async function readKeyFile(keyFile: string): Promise<{ content: string; warnings: string[] } | null> {
  let content: string;
  let mode: number;
  try {
    content = await readFile(keyFile, 'utf8');
    ({ mode } = await stat(keyFile));
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return null;
    throw new KeyConfigError(`Cannot read the key file ${keyFile}: ${errorMessage(error)}`);
  }
  const warnings: string[] = [];
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const modeText = (mode & 0o777).toString(8).padStart(4, '0');
    warnings.push(
      `The key file ${keyFile} is readable by other users (mode ${modeText}); ` +
        `run: chmod 600 ${keyFile}`,
    );
  }
  return { content, warnings };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads the master keyring: the primary key from `options.key` (MASTER_ENCRYPTION_KEY) if set,
 * else from the key file, creating the file with a new key when allowed and missing.
 * Fallback keys from `options.fallbacks` come after the file's own older keys.
 * Throws KeyConfigError with a message that names the source and what was expected.
 */
export async function loadKeyring(options: LoadKeyringOptions): Promise<LoadedKeyring> {
  const { keyFile } = options;
  const fallbackKeys: LabelledKey[] = (options.fallbacks ?? [])
    .map((text, index) => ({ text: text.trim(), origin: `Entry ${index + 1} of ${ENV_FALLBACKS_NAME}` }))
    .filter((key) => key.text !== '');

  const envKey = options.key?.trim();
  if (envKey) {
    return {
      keyring: buildKeyring([{ text: envKey, origin: ENV_KEY_NAME }, ...fallbackKeys]),
      source: 'env',
      warnings: [],
    };
  }

  let existing = await readKeyFile(keyFile);
  if (existing === null) {
    if (!options.createIfMissing) {
      throw new KeyConfigError(
        `No master key: ${ENV_KEY_NAME} is not set and the key file ${keyFile} does not exist.`,
      );
    }
    const newKey = generateFernetKey();
    let created: boolean;
    try {
      created = await createKeyFile(keyFile, newKey);
    } catch (error) {
      throw new KeyConfigError(`Cannot create the key file ${keyFile}: ${errorMessage(error)}`);
    }
    if (created) {
      return {
        keyring: buildKeyring([{ text: newKey, origin: 'The new key' }, ...fallbackKeys]),
        source: 'created',
        warnings: [],
      };
    }
    // Another process created the file between our read and our create: use its key.
    existing = await readKeyFile(keyFile);
    if (existing === null) {
      throw new KeyConfigError(`The key file ${keyFile} disappeared while it was being loaded.`);
    }
  }

  const fileKeys = parseKeyFile(existing.content, keyFile);
  if (fileKeys.length === 0) {
    throw new KeyConfigError(
      `The key file ${keyFile} holds no key: ${EXPECTED_KEY_TEXT}, on its first line that is not a comment.`,
    );
  }
  return {
    keyring: buildKeyring([...fileKeys, ...fallbackKeys]),
    source: 'file',
    warnings: existing.warnings,
  };
}
