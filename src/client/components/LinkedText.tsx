import { linkify } from '../linkify.js';
import { VisibleText } from './VisibleText.js';

/**
 * Plain user text (a room description) with http(s) URLs as links that open a new tab and
 * show their real host (linkify.ts). Each link is its own left-to-right isolate (`dir="ltr"`),
 * so text around it cannot reorder it. Message bodies use MessageText (Markdown) instead.
 */
export function LinkedText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((part) =>
        part.href ? (
          <a href={part.href} target="_blank" rel="noopener noreferrer" dir="ltr">
            <VisibleText text={part.text} />
          </a>
        ) : (
          <VisibleText text={part.text} />
        ),
      )}
    </>
  );
}
