/**
 * Configuration: the environment (and an optional `.env` file) turned into one typed,
 * validated Config. A wrong value stops the process with one line naming the variable
 * and what it expects; development needs no configuration at all.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { LIMITS } from '../shared/protocol.js';

export type DatabaseTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Which X-Forwarded-* to believe (Fastify's trustProxy): none; the client address this many
 * proxies in front saw (1: the address nginx saw, whatever the client wrote before it), on a
 * connection from a private or loopback address only (http/security.ts); or the one left of
 * the last hop that is not one of these proxy addresses or CIDR ranges.
 */
export type TrustProxy = false | number | string[];

export interface Config {
  production: boolean;
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseTarget;
  masterKey: string | undefined;
  masterKeyFallbacks: string[];
  masterKeyFile: string;
  /** Undefined in development: main.ts then keeps a generated secret in the data folder. */
  sessionSecret: string | undefined;
  trustProxy: TrustProxy;
  forceHttps: boolean;
  passwordMinLength: number;
  sessionTtlDays: number;
  sessionIdleHours: number;
  messageMaxLength: number;
  /** Open WebSocket connections one user may have on one instance; one more is closed with 4429. */
  maxSocketsPerUser: number;
  /** Memory for recently read message bodies, so reading them again skips decryption; 0 turns it off. */
  messageCacheMb: number;
  rateLimits: RateLimitsConfig;
  logLevel: LogLevel;
  /** The site's own origin for redirects, invite links and WebSocket Origin checks; required in production, else derived from the request when unset. */
  publicUrl: string | undefined;
  /** Redis for the fan-out bus and presence between instances (`redis://` or `rediss://`); unset: PostgreSQL or in-process. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  /** Bearer token that opens GET /metrics to other hosts; unset: this host (loopback) only. */
  metricsToken: string | undefined;
  /** A request's whole body must have arrived by then (http/connection-limits.ts). */
  requestTimeoutSeconds: number;
  /** A request's headers must have arrived by then; at most requestTimeoutSeconds. */
  headersTimeoutSeconds: number;
  /** Connections open at once, WebSockets included; those over it are closed as they arrive. */
  maxConnections: number;
  files: FilesConfig;
  /** `memory`: each instance keeps a search index in memory (built at start); `off`: GET /search answers 503. */
  searchIndex: 'memory' | 'off';
}

/** Attachments: where their encrypted chunks go and how much one may upload. */
export interface FilesConfig {
  /** 'local': the data folder (`folder`); 'database': the file_chunks table, shared by every instance. */
  storage: 'local' | 'database';
  folder: string;
  /** The largest file, in MiB (FILE_MAX_MB). */
  maxMb: number;
  /** What one user's files may add up to, in MiB (FILE_QUOTA_MB). */
  quotaMb: number;
  /** Uploads per user per minute, per instance. */
  uploadsPerMinute: number;
}

/** Requests allowed per window; past them the API answers 429 with Retry-After. */
export interface RateLimitsConfig {
  /** Sign-in and password-change attempts per client IP per minute (accounts are also throttled after failures). */
  loginPerMinute: number;
  /** Wrong passwords for one account from one client IP before each further attempt waits (1 s, doubling to 15 min). */
  signInFailuresPerAddress: number;
  /** Wrong passwords for one account from all IPs together before every attempt at it waits (the same delays). */
  signInFailuresPerAccount: number;
  /** Registrations per client IP per hour. */
  registerPerHour: number;
  /** Messages sent per user per minute, over HTTP and WebSocket together. */
  messagesPerMinute: number;
  /** WebSocket frames per connection per minute. */
  framesPerMinute: number;
  /** People searches (GET /users?q=) per user per minute, per instance. */
  userSearchesPerMinute: number;
  /** Message searches (GET /search) per user per minute, per instance. */
  searchesPerMinute: number;
  /** DMs opened (POST /dms) per user per minute, per instance. */
  dmOpensPerMinute: number;
  /** Invite links looked at (GET /invites/:code, signed out too) per client IP per minute: codes cannot be guessed by trying. */
  invitePreviewsPerMinute: number;
}

/** A bad configuration value; its message is the one line printed before exiting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}").`);
  }
  return value;
}

/** The words a true/false setting accepts (lower case); TRUST_PROXY takes them too. */
const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (TRUE_WORDS.includes(raw)) return true;
  if (FALSE_WORDS.includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${env[name]}").`);
}

