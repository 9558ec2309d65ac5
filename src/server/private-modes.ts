/**
 * The data folder and the database files kept to this user (0700, 0600). Only what the
 * process owns is narrowed: a folder it may use but not own (a Docker volume, `DATA_DIR=.`)
 * is left as it is with a warning, so a deployment that works is never stopped over a mode.
 */
import { chmodSync, statSync } from 'node:fs';

/** The file system calls narrowing needs; tests pass their own. */
export interface ModeFs {
  stat(path: string): { uid: number; mode: number };
  chmod(path: string, mode: number): void;
}

const nodeFs: ModeFs = { stat: (path) => statSync(path), chmod: (path, mode) => chmodSync(path, mode) };

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');
const errorCode = (error: unknown) => (error as NodeJS.ErrnoException)?.code;

/**
 * Takes group and others' access to `path` away (sets `mode`) when it exists and has any.
 * Returns a warning naming it and its mode when that is not done: another user owns it, or
 * changing its mode is refused (EPERM, or EROFS on a read-only file system). Other failures throw.
 */
export function narrowMode(path: string, mode: number, options: { fs?: ModeFs; uid?: number | undefined } = {}): string | undefined {
  const fs = options.fs ?? nodeFs;
  const uid = 'uid' in options ? options.uid : process.getuid?.();
  let found: { uid: number; mode: number };
  try {
    found = fs.stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  if ((found.mode & 0o077) === 0) return undefined;
  const advice = `left as it is; make it private to the server's user (chmod ${octal(mode).slice(1)} ${path})`;
  // Another user's folder is theirs to set, even where root could change it.
  if (uid !== undefined && found.uid !== uid) {
    return `${path} is open to other users (mode ${octal(found.mode)}) and owned by uid ${found.uid}, not this process's uid ${uid}: ${advice}.`;
  }
  try {
    fs.chmod(path, mode);
    return undefined;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'EPERM' || code === 'EROFS') return `${path} is open to other users (mode ${octal(found.mode)}) and cannot be narrowed (${code}): ${advice}.`;
    throw error;
  }
}
