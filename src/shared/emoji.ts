/**
 * What a reaction may be: one emoji (a single grapheme made only of emoji code points,
 * joiners and variation selectors, with at least one pictograph, flag or keycap in it).
 * Shared by the server's validation and the client's picker. A reasonable check, not
 * Unicode's full emoji list: it keeps out text, not every unusual sequence.
 */
/** The longest emoji (UTF-16 units) a reaction may be; the most distinct emoji on one message. */
export const EMOJI_MAX = 32;
export const REACTIONS_PER_MESSAGE_MAX = 20;

/** The picker's choices: text emoji, nothing fetched. */
export const COMMON_EMOJI = ['👍', '👎', '😄', '🎉', '😕', '❤️', '🚀', '👀', '🙏', '😂', '🔥', '✅'] as const;

const ONLY_EMOJI_PARTS = /^(?:\p{Emoji}|\p{Emoji_Component}|\p{Emoji_Modifier}|\u200d|\ufe0f|\u20e3|[\u{e0020}-\u{e007f}])+$/u;
const HAS_PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
// Tag characters are invisible and can carry hidden text; the only emoji using them are the
// subdivision flags (🏴 + a lowercase region code in tags + CANCEL TAG), so nothing else may hold one.
const HAS_TAG = /[\u{e0000}-\u{e007f}]/u;
const TAG_FLAG = /^\u{1f3f4}[\u{e0030}-\u{e0039}\u{e0061}-\u{e007a}]{1,7}\u{e007f}$/u;

let segmenter: Intl.Segmenter | undefined;

/** Whether `text` is one emoji a reaction may use. */
export function isReactionEmoji(text: string): boolean {
  if (text.length === 0 || text.length > EMOJI_MAX) return false;
  if (!ONLY_EMOJI_PARTS.test(text) || !HAS_PICTURE.test(text)) return false;
  if (HAS_TAG.test(text) && !TAG_FLAG.test(text)) return false;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let graphemes = 0;
  for (const _ of segmenter.segment(text)) if (++graphemes > 1) return false;
  return graphemes === 1;
}
