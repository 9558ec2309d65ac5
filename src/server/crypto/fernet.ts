/**
 * Fernet tokens, version 0x80, exactly as the published spec (github.com/fernet/spec)
 * and Python's `cryptography.fernet` write them, so a token made here decrypts there
 * and the other way round:
 *
 *   base64url( 0x80 ‖ timestamp (u64 BE) ‖ IV (16) ‖ AES-128-CBC-PKCS7(msg) ‖ HMAC-SHA256 (32) )
 *
 * The 32-byte key is signing key (first 16 bytes) ‖ encryption key (last 16 bytes).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';

const VERSION = 0x80;
const VERSION_SIZE = 1;
const TIMESTAMP_SIZE = 8;
const IV_SIZE = 16;
const BLOCK_SIZE = 16;
const HMAC_SIZE = 32;
const HEADER_SIZE = VERSION_SIZE + TIMESTAMP_SIZE + IV_SIZE;
/** PKCS7 always adds at least one byte, so the shortest ciphertext is one block. */
const MIN_TOKEN_SIZE = HEADER_SIZE + BLOCK_SIZE + HMAC_SIZE;
const KEY_SIZE = 32;
/** Same tolerance as cryptography.fernet: with a TTL, a token may come from at most 60 s in the future. */
const MAX_CLOCK_SKEW_SECONDS = 60;
const BASE64URL_BODY = /^[A-Za-z0-9_-]*$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Why a token was refused; the message never says more than this. */
export type InvalidTokenReason =
  | 'malformed'
  | 'version'
  | 'signature'
  | 'expired'
  | 'future'
  | 'padding';

const REASON_MESSAGES: Record<InvalidTokenReason, string> = {
  malformed: 'Fernet token is not url-safe base64 of a complete token',
  version: 'Fernet token has an unknown version byte (expected 0x80)',
  signature: 'Fernet token signature does not match (tampered, or made with another key)',
  expired: 'Fernet token is older than the allowed time-to-live',
  future: 'Fernet token timestamp is too far in the future',
  padding: 'Fernet token plaintext padding is invalid',
};

/** A token that cannot be decrypted: tampered, truncated, wrong version, wrong key or expired. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor(readonly reason: InvalidTokenReason) {
    super(REASON_MESSAGES[reason]);
  }
}

/** A Fernet key string that is not url-safe base64 of exactly 32 bytes. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';

  constructor() {
    super(
      'A Fernet key must be url-safe base64 of exactly 32 bytes ' +
        '(44 characters from A-Z a-z 0-9 - _ ending in "=")',
    );
  }
}

/**
 * Decodes strict url-safe base64 (RFC 4648 §5), with or without `=` padding.
 * Refuses the standard alphabet's `+` and `/`, stray characters, impossible lengths and
 * non-zero trailing bits, so each valid byte string has exactly one accepted spelling
 * (up to padding). Returns null instead of throwing: callers map it to their own error.
 */
function decodeBase64Url(text: string): Buffer | null {
  let bodyLength = text.length;
  while (bodyLength > 0 && text.charCodeAt(bodyLength - 1) === 0x3d /* = */) bodyLength--;
  const paddingLength = text.length - bodyLength;
  const body = paddingLength === 0 ? text : text.slice(0, bodyLength);
  const lastGroupLength = bodyLength % 4;
  if (lastGroupLength === 1) return null;
  if (paddingLength > 0 && (paddingLength > 2 || text.length % 4 !== 0)) return null;
  if (!BASE64URL_BODY.test(body)) return null;
  if (lastGroupLength > 1) {
    // The last character carries 4 (2 chars) or 2 (3 chars) unused bits that must be zero.
    const unusedBitsMask = lastGroupLength === 2 ? 0b1111 : 0b11;
    if ((BASE64URL_ALPHABET.indexOf(body.charAt(bodyLength - 1)) & unusedBitsMask) !== 0) return null;
  }
  return Buffer.from(body, 'base64url');
}

/** Encodes url-safe base64 with `=` padding, as Python's base64.urlsafe_b64encode does. */
function encodeBase64UrlPadded(bytes: Buffer): string {
  const encoded = bytes.toString('base64url');
  const remainder = encoded.length % 4;
  return remainder === 0 ? encoded : encoded + (remainder === 2 ? '==' : '=');
}

// Module-private readers of a key's halves, so encrypt/decrypt can use them while the
// class exposes no way to get at the key material.
let signingKeyOf!: (key: FernetKey) => KeyObject;
let encryptionKeyOf!: (key: FernetKey) => KeyObject;

/** A parsed Fernet key. The key bytes live in private fields so logging the object shows nothing. */
export class FernetKey {
  readonly #keyBytes: Buffer;
  readonly #signingKey: KeyObject;
  readonly #encryptionKey: KeyObject;

  static {
    signingKeyOf = (key) => key.#signingKey;
    encryptionKeyOf = (key) => key.#encryptionKey;
  }

  private constructor(keyBytes: Buffer) {
    this.#keyBytes = keyBytes;
    this.#signingKey = createSecretKey(keyBytes.subarray(0, 16));
    this.#encryptionKey = createSecretKey(keyBytes.subarray(16, 32));
  }

  /** Parses a url-safe base64 key of 32 bytes (padding optional); throws InvalidKeyError otherwise. */
  static fromString(text: string): FernetKey {
    const keyBytes = typeof text === 'string' ? decodeBase64Url(text) : null;
    if (keyBytes === null || keyBytes.length !== KEY_SIZE) throw new InvalidKeyError();
    return new FernetKey(keyBytes);
  }

