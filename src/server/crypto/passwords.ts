/**
 * Password hashes in Werkzeug's text format, so hashes move both ways between this app
 * and the Flask original:
 *
 *   scrypt:<N>:<r>:<p>$<salt>$<hex of 64 bytes>          (what we write)
 *   pbkdf2:<hash>:<iterations>$<salt>$<hex of digest>    (verified, then upgraded)
 *
 * As in Werkzeug, the salt is used as its UTF-8 text (not decoded) and the password as UTF-8.
 * Hashing runs on libuv's thread pool (async scrypt/pbkdf2), never on the event loop.
 */
import { pbkdf2, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { COMMON_PASSWORDS } from './common-passwords.js';
import { HashingRefusedError, processHashingQueue, type HashingQueue } from './hashing-queue.js';

const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  keyLength: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** scrypt cost parameters. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** The parameters new hashes are written with (Werkzeug's default `scrypt:32768:8:1`). */
export const PASSWORD_HASH_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 32768, r: 8, p: 1 });

/** Result of checking a password against a stored hash. */
export interface PasswordCheck {
  ok: boolean;
  /** The password was right but the hash uses an older method or other parameters: store a new hash. */
  needsRehash: boolean;
}

/**
 * Hashes and verifies passwords with one set of scrypt parameters, through a hashing queue
 * (crypto/hashing-queue.ts): `owner` is the account the work is for, bounded per account;
 * a refused job throws HashingRefusedError.
 */
export interface PasswordHasher {
  hash(password: string, owner?: string): Promise<string>;
  verify(password: string, stored: string, owner?: string): Promise<PasswordCheck>;
}

// Werkzeug's gen_salt: 16 characters drawn uniformly from letters and digits.
const SALT_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SALT_LENGTH = 16;
/** hashlib.scrypt's default dklen, which Werkzeug relies on. */
const SCRYPT_KEY_LENGTH = 64;
/** What Werkzeug assumes for a bare `scrypt` method. */
const WERKZEUG_DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 32768, r: 8, p: 1 };
/** Werkzeug 3.1's iteration count for a `pbkdf2[:hash]` method that names none. */
const WERKZEUG_DEFAULT_PBKDF2_ITERATIONS = 1_000_000;
const PBKDF2_DIGEST_LENGTHS: Readonly<Record<string, number>> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};
// Ceilings for parameters read from storage: a corrupt or hostile stored hash must not be
// able to make one login take gigabytes of memory or minutes of CPU.
const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const DECIMAL = /^[0-9]{1,10}$/;
const LOWERCASE_HEX = /^(?:[0-9a-f]{2})+$/;

const NOT_OK: PasswordCheck = Object.freeze({ ok: false, needsRehash: false });

/** scrypt needs about 128·N·r bytes (plus 128·r·p); allow twice that so Node never refuses a valid cost. */
function scryptMaxmem({ N, r, p }: ScryptParams): number {
  return 2 * 128 * N * r * p;
}

function isUsableScryptParams({ N, r, p }: ScryptParams): boolean {
  return (
    Number.isSafeInteger(N) &&
    Number.isSafeInteger(r) &&
    Number.isSafeInteger(p) &&
    N > 1 &&
    (N & (N - 1)) === 0 &&
    r >= 1 &&
    p >= 1 &&
    128 * N * r * p <= MAX_SCRYPT_MEMORY_BYTES
  );
}

function generateSalt(): string {
  let salt = '';
  for (let i = 0; i < SALT_LENGTH; i++) salt += SALT_ALPHABET.charAt(randomInt(SALT_ALPHABET.length));
  return salt;
}

function deriveScrypt(password: string, salt: string, params: ScryptParams): Promise<Buffer> {
  return scryptAsync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), SCRYPT_KEY_LENGTH, {
    ...params,
    maxmem: scryptMaxmem(params),
  });
}

/** Parses `N:r:p` (or nothing, meaning Werkzeug's defaults); null when malformed. */
function parseScryptArgs(args: readonly string[]): ScryptParams | null {
  if (args.length === 0) return WERKZEUG_DEFAULT_SCRYPT_PARAMS;
  if (args.length !== 3 || !args.every((arg) => DECIMAL.test(arg))) return null;
  const [N, r, p] = args.map(Number) as [number, number, number];
  return isUsableScryptParams({ N, r, p }) ? { N, r, p } : null;
}

