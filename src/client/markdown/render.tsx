/**
 * Markdown tokens (tokens.ts) → Preact elements, for the safe subset a chat needs: bold,
 * italic, strikethrough, inline code, code blocks, quotes, lists and links. Everything
 * else — raw HTML, tables, link definitions — is shown as the text it was written as;
 * images become links; headings are bold paragraphs. Nothing here sets innerHTML: user
 * text only ever becomes text nodes, and links only http(s)/mailto (links.ts).
 */
import type { ComponentChildren } from 'preact';
import { linkify } from '../linkify.js';
import { VisibleText } from '../components/VisibleText.js';
import { CodeBlock } from './CodeBlock.js';
import { safeLink } from './links.js';
import { isSingleParagraph, mergeTextRuns, type Token, type Tokens } from './tokens.js';

/** Renders a plain run of text (no links in it): the seam for e.g. @mention highlighting. */
export type RenderText = (text: string) => ComponentChildren;

export const plainText: RenderText = (text) => <VisibleText text={text} />;

interface Context {
  renderText: RenderText;
  /** Inside a link's label: no links within links, so URLs stay text. */
  inLink: boolean;
}

/** A message body's tokens; a lone paragraph renders inline, with no block wrapper. */
export function MarkdownBody({ tokens, renderText = plainText }: { tokens: readonly Token[]; renderText?: RenderText }) {
  const ctx: Context = { renderText, inLink: false };
  if (isSingleParagraph(tokens)) return <>{inline(tokens[0].tokens, ctx)}</>;
  return <>{blocks(tokens, ctx)}</>;
}

function blocks(tokens: readonly Token[], ctx: Context): ComponentChildren[] {
  return tokens.map((token) => block(token, ctx));
}

function block(token: Token, ctx: Context): ComponentChildren {
  switch (token.type) {
    case 'space':
      return null;
    case 'paragraph':
      return <p class="md-p">{inline((token as Tokens.Paragraph).tokens, ctx)}</p>;
    case 'heading':
      // A chat is not a document: a heading is a bold line.
      return <p class="md-p fw-bold">{inline((token as Tokens.Heading).tokens, ctx)}</p>;
    case 'code':
      return <CodeBlock code={(token as Tokens.Code).text} lang={(token as Tokens.Code).lang} />;
    case 'blockquote':
      return <blockquote class="md-quote">{blocks((token as Tokens.Blockquote).tokens, ctx)}</blockquote>;
    case 'list':
      return list(token as Tokens.List, ctx);
    case 'hr':
      return <hr class="md-hr" />;
    case 'text': {
      // A tight list item's text, with its inline tokens.
      const text = token as Tokens.Text;
      return <span>{text.tokens ? inline(text.tokens, ctx) : textRun(text.text, ctx)}</span>;
    }
    case 'checkbox':
      return textRun((token as Tokens.Checkbox).checked ? '[x] ' : '[ ] ', ctx);
    default:
      // Raw HTML, tables, link definitions and anything unknown: the text as written.
      return <p class="md-p">{textRun(token.raw.replace(/\n+$/, ''), ctx)}</p>;
  }
}

function list(token: Tokens.List, ctx: Context): ComponentChildren {
  const items = token.items.map((item) => <li>{blocks(item.tokens, ctx)}</li>);
  if (!token.ordered) return <ul class="md-list">{items}</ul>;
  const start = typeof token.start === 'number' && token.start !== 1 ? token.start : undefined;
  return (
    <ol class="md-list" start={start}>
      {items}
    </ol>
  );
}

function inline(tokens: readonly Token[] | undefined, ctx: Context): ComponentChildren[] {
  return mergeTextRuns(tokens ?? []).map((token) => inlineToken(token, ctx));
}

function inlineToken(token: Token, ctx: Context): ComponentChildren {
  switch (token.type) {
    case 'text': {
      const text = token as Tokens.Text;
      return text.tokens ? inline(text.tokens, ctx) : textRun(text.text, ctx);
    }
    case 'strong':
      return <strong>{inline((token as Tokens.Strong).tokens, ctx)}</strong>;
    case 'em':
      return <em>{inline((token as Tokens.Em).tokens, ctx)}</em>;
    case 'del':
      return <del>{inline((token as Tokens.Del).tokens, ctx)}</del>;
    case 'codespan':
      return (
        <code class="md-code-inline">
          <VisibleText text={(token as Tokens.Codespan).text} />
        </code>
      );
    case 'br':
      // A line break as the newline it was: the body is pre-wrap, and its text stays as written.
      return '\n';
    case 'link':
      return link(token as Tokens.Link, ctx);
    case 'image':
      return image(token as Tokens.Image, ctx);
    default:
      // Inline HTML (`<img onerror>`, `<script>`) and anything unknown: its text, as written.
      return textRun(token.raw, ctx);
  }
}

function link(token: Tokens.Link, ctx: Context): ComponentChildren {
  const target = ctx.inLink ? null : safeLink(token.href, token.text);
  if (!target) return textRun(token.raw, ctx);
  const label = target.destination === null ? <VisibleText text={target.shown} /> : inline(token.tokens, { ...ctx, inLink: true });
  return anchor(target.href, label, target.destination);
}

/** Images are never loaded (no tracking pixels, no layout jumps): a link to them instead. */
function image(token: Tokens.Image, ctx: Context): ComponentChildren {
  const target = ctx.inLink ? null : safeLink(token.href, token.text);
  if (!target) return textRun(token.raw, ctx);
  const label = `Image${token.text ? `: ${token.text}` : ''}`;
  return anchor(target.href, <VisibleText text={label} />, target.destination ?? new URL(target.href).host);
}

function anchor(href: string, label: ComponentChildren, destination: string | null): ComponentChildren {
  return (
    <a href={href} target="_blank" rel="noopener noreferrer" dir="ltr">
      {label}
      {destination !== null && (
        <span class="link-host">
          {' ('}
          <VisibleText text={destination} />)
        </span>
      )}
    </a>
  );
}

/** Plain text: bare http(s) URLs become links (linkify.ts), the rest goes to renderText. */
function textRun(text: string, ctx: Context): ComponentChildren {
  if (ctx.inLink) return <VisibleText text={text} />;
  return linkify(text).map((part) =>
    part.href ? anchor(part.href, <VisibleText text={part.text} />, null) : ctx.renderText(part.text),
  );
}
