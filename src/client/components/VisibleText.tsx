import { splitBidiControls } from '../linkify.js';

/** User text as text nodes, with every bidi control shown as a visible token (linkify.ts). */
export function VisibleText({ text }: { text: string }) {
  return (
    <>
      {splitBidiControls(text).map((part) =>
        'control' in part ? (
          <span class="bidi-control" title={`A direction control (${part.control}) written in the text`}>
            {part.control}
          </span>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