/** proxy-addr's names for the private ranges: 127/8 and ::1; 169.254/16 and fe80::/10; 10/8, 172.16/12, 192.168/16 and fc00::/7. */
export const PRIVATE_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, a CIDR range (`10.0.0.0/8`, `fd00::/8`) or one of proxy-addr's names. */
function isProxyAddress(text: string): boolean {
  if (PRIVATE_RANGE_NAMES.includes(text) || isIP(text) !== 0) return true;
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  return family !== 0 && rest.length === 0 && prefix !== undefined && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function trustProxy(env: Env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  const lower = raw.toLowerCase();
  if (lower === '' || FALSE_WORDS.includes(lower)) return false;
  // One proxy, the one in front: never the leftmost address, which the client writes.
  if (TRUE_WORDS.includes(lower)) return 1;
  if (/^\d+$/.test(raw) && Number(raw) <= 10) return Number(raw);
  const addresses = raw.split(',').map((part) => part.trim()).filter(Boolean);
  if (addresses.length > 0 && addresses.every(isProxyAddress)) return addresses;
  throw new ConfigError(
    `TRUST_PROXY must be false, the number of proxies in front (1 to 10; 1 for one nginx), or a comma-separated list of the proxies' addresses or CIDR ranges (got "${env.TRUST_PROXY}").`,
  );
}

function databaseTarget(env: Env, dataDir: string): DatabaseTarget {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { dialect: 'sqlite', file: path.join(dataDir, 'securechat.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    // sqlite:relative/file.db, sqlite:///absolute/file.db
    const file = url.replace(/^sqlite:(\/\/)?/, '');
    if (!file) throw new ConfigError('DATABASE_URL=sqlite:<file> needs a file path.');
    return { dialect: 'sqlite', file: path.resolve(file) };
  }
  throw new ConfigError('DATABASE_URL must start with postgres://, postgresql:// or sqlite: (see README).');
}

/** Reads and validates the configuration; throws ConfigError on the first bad value. */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(env.DATA_DIR?.trim() || 'data');

  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${env.LOG_LEVEL}").`);
  }

  const sessionSecret = env.SESSION_SECRET?.trim() || undefined;
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError('SESSION_SECRET must be at least 32 characters of random text (try `openssl rand -hex 32`).');
  }
  const masterKey = env.MASTER_ENCRYPTION_KEY?.trim() || undefined;
  if (production && !sessionSecret) {
    throw new ConfigError('SESSION_SECRET is required when NODE_ENV=production.');
  }
  if (production && !masterKey && !env.MASTER_KEY_FILE?.trim()) {
    throw new ConfigError('MASTER_ENCRYPTION_KEY or MASTER_KEY_FILE is required when NODE_ENV=production.');
  }

  const publicUrl = env.PUBLIC_URL?.trim().replace(/\/+$/, '') || undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+$/.test(publicUrl)) {
    throw new ConfigError(`PUBLIC_URL must be an origin like https://chat.example.com (got "${env.PUBLIC_URL}").`);
  }
  // Redirects and invite links would otherwise name whatever Host a request claimed.
  if (production && publicUrl === undefined) {
    throw new ConfigError('PUBLIC_URL is required when NODE_ENV=production: the origin users reach the site at, like https://chat.example.com.');
  }

  const host = env.HOST?.trim() || '0.0.0.0';

  const redisUrl = env.REDIS_URL?.trim() || undefined;
  // The URL may hold a password: the message never repeats it.
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379.');
  }
  if (redisUrl !== undefined && !URL.canParse(redisUrl)) {
    throw new ConfigError('REDIS_URL is not a valid URL; expected redis://[user:password@]host[:port][/db].');
  }
  const redisPrefix = env.REDIS_PREFIX?.trim() || 'securechat';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError(`REDIS_PREFIX must be 1 to 64 letters, digits or _.:- (got "${env.REDIS_PREFIX}").`);
  }

  const metricsToken = env.METRICS_TOKEN?.trim() || undefined;
  // The message never repeats the token.
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,256}$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN must be 16 to 256 printable characters without spaces (try `openssl rand -hex 32`).');
  }

  const requestTimeoutSeconds = integer(env, 'REQUEST_TIMEOUT_SECONDS', 30, 1, 3600);
  const headersTimeoutSeconds = integer(env, 'HEADERS_TIMEOUT_SECONDS', Math.min(15, requestTimeoutSeconds), 1, 3600);
  if (headersTimeoutSeconds > requestTimeoutSeconds) {
    throw new ConfigError(`HEADERS_TIMEOUT_SECONDS (${headersTimeoutSeconds}) may not be more than REQUEST_TIMEOUT_SECONDS (${requestTimeoutSeconds}).`);
  }

  return {
    production,
    host,
    port: integer(env, 'PORT', 3000, 0, 65535),
    dataDir,
    database: databaseTarget(env, dataDir),
    masterKey,
    masterKeyFallbacks: (env.MASTER_ENCRYPTION_KEY_FALLBACKS ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean),
    masterKeyFile: path.resolve(env.MASTER_KEY_FILE?.trim() || path.join(dataDir, 'master.key')),
    sessionSecret,
    trustProxy: trustProxy(env),
    forceHttps: flag(env, 'FORCE_HTTPS', false),
    passwordMinLength: integer(env, 'PASSWORD_MIN_LENGTH', 8, 6, 128),
    sessionTtlDays: integer(env, 'SESSION_TTL_DAYS', 30, 1, 3650),
    sessionIdleHours: integer(env, 'SESSION_IDLE_HOURS', 72, 1, 24 * 3650),
    messageMaxLength: integer(env, 'MESSAGE_MAX_LENGTH', 4000, 1, LIMITS.messageMaxCeiling),
    messageCacheMb: integer(env, 'MESSAGE_CACHE_MB', 32, 0, 1024),
    maxSocketsPerUser: integer(env, 'MAX_SOCKETS_PER_USER', 20, 1, 10_000),
    rateLimits: {
      loginPerMinute: integer(env, 'RATE_LIMIT_LOGIN_PER_MINUTE', 20, 1, 1_000_000),
      signInFailuresPerAddress: integer(env, 'RATE_LIMIT_SIGN_IN_FAILURES_PER_IP', 5, 1, 1_000_000),
      signInFailuresPerAccount: integer(env, 'RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT', 50, 1, 1_000_000),
      registerPerHour: integer(env, 'RATE_LIMIT_REGISTER_PER_HOUR', 20, 1, 1_000_000),
      messagesPerMinute: integer(env, 'RATE_LIMIT_MESSAGES_PER_MINUTE', 300, 1, 100_000_000),
      framesPerMinute: integer(env, 'RATE_LIMIT_FRAMES_PER_MINUTE', 1200, 1, 100_000_000),
      userSearchesPerMinute: integer(env, 'RATE_LIMIT_USER_SEARCH_PER_MINUTE', 120, 1, 100_000_000),
      searchesPerMinute: integer(env, 'RATE_LIMIT_SEARCH_PER_MINUTE', 60, 1, 100_000_000),
      dmOpensPerMinute: integer(env, 'RATE_LIMIT_DMS_PER_MINUTE', 30, 1, 100_000_000),
      invitePreviewsPerMinute: integer(env, 'RATE_LIMIT_INVITE_PREVIEWS_PER_MINUTE', 30, 1, 1_000_000),
    },
    logLevel,
    publicUrl,
    redisUrl,
    redisPrefix,
    metricsToken,
    requestTimeoutSeconds,
    headersTimeoutSeconds,
    maxConnections: integer(env, 'MAX_CONNECTIONS', 20_000, 1, 1_000_000),
    files: filesConfig(env, dataDir),
    searchIndex: searchIndexMode(env),
  };
}

function searchIndexMode(env: Env): Config['searchIndex'] {
  const mode = env.SEARCH_INDEX?.trim() || 'memory';
  if (mode !== 'memory' && mode !== 'off') throw new ConfigError(`SEARCH_INDEX must be memory or off (got "${env.SEARCH_INDEX}").`);
  return mode;
}

function filesConfig(env: Env, dataDir: string): FilesConfig {
  const storage = env.FILE_STORAGE?.trim() || 'local';
  if (storage !== 'local' && storage !== 'database') {
    throw new ConfigError(`FILE_STORAGE must be local or database (got "${env.FILE_STORAGE}").`);
  }
  return {
    storage,
    folder: path.resolve(env.FILES_DIR?.trim() || path.join(dataDir, 'files')),
    maxMb: integer(env, 'FILE_MAX_MB', 25, 1, 10_240),
    quotaMb: integer(env, 'FILE_QUOTA_MB', 1024, 1, 10_485_760),
    uploadsPerMinute: integer(env, 'RATE_LIMIT_UPLOADS_PER_MINUTE', 60, 1, 100_000_000),
  };
}

/** Loads `.env` from the working folder into process.env (never overriding real variables). */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
