/**
 * Narrowing a path's mode: only what this process owns is changed; a path owned by another
 * user, or whose mode may not be changed (EPERM, EROFS), is left as it is with a warning
 * naming it and its mode, instead of stopping the start.
 */
import { describe, expect, it } from 'vitest';
import { narrowMode, type ModeFs } from '../../src/server/private-modes.js';

const ME = 1000;

function fakeFs(entry: { uid: number; mode: number } | 'missing', chmodError?: string) {
  const chmods: Array<[string, number]> = [];
  const fs: ModeFs = {
    stat: () => {
      if (entry === 'missing') throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return entry;
    },
    chmod: (path, mode) => {
      if (chmodError) throw Object.assign(new Error(`chmod failed: ${chmodError}`), { code: chmodError });
      chmods.push([path, mode]);
    },
  };
  return { fs, chmods };
}

describe('narrowMode', () => {
  it('narrows a folder this process owns that others can read', () => {
    const { fs, chmods } = fakeFs({ uid: ME, mode: 0o40755 });
    expect(narrowMode('/srv/data', 0o700, { fs, uid: ME })).toBeUndefined();
    expect(chmods).toEqual([['/srv/data', 0o700]]);
  });

  it('leaves a private or missing path alone', () => {
    for (const entry of [{ uid: ME, mode: 0o40700 }, { uid: 0, mode: 0o100600 }, 'missing'] as const) {
      const { fs, chmods } = fakeFs(entry);
      expect(narrowMode('/srv/data', 0o700, { fs, uid: ME })).toBeUndefined();
      expect(chmods).toEqual([]);
    }
  });

  it("does not change another user's folder, and says so with its mode", () => {
    const { fs, chmods } = fakeFs({ uid: 0, mode: 0o40755 });
    const warning = narrowMode('/app', 0o700, { fs, uid: ME });
    expect(chmods).toEqual([]);
    expect(warning).toBe(
      "/app is open to other users (mode 0755) and owned by uid 0, not this process's uid 1000: left as it is; make it private to the server's user (chmod 700 /app).",
    );
  });

  it('warns instead of failing when changing the mode is refused (EPERM, read-only file system)', () => {
    for (const code of ['EPERM', 'EROFS']) {
      const { fs } = fakeFs({ uid: ME, mode: 0o100644 }, code);
      expect(narrowMode('/srv/data/securechat.db', 0o600, { fs, uid: ME })).toBe(
        `/srv/data/securechat.db is open to other users (mode 0644) and cannot be narrowed (${code}): left as it is; make it private to the server's user (chmod 600 /srv/data/securechat.db).`,
      );
    }
  });

  it('throws on any other failure', () => {
    const { fs } = fakeFs({ uid: ME, mode: 0o40755 }, 'EIO');
    expect(() => narrowMode('/srv/data', 0o700, { fs, uid: ME })).toThrow(/EIO/);
  });

  it('without a uid to compare (Windows) just tries', () => {
    const { fs, chmods } = fakeFs({ uid: 0, mode: 0o40755 });
    expect(narrowMode('/srv/data', 0o700, { fs, uid: undefined })).toBeUndefined();
    expect(chmods).toEqual([['/srv/data', 0o700]]);
  });
});
