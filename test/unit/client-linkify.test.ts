/**
 * Link text that cannot lie: a link shows the host the browser will open, and bidi
 * controls are shown rather than obeyed (src/client/linkify.ts).
 */
import { describe, expect, it } from 'vitest';
import { linkify, splitBidiControls } from '../../src/client/linkify.js';

describe('link text shows the real host', () => {
  it('shows an IDN host in punycode, as the URL parser reads it', () => {
    expect(linkify('log in at https://\u0430pple.com/login now')).toEqual([
      { text: 'log in at ' },
      { text: 'https://xn--pple-43d.com/login', href: 'https://xn--pple-43d.com/login' },
      { text: ' now' },
    ]);
  });

  it('drops userinfo that dresses one host up as another, from text and href', () => {
    expect(linkify('https://example.com@evil.example/path')).toEqual([{ text: 'https://evil.example/path', href: 'https://evil.example/path' }]);
    expect(linkify('https://user:pw@evil.example')).toEqual([{ text: 'https://evil.example', href: 'https://evil.example/' }]);
  });

  it('treats a backslash as the end of the host, as the browser does', () => {
    expect(linkify('https://evil.example\\@google.com')).toEqual([
      { text: 'https://evil.example\\@google.com', href: 'https://evil.example/@google.com' },
    ]);
  });

  it('lowercases the host and keeps the typed path', () => {
    expect(linkify('HTTPS://Example.COM:8443/Ünïcode?q=1#top')).toEqual([
      { text: 'https://example.com:8443/Ünïcode?q=1#top', href: 'https://example.com:8443/%C3%9Cn%C3%AFcode?q=1#top' },
    ]);
  });
});

describe('bidi controls are shown, not obeyed', () => {
  it('turns every embedding, override and isolate into a visible token', () => {
    expect(splitBidiControls('a\u202Eb\u2066c\u2069')).toEqual([
      { text: 'a' },
      { control: 'U+202E' },
      { text: 'b' },
      { control: 'U+2066' },
      { text: 'c' },
      { control: 'U+2069' },
    ]);
  });

  it('leaves ordinary text, right-to-left scripts included, as it is', () => {
    expect(splitBidiControls('שלום hello')).toEqual([{ text: 'שלום hello' }]);
    expect(splitBidiControls('')).toEqual([{ text: '' }]);
  });
});
