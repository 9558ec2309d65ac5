/**
 * Message Markdown, rendered by real Preact into a minimal DOM (test/support/mini-dom.ts)
 * and read back as HTML: the safe subset becomes its elements, and hostile input (raw
 * HTML, script URLs, images) stays text or a checked http(s) link.
 */
import { h, render } from 'preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageText } from '../../src/client/components/MessageText.js';
import { safeLink } from '../../src/client/markdown/links.js';
import { miniContainer, toHtml, type MiniElement } from '../support/mini-dom.js';

function rendered(text: string, renderText?: (text: string) => preact.ComponentChildren): { html: string; root: MiniElement } {
  const root = miniContainer();
  render(h(MessageText, { text, renderText }), root as unknown as Element);
  return { html: toHtml(root), root };
}
const html = (text: string) => rendered(text).html;

/** Every element the renderer may produce for any input (no on* attribute, no src, no style). */
const ALLOWED = new Set(['p', 'strong', 'em', 'del', 'code', 'pre', 'br', 'hr', 'blockquote', 'ul', 'ol', 'li', 'a', 'span', 'div', 'button']);

function elementsOf(root: MiniElement) {
  return root.findAll(() => true);
}

afterEach(() => vi.unstubAllGlobals());

describe('Markdown in messages', () => {
  it('renders plain text as text, with no wrapper', () => {
    expect(html('hello there')).toBe('hello there');
  });

  it('renders bold, italic, strikethrough and inline code', () => {
    expect(html('**bold** *it* _it2_ ~~gone~~ `x < y`')).toBe(
      '<strong>bold</strong> <em>it</em> <em>it2</em> <del>gone</del> <code class="md-code-inline">x &lt; y</code>',
    );
  });

  it('nests emphasis', () => {
    expect(html('***both*** **bold *and it***')).toBe(
      '<em><strong>both</strong></em> <strong>bold <em>and it</em></strong>',
    );
  });

  it('renders quotes, lists and several paragraphs as blocks', () => {
    expect(html('> quoted\n\n- one\n- two\n\n3. three\n4. four\n\nend')).toBe(
      '<blockquote class="md-quote"><p class="md-p">quoted</p></blockquote>' +
        '<ul class="md-list"><li><span>one</span></li><li><span>two</span></li></ul>' +
        '<ol class="md-list" start="3"><li><span>three</span></li><li><span>four</span></li></ol>' +
        '<p class="md-p">end</p>',
    );
  });

  it('keeps single line breaks', () => {
    expect(html('line one\nline two')).toBe('line one\nline two');
    expect(html('**a**\nb')).toBe('<strong>a</strong>\nb');
  });

  it('renders a heading as a bold paragraph, not a heading', () => {
    expect(html('# Big\n\ntext')).toBe('<p class="md-p fw-bold">Big</p><p class="md-p">text</p>');
  });

  it('renders a fenced code block in pre/code with a Copy button, HTML inside it as text', () => {
    const { html: out } = rendered('```html\n<script>alert(1)</script>\n  indented\n```');
    expect(out).toContain('<pre class="mb-0" tabIndex="0"><code>&lt;script&gt;alert(1)&lt;/script&gt;\n  indented</code></pre>');
    expect(out).toContain('<span class="text-body-secondary">html</span>');
    expect(out).toContain('data-testid="copy-code"');
  });

  it('copies the code with the Clipboard API and says so', async () => {
    const written: string[] = [];
    vi.stubGlobal('navigator', { clipboard: { writeText: async (text: string) => void written.push(text) } });
    const { root } = rendered('```\nnpm run build\n```');
    const [button] = root.byTestId('copy-code');
    expect(button!.textContent).toContain('Copy');
    button!.dispatch('click');
    await vi.waitFor(() => expect(button!.textContent).toContain('Copied'));
    expect(written).toEqual(['npm run build']);
  });

  it('links http(s) URLs, written bare, in <> or as [text](url), showing the real host', () => {
    expect(html('see https://example.com/a_b_c.')).toBe(
      'see <a href="https://example.com/a_b_c" target="_blank" rel="noopener noreferrer" dir="ltr">https://example.com/a_b_c</a>.',
    );
    expect(html('<https://example.com@evil.example/>')).toBe(
      '<a href="https://evil.example/" target="_blank" rel="noopener noreferrer" dir="ltr">https://evil.example/</a>',
    );
    expect(html('[my bank](https://\u0430pple.com/login)')).toBe(
      '<a href="https://xn--pple-43d.com/login" target="_blank" rel="noopener noreferrer" dir="ltr">my bank<span class="link-host"> (xn--pple-43d.com)</span></a>',
    );
    expect(html('[**bold** link](https://example.com)')).toContain('<strong>bold</strong> link<span class="link-host"> (example.com)</span></a>');
    expect(html('[mail me](mailto:ada@example.com)')).toBe(
      '<a href="mailto:ada@example.com" target="_blank" rel="noopener noreferrer" dir="ltr">mail me<span class="link-host"> (ada@example.com)</span></a>',
    );
  });

  it('shows bidi controls in text, code and links as visible tokens', () => {
    expect(html('a\u202Eb `c\u202Ed`')).toBe(
      'a<span class="bidi-control" title="A direction control (U+202E) written in the text">U+202E</span>b ' +
        '<code class="md-code-inline">c<span class="bidi-control" title="A direction control (U+202E) written in the text">U+202E</span>d</code>',
    );
  });

  it('passes plain runs (not links, not code) to renderText: the seam for mentions', () => {
    const runs: string[] = [];
    const out = rendered('hi @ada, see https://example.com and `@code`', (text) => {
      runs.push(text);
      return h('mark', null, text);
    }).html;
    expect(runs).toEqual(['hi @ada, see ', ' and ']);
    expect(out).toContain('<mark>hi @ada, see </mark>');
  });
});