  /**
   * Derives an independent 32-byte sub-key (HKDF-SHA256 over the whole key, `label` as info),
   * for uses such as key ids and blind indexes that must never reuse the Fernet keys themselves.
   */
  deriveSubkey(label: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#keyBytes, Buffer.alloc(0), label, 32));
  }
}

/** Returns a new random Fernet key in the same text form as Python's Fernet.generate_key(). */
export function generateFernetKey(): string {
  return encodeBase64UrlPadded(randomBytes(KEY_SIZE));
}

/** Options for encryptFernet; `now` and `iv` exist for test vectors and must not be set in production. */
export interface EncryptFernetOptions {
  /** Token timestamp in unix seconds; defaults to the current time. */
  now?: number;
  /** 16-byte IV; defaults to a fresh random one (the spec requires a unique IV per token). */
  iv?: Buffer;
}

/** Encrypts `plaintext` (a string is taken as UTF-8) into a Fernet token string. */
// One call to the CSPRNG per 256 IVs rather than one per token: a system-level random
// read costs more than the rest of encrypting a short message. Each IV is used once.
const IV_POOL_SIZE = 256 * IV_SIZE;
const ivPool = Buffer.alloc(IV_POOL_SIZE);
let ivPoolOffset = IV_POOL_SIZE;

function takeRandomIv(target: Buffer): void {
  if (ivPoolOffset === IV_POOL_SIZE) {
    randomFillSync(ivPool);
    ivPoolOffset = 0;
  }
  ivPool.copy(target, 0, ivPoolOffset, ivPoolOffset + IV_SIZE);
  ivPoolOffset += IV_SIZE;
}

export function encryptFernet(
  key: FernetKey,
  plaintext: Buffer | string,
  options: EncryptFernetOptions = {},
): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(now) || now < 0) {
    throw new RangeError('Fernet timestamp must be a non-negative integer number of seconds');
  }
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header[0] = VERSION;
  header.writeUInt32BE(Math.floor(now / 2 ** 32), 1);
  header.writeUInt32BE(now >>> 0, 5);
  const iv = header.subarray(VERSION_SIZE + TIMESTAMP_SIZE);
  if (options.iv === undefined) {
    takeRandomIv(iv);
  } else if (options.iv.length === IV_SIZE) {
    options.iv.copy(iv);
  } else {
    throw new RangeError('Fernet IV must be 16 bytes');
  }

  const cipher = createCipheriv('aes-128-cbc', encryptionKeyOf(key), iv);
  const ciphertextHead = cipher.update(plaintext);
  const ciphertextTail = cipher.final();
  const mac = createHmac('sha256', signingKeyOf(key))
    .update(header)
    .update(ciphertextHead)
    .update(ciphertextTail)
    .digest();
  const tokenLength = HEADER_SIZE + ciphertextHead.length + ciphertextTail.length + HMAC_SIZE;
  return encodeBase64UrlPadded(
    Buffer.concat([header, ciphertextHead, ciphertextTail, mac], tokenLength),
  );
}

/** Options for decryptFernet. */
export interface DecryptFernetOptions {
  /** Refuse tokens older than this many seconds (and more than 60 s in the future). */
  ttlSeconds?: number;
  /** Current time in unix seconds for the TTL check; defaults to the clock. */
  now?: number;
}

/** Verifies and decrypts a Fernet token; throws InvalidTokenError for any bad token. */
export function decryptFernet(
  key: FernetKey,
  token: string,
  options: DecryptFernetOptions = {},
): Buffer {
  const data = typeof token === 'string' ? decodeBase64Url(token) : null;
  if (data === null || data.length < MIN_TOKEN_SIZE) throw new InvalidTokenError('malformed');
  if (data[0] !== VERSION) throw new InvalidTokenError('version');
  const macOffset = data.length - HMAC_SIZE;
  if ((macOffset - HEADER_SIZE) % BLOCK_SIZE !== 0) throw new InvalidTokenError('malformed');

  // Authenticate before trusting any field (timestamp included): encrypt-then-MAC.
  const expectedMac = createHmac('sha256', signingKeyOf(key))
    .update(data.subarray(0, macOffset))
    .digest();
  if (!timingSafeEqual(expectedMac, data.subarray(macOffset))) {
    throw new InvalidTokenError('signature');
  }

  if (options.ttlSeconds !== undefined) {
    const now = options.now ?? Math.floor(Date.now() / 1000);
    const timestamp = data.readUInt32BE(1) * 2 ** 32 + data.readUInt32BE(5);
    if (timestamp + options.ttlSeconds < now) throw new InvalidTokenError('expired');
    if (now + MAX_CLOCK_SKEW_SECONDS < timestamp) throw new InvalidTokenError('future');
  }

  const decipher = createDecipheriv(
    'aes-128-cbc',
    encryptionKeyOf(key),
    data.subarray(VERSION_SIZE + TIMESTAMP_SIZE, HEADER_SIZE),
  );
  // Unpad by hand: the ciphertext is whole blocks, so update() returns everything at once
  // and the plaintext is a view of that buffer (no concat). The MAC already vouched for it.
  decipher.setAutoPadding(false);
  const padded = decipher.update(data.subarray(HEADER_SIZE, macOffset));
  decipher.final();
  const paddingLength = padded[padded.length - 1] ?? 0;
  if (paddingLength < 1 || paddingLength > BLOCK_SIZE) throw new InvalidTokenError('padding');
  for (let i = padded.length - paddingLength; i < padded.length; i++) {
    if (padded[i] !== paddingLength) throw new InvalidTokenError('padding');
  }
  return padded.subarray(0, padded.length - paddingLength);
}
