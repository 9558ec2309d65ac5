import { linkify } from '../linkify.js';
import { MentionText } from './MentionText.js';
import { VisibleText } from './VisibleText.js';

/**
 * A message body as text nodes, with http(s) URLs as links that open a new tab. Each link
 * is its own left-to-right isolate (`dir="ltr"`), so text around it cannot reorder it.
 */
export function MessageText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((part) =>
        part.href ? (
          <a href={part.href} target="_blank" rel="noopener noreferrer" dir="ltr">
            <VisibleText text={part.text} />
          </a>
        ) : (
          <MentionText text={part.text} />
        ),
      )}
    </>
  );
}
