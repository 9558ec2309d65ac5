import { describe, expect, it } from 'vitest';
import { linkify } from '../../src/client/linkify.js';
import { loginPath, matchRoute, roomPath, safeNextPath } from '../../src/client/paths.js';

describe('client routes', () => {
  it('maps every client path to its screen', () => {
    expect(matchRoute('/')).toEqual({ name: 'landing' });
    expect(matchRoute('/login', '?next=%2Fsettings')).toEqual({ name: 'login', next: '/settings' });
    expect(matchRoute('/register')).toEqual({ name: 'register', next: null });
    expect(matchRoute('/chat')).toEqual({ name: 'chat', roomId: null });
    expect(matchRoute('/chat/')).toEqual({ name: 'chat', roomId: null });
    expect(matchRoute('/chat/r%201')).toEqual({ name: 'chat', roomId: 'r 1' });
    expect(matchRoute('/settings')).toEqual({ name: 'settings' });
    expect(matchRoute('/invite/abc123')).toEqual({ name: 'invite', code: 'abc123' });
  });

  it('shows "not found" for anything else', () => {
    expect(matchRoute('/chat/a/b')).toEqual({ name: 'not-found' });
    expect(matchRoute('/invite')).toEqual({ name: 'not-found' });
    expect(matchRoute('/chat/%E0%A4%A')).toEqual({ name: 'not-found' });
    expect(matchRoute('/admin')).toEqual({ name: 'not-found' });
  });

  it('builds paths that round-trip through the router', () => {
    expect(matchRoute(roomPath('a/b c'))).toEqual({ name: 'chat', roomId: 'a/b c' });
    const login = new URL(loginPath('/chat/r1?x=1'), 'http://localhost');
    expect(matchRoute(login.pathname, login.search)).toEqual({ name: 'login', next: '/chat/r1?x=1' });
  });
});

describe('the login redirect target (no open redirect)', () => {
  it('accepts paths on this site', () => {
    expect(safeNextPath('/chat')).toBe('/chat');
    expect(safeNextPath('/chat/r1?x=1#m5')).toBe('/chat/r1?x=1#m5');
    expect(safeNextPath('/invite/abc')).toBe('/invite/abc');
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['protocol-relative', '//evil.example/chat'],
    ['backslash authority', '/\\evil.example'],
    ['backslash later', '/chat\\..\\\\evil.example'],
    ['absolute URL', 'https://evil.example/'],
    ['javascript URL', 'javascript:alert(1)'],
    ['relative path', 'chat'],
    ['tab that URL parsing drops', '/\t/evil.example'],
    ['newline', '/\n/evil.example'],
    ['dot segment before a second slash', '/.//evil.example'],
    ['dot-dot segment before a second slash', '/..//evil.example'],
    ['dot-dot segment later', '/chat/..//evil.example/x'],
    ['percent-encoded dot segment', '/%2e//evil.example'],
  ])('refuses a %s target', (_, next) => {
    expect(safeNextPath(next)).toBeNull();
  });

  it.each(['/.//evil.example', '/\\evil.example', '//evil.example', '/%2F%2Fevil.example', '/%2e%2e//evil.example', '/chat/./x', '/a/../chat'])(
    'answers only a path that stays on this site once a browser reads it (%s)',
    (next) => {
      const safe = safeNextPath(next);
      if (safe === null) return;
      expect(safe).toMatch(/^\/(?![\/\\])/);
      expect(new URL(safe, 'https://chat.example.com').origin).toBe('https://chat.example.com');
    },
  );

  it('normalises dot segments and keeps encoded slashes inside a segment', () => {
    expect(safeNextPath('/a/../chat')).toBe('/chat');
    expect(safeNextPath('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
  });
});

describe('message auto-linking', () => {
  it('leaves text without links as one plain part', () => {
    expect(linkify('hello <b>world</b>')).toEqual([{ text: 'hello <b>world</b>' }]);
  });

  it('links http and https URLs and trims sentence punctuation', () => {
    expect(linkify('see https://example.com/a?b=1. and http://x.test')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: '. and ' },
      { text: 'http://x.test', href: 'http://x.test/' },
    ]);
  });

  it('never links other schemes', () => {
    expect(linkify('javascript:alert(1) data:text/html,x')).toEqual([{ text: 'javascript:alert(1) data:text/html,x' }]);
  });

  it('stops a URL at quotes and angle brackets', () => {
    expect(linkify('"https://a.test/x"<')).toEqual([
      { text: '"' },
      { text: 'https://a.test/x', href: 'https://a.test/x' },
      { text: '"<' },
    ]);
  });
});
