/** A membership change between messages: a small centred grey line ("alice joined"). */
import type { RoomEvent } from '../../shared/protocol.js';

export function eventText(event: RoomEvent): string {
  const who = event.user.username;
  const by = event.actor && event.actor.id !== event.user.id ? event.actor.username : null;
  switch (event.change) {
    case 'joined':
      return by ? `${who} was added by ${by}` : `${who} joined`;
    case 'left':
      return `${who} left`;
    case 'removed':
      return by ? `${who} was removed by ${by}` : `${who} was removed`;
  }
}

export function TimelineEvent({ event }: { event: RoomEvent }) {
  return (
    <li class="text-center text-body-secondary small py-1" data-testid="timeline-event" data-change={event.change}>
      {eventText(event)}
    </li>
  );
}
