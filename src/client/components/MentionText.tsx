/** Text with its @mentions of members highlighted (the rules: shared/mentions.ts); a mention of me stands out more. */
import { splitMentions } from '../../shared/mentions.js';
import { useMessageContext } from './message-context.js';
import { VisibleText } from './VisibleText.js';

export function MentionText({ text }: { text: string }) {
  const context = useMessageContext();
  if (!text.includes('@')) return <VisibleText text={text} />;
  const known = (name: string) => !context?.memberKeys || context.memberKeys.has(name.toLowerCase());
  return (
    <>
      {splitMentions(text, known).map((part) =>
        part.mention ? (
          <span class={`mention${part.mention === context?.selfKey ? ' mention-self' : ''}`} data-testid="mention">
            <VisibleText text={part.text} />
          </span>
        ) : (
          <VisibleText text={part.text} />
        ),
      )}
    </>
  );
}