describe('hostile Markdown', () => {
  const HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">click</a>',
    '[click](javascript:alert(4))',
    '[click](JaVaScRiPt:alert(5))',
    '[click](  javascript:alert(6))',
    '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==)',
    '<javascript:alert(8)>',
    '![x](javascript:alert(9))',
    '![tracker](https://evil.example/pixel.gif)',
    '[x](vbscript:msgbox(10))',
    '<div onmouseover="alert(11)">\n\n*x*\n\n</div>',
    '<style>body{display:none}</style>',
    '**<img src=x onerror=alert(12)>**',
    '```\n</code></pre><script>alert(13)</script>\n```',
    '[a](https://ok.example "title\\" onmouseover=\\"alert(14)")',
    '<svg onload=alert(15)>',
    '&lt;script&gt;alert(16)&lt;/script&gt;',
  ];

  it.each(HOSTILE)('%s renders no element outside the safe set, and no script URL', (text) => {
    const { root } = rendered(text);
    for (const element of elementsOf(root)) {
      expect(ALLOWED.has(element.localName), element.localName).toBe(true);
      for (const [name, value] of element.attributes) {
        expect(name.startsWith('on'), name).toBe(false);
        expect(['src', 'style', 'srcdoc'].includes(name), name).toBe(false);
        if (name === 'href') expect(value).toMatch(/^(https?:|mailto:)/);
      }
    }
  });

  it('shows raw HTML and refused links as the text that was written', () => {
    expect(rendered('<script>alert(1)</script>').root.textContent).toBe('<script>alert(1)</script>');
    expect(rendered('<img src=x onerror="alert(2)">').root.textContent).toBe('<img src=x onerror="alert(2)">');
    expect(html('[click](javascript:alert(4))')).toBe('[click](javascript:alert(4))');
    expect(html('&lt;b&gt; &amp;')).toBe('&amp;lt;b&amp;gt; &amp;amp;');
  });

  it('turns an image into a link to it, never an <img>', () => {
    expect(html('![tracker](https://evil.example/pixel.gif)')).toBe(
      '<a href="https://evil.example/pixel.gif" target="_blank" rel="noopener noreferrer" dir="ltr">Image: tracker<span class="link-host"> (evil.example)</span></a>',
    );
  });

  it('keeps a link title out of the markup', () => {
    expect(html('[a](https://ok.example "title\\" onmouseover=\\"alert(14)")')).toBe(
      '<a href="https://ok.example/" target="_blank" rel="noopener noreferrer" dir="ltr">a<span class="link-host"> (ok.example)</span></a>',
    );
  });
});

describe('safeLink', () => {
  it('allows only http, https and mailto', () => {
    expect(safeLink('javascript:alert(1)', 'x')).toBeNull();
    expect(safeLink('data:text/html,x', 'x')).toBeNull();
    expect(safeLink('ftp://example.com/', 'x')).toBeNull();
    expect(safeLink('/relative', 'x')).toBeNull();
    expect(safeLink('mailto:%E0%A4%A', 'x')).toBeNull();
    expect(safeLink('https://example.com', 'https://example.com')).toEqual({ href: 'https://example.com/', shown: 'https://example.com', destination: null });
  });

  it('names the real host when the text is something else, even another URL', () => {
    expect(safeLink('https://evil.example/', 'https://google.com')).toMatchObject({ shown: 'https://google.com', destination: 'evil.example' });
  });
});
