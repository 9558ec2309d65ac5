/**
 * `securechat`: the operator's command line.
 *   securechat serve            start the server (same as npm start)
 *   securechat migrate          bring the database schema up to date
 *   securechat keys generate    print a new master key
 *   securechat keys rotate      re-encrypt everything under the primary key
 *   securechat search reindex   build the search index again, here and on every running instance
 */
import { generateFernetKey } from '../server/crypto/fernet.js';
import { openPlatform, readConfig, StartupError } from '../server/boot.js';
import { openDatabase } from '../server/db/database.js';
import { migrateToLatest } from '../server/db/migrate.js';
import { RotationBusyError, withRotationLock } from '../server/keys/rotation-lock.js';
import { buildSearchIndex } from '../server/search/search-indexer.js';
import { createSearchRepository } from '../server/search/search.repository.js';
import { createProgressBar } from './progress.js';

const USAGE = `Usage: securechat <command>

Commands:
  serve           Start the server (configured by the environment; see README).
  migrate         Apply pending database migrations.
  keys generate   Print a new master encryption key.
  keys rotate     Re-encrypt every stored ciphertext (file contents too) under the primary key.
                  First give every instance the new key as MASTER_ENCRYPTION_KEY and the
                  old one in MASTER_ENCRYPTION_KEY_FALLBACKS (or new key first in the key
                  file) and restart them; then run this. Safe to stop and run again;
                  one at a time (a second one exits 5 while one runs).
  search reindex  Build the search index from the database here (a check that every
                  message decrypts, with its size), then have every running instance
                  build its own again (within 5 seconds; the old one answers meanwhile).
`;

async function run(args: string[]): Promise<number> {
  const [command, subcommand] = args;
  switch (command) {
    case 'serve':
      await import('../server/main.js');
      return -1; // the server keeps the process alive
    case 'migrate': {
      const config = readConfig();
      const database = openDatabase(config.database);
      try {
        const applied = await migrateToLatest(database.db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'keys':
      if (subcommand === 'generate') {
        console.log(generateFernetKey());
        return 0;
      }
      if (subcommand === 'rotate') return rotate();
      break;
    case 'search':
      if (subcommand === 'reindex') return reindex();
      break;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
  }
  console.error(`securechat: unknown command "${args.join(' ')}"\n\n${USAGE}`);
  return 2;
}

async function rotate(): Promise<number> {
  const services = await openPlatform(readConfig());
  try {
    const bar = createProgressBar('Re-encrypting');
    let result: Awaited<ReturnType<typeof services.keys.rotate>>;
    try {
      result = await withRotationLock(services.database, () => services.keys.rotate({ onProgress: ({ done, total }) => bar.update(done, total) }));
    } catch (error) {
      if (!(error instanceof RotationBusyError)) throw error;
      console.error(`securechat: ${error.message}`);
      return 5;
    }
    bar.finish();
    console.log(`Re-encrypted ${result.reencrypted} ciphertexts (file chunks included) under key ${services.keyring.primaryKeyId}.`);
    if (result.brokenFiles) {
      console.log(
        `${result.brokenFiles.length} stored files have a missing or incomplete blob and stay under their old key: ${result.brokenFiles.join(', ')}. ` +
          'Restore them from a backup of the data folder (or the database), then run this again.',
      );
      return 4;
    }
    if (result.remaining > 0) {
      console.log(
        `${result.remaining} were written under an older key meanwhile (an instance still has the old primary key); ` +
          'restart every instance with the new key and run this again.',
      );
      return 3;
    }
    console.log('Every ciphertext is now under the primary key; the old key may be removed from the fallbacks.');
    return 0;
  } finally {
    await services.database.close();
  }
}

async function reindex(): Promise<number> {
  const services = await openPlatform(readConfig());
  try {
    const repository = createSearchRepository();
    const bar = createProgressBar('Indexing');
    const started = Date.now();
    const { index, undecryptable } = await buildSearchIndex({ db: services.database.db, repository, keyring: services.keyring }, ({ done, total }) => bar.update(done, total));
    bar.finish();
    const stats = index.stats();
    console.log(`Indexed ${stats.messages} messages (${stats.words} distinct words, about ${Math.round(stats.bytes / 2 ** 20)} MiB of memory) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    await repository.bumpGeneration(services.database.db);
    console.log('Every running instance builds its index again within 5 seconds; each answers from its old one until its new one is built.');
    if (undecryptable > 0) {
      console.log(`${undecryptable} messages could not be decrypted with the keys given and are not searchable: is a fallback key missing?`);
      return 3;
    }
    return 0;
  } finally {
    await services.database.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(`securechat: ${error instanceof StartupError ? error.message : (error as Error).stack}`);
    process.exit(1);
  },
);
