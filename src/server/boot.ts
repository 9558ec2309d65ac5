/**
 * Start-up steps shared by the server and the CLI: configuration, database (migrated),
 * keyring (verified against the data), session secret. Each failure is a StartupError
 * whose message is the one line an operator needs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js';
import { KeyConfigError, loadKeyring, type Keyring } from './crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { sqliteFiles } from './db/sqlite.js';
import { createFileStorages } from './files/storages.js';
import { createKeysRepository } from './keys/keys.repository.js';
import { createKeysService, KeyMismatchError, type KeysService } from './keys/keys.service.js';
import { narrowMode } from './private-modes.js';

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export interface Platform {
  config: Config;
  database: DatabaseHandle;
  keyring: Keyring;
  keys: KeysService;
  warnings: string[];
  /** Lines for the operator at start (a key file just created, to back up). */
  notices: string[];
}

/** Reads the environment (and .env) into a Config, or throws a StartupError. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    loadDotEnv();
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new StartupError(error.message);
    throw error;
  }
}

/**
 * Opens the database, loads the keyring and proves it reads the data, then migrates.
 * A database that already holds data is checked against the key before anything is
 * written to it (migrations included), and only a database never keyed gets a new key file.
 */
export async function openPlatform(config: Config): Promise<Platform> {
  const modeWarnings = keepDataPrivate(config);
  const database = openDatabase(config.database);
  const where = config.database.dialect === 'sqlite' ? config.database.file : 'DATABASE_URL';
  try {
    const keysRepository = createKeysRepository(config.database.dialect);
    let keyed: boolean;
    try {
      const tables = await database.db.introspection.getTables();
      keyed = tables.some((table) => table.name === 'key_canary') && (await keysRepository.readCanary(database.db)) !== undefined;
    } catch (error) {
      throw new StartupError(`Cannot open the database (${where}): ${(error as Error).message}`);
    }

    let loaded: Awaited<ReturnType<typeof loadKeyring>>;
    try {
      loaded = await loadKeyring({
        key: config.masterKey,
        fallbacks: config.masterKeyFallbacks,
        keyFile: config.masterKeyFile,
        createIfMissing: !config.production && !keyed,
      });
    } catch (error) {
      if (error instanceof KeyConfigError) throw new StartupError(error.message);
      throw error;
    }
    const { keyring, warnings } = loaded;
    const notices =
      loaded.source === 'created'
        ? [`Created a new master key in ${config.masterKeyFile} (mode 0600). Back it up now: without it nothing stored can be read.`]
        : [];
    const storages = createFileStorages(config.files, database.db);
    const keys = createKeysService({ db: database.db, keys: keysRepository, keyring, clock: systemClock, storages });
    if (keyed) await verifyKeys(keys);
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      throw new StartupError(`Cannot migrate the database (${where}): ${(error as Error).message}`);
    }
    if (!keyed) await verifyKeys(keys);
    return { config, database, keyring, keys, warnings: [...modeWarnings, ...warnings], notices };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * The data folder (database, key file, session secret) 0700 and SQLite's files 0600, before
 * the database opens: files left wider by an older version are narrowed. What the process
 * does not own or may not change is a warning (private-modes.ts), not a failed start.
 */
function keepDataPrivate(config: Config): string[] {
  const targets: Array<[string, number]> = [[config.dataDir, 0o700]];
  if (config.database.dialect === 'sqlite') for (const file of sqliteFiles(config.database.file)) targets.push([file, 0o600]);
  const warnings: string[] = [];
  for (const [target, mode] of targets) {
    try {
      const warning = narrowMode(target, mode);
      if (warning) warnings.push(warning);
    } catch (error) {
      throw new StartupError(`Cannot make ${target} private (mode ${mode.toString(8).padStart(4, '0')}): ${(error as Error).message}`);
    }
  }
  return warnings;
}

async function verifyKeys(keys: KeysService): Promise<void> {
  try {
    await keys.verify();
  } catch (error) {
    if (error instanceof KeyMismatchError) throw new StartupError(error.message);
    throw error;
  }
}

/** SESSION_SECRET, or in development a random one kept in the data folder (mode 0600). */
export async function sessionSecretFor(config: Config): Promise<string> {
  if (config.sessionSecret) return config.sessionSecret;
  const file = path.join(config.dataDir, 'session.secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw error;
  }
}
