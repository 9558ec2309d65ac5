import { avatarHue, initials } from '../avatar.js';

/** A colored circle with a person's initials; decorative, as their name is written beside it. */
export function Avatar({ user }: { user: { id: string; username: string } }) {
  // Mid lightness and saturation keep white initials readable (≥ 4.5:1) on every hue, in both themes.
  return (
    <span class="avatar" aria-hidden="true" style={{ backgroundColor: `hsl(${avatarHue(user.id)} 55% 30%)` }}>
      {initials(user.username)}
    </span>
  );
}
