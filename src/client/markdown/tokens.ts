/**
 * Message Markdown as tokens (marked's lexer), never as HTML: the renderer (render.tsx)
 * turns each token into Preact elements itself, so user text can only become the elements
 * it chooses. Bare URLs are left to linkify.ts (the link rules shared with plain text),
 * not to marked's GFM URL detection, so a link looks the same written either way.
 */
import { Lexer, Tokenizer, type Token, type Tokens } from 'marked';

export type { Token, Tokens };

/** marked's tokenizer minus bare-URL/e-mail detection: returning undefined hands the text on. */
class ChatTokenizer extends Tokenizer {
  override url(): undefined {
    return undefined;
  }
}

const OPTIONS = { gfm: true, breaks: true, tokenizer: new ChatTokenizer() };

/** The block tokens of a message body. */
export function lexMarkdown(body: string): Token[] {
  return new Lexer(OPTIONS).lex(body);
}

/**
 * Joins runs of adjacent text and escape tokens: marked splits text where emphasis might
 * start (`_`, `*`), which would cut a URL in two before linkify sees it.
 */
export function mergeTextRuns(tokens: readonly Token[]): Token[] {
  const merged: Token[] = [];
  for (const token of tokens) {
    const previous = merged.at(-1);
    if (isPlainText(token) && previous && isPlainText(previous)) {
      merged[merged.length - 1] = { type: 'text', raw: previous.raw + token.raw, text: previous.text + token.text };
    } else {
      merged.push(isPlainText(token) ? { type: 'text', raw: token.raw, text: token.text } : token);
    }
  }
  return merged;
}

function isPlainText(token: Token): token is Tokens.Text | Tokens.Escape {
  return (token.type === 'text' && !('tokens' in token && token.tokens)) || token.type === 'escape';
}

/** Whether a body is a single paragraph of inline text (rendered without a block wrapper). */
export function isSingleParagraph(tokens: readonly Token[]): tokens is [Tokens.Paragraph] {
  return tokens.length === 1 && tokens[0]!.type === 'paragraph';
}
