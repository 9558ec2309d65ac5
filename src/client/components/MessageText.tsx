import { MentionText } from './MentionText.js';
/**
 * A message body, as Markdown (the safe subset: markdown/render.tsx), rendered to elements
 * and never to HTML. The entry point every view uses for user-written message text.
 * `renderText` renders the plain runs between links and markup (the seam for mentions).
 */
import { useMemo } from 'preact/hooks';
import { MarkdownBody, type RenderText } from '../markdown/render.js';
import { lexMarkdown } from '../markdown/tokens.js';

export type { RenderText } from '../markdown/render.js';

/** Plain runs of a body: @mentions of members highlighted (components/MentionText.tsx). */
const mentionRuns: RenderText = (text) => <MentionText text={text} />;

export function MessageText({ text, renderText = mentionRuns }: { text: string; renderText?: RenderText }) {
  // Lexing is the costly part; a message re-renders far more often than its body changes.
  const tokens = useMemo(() => lexMarkdown(text), [text]);
  return <MarkdownBody tokens={tokens} renderText={renderText} />;
}