/** Parses `[hash[:iterations]]` the way Werkzeug does; null when malformed or unsupported. */
function parsePbkdf2Args(args: readonly string[]): { digest: string; iterations: number } | null {
  if (args.length > 2) return null;
  const digest = args[0] ?? 'sha256';
  if (PBKDF2_DIGEST_LENGTHS[digest] === undefined) return null;
  const iterationsText = args[1];
  if (iterationsText === undefined) return { digest, iterations: WERKZEUG_DEFAULT_PBKDF2_ITERATIONS };
  if (!DECIMAL.test(iterationsText)) return null;
  const iterations = Number(iterationsText);
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return null;
  return { digest, iterations };
}

/**
 * Returns a hasher that writes `scrypt:N:r:p` hashes with the given parameters. Production code
 * uses hashPassword/verifyPassword; other parameters are for tests and benchmarks only.
 */
export function createPasswordHasher(params: ScryptParams, queue: HashingQueue = processHashingQueue): PasswordHasher {
  if (!isUsableScryptParams(params)) {
    throw new RangeError('scrypt parameters must have N a power of two above 1, r >= 1 and p >= 1');
  }
  const current: ScryptParams = { N: params.N, r: params.r, p: params.p };
  const method = `scrypt:${current.N}:${current.r}:${current.p}`;

  async function hash(password: string, owner?: string): Promise<string> {
    const salt = generateSalt();
    const derived = await queue.run(owner, () => deriveScrypt(password, salt, current));
    return `${method}$${salt}$${derived.toString('hex')}`;
  }

  async function verify(password: string, stored: string, owner?: string): Promise<PasswordCheck> {
    if (typeof stored !== 'string') return NOT_OK;
    // Werkzeug splits on the first two `$`: the salt cannot hold one, the hash part would not be hex.
    const parts = stored.split('$');
    if (parts.length !== 3) return NOT_OK;
    const [methodText, salt, expectedHex] = parts as [string, string, string];
    if (!LOWERCASE_HEX.test(expectedHex)) return NOT_OK;
    const expected = Buffer.from(expectedHex, 'hex');
    const [name, ...args] = methodText.split(':');

    let derived: Buffer;
    let sameAsCurrent: boolean;
    try {
      if (name === 'scrypt') {
        const storedParams = parseScryptArgs(args);
        if (storedParams === null || expected.length !== SCRYPT_KEY_LENGTH) return NOT_OK;
        derived = await queue.run(owner, () => deriveScrypt(password, salt, storedParams));
        sameAsCurrent =
          storedParams.N === current.N && storedParams.r === current.r && storedParams.p === current.p;
      } else if (name === 'pbkdf2') {
        const pbkdf2Params = parsePbkdf2Args(args);
        if (pbkdf2Params === null) return NOT_OK;
        const keyLength = PBKDF2_DIGEST_LENGTHS[pbkdf2Params.digest] as number;
        if (expected.length !== keyLength) return NOT_OK;
        derived = await queue.run(owner, () =>
          pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), pbkdf2Params.iterations, keyLength, pbkdf2Params.digest),
        );
        sameAsCurrent = false;
      } else {
        return NOT_OK;
      }
    } catch (error) {
      // A refused turn is not a wrong password: the caller answers "busy".
      if (error instanceof HashingRefusedError) throw error;
      // e.g. the platform refuses the memory a stored scrypt cost asks for.
      return NOT_OK;
    }

    if (!timingSafeEqual(derived, expected)) return NOT_OK;
    // A short salt (hand-made or legacy hash) is also worth replacing once we know the password.
    return { ok: true, needsRehash: !sameAsCurrent || salt.length < SALT_LENGTH };
  }

  return { hash, verify };
}

const productionHasher = createPasswordHasher(PASSWORD_HASH_PARAMS);

/** Hashes a password as `scrypt:32768:8:1$<salt>$<hex>` (Werkzeug's generate_password_hash format). */
export const hashPassword: (password: string) => Promise<string> = productionHasher.hash;

/**
 * Checks a password against a stored Werkzeug scrypt or pbkdf2 hash in constant time. Never
 * throws for a bad stored hash (that is `ok: false`); `needsRehash` is only set when `ok` is.
 */
export const verifyPassword: (password: string, stored: string) => Promise<PasswordCheck> =
  productionHasher.verify;

const COMMON_PASSWORD_SET: ReadonlySet<string> = new Set(
  COMMON_PASSWORDS.map((password) => password.toLowerCase()),
);

/** Whether the password is on the list of the most common passwords, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return COMMON_PASSWORD_SET.has(password.toLowerCase());
}
