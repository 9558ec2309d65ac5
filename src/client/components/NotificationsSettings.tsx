/**
 * Settings: "Desktop notifications". The browser is asked for permission only when the
 * switch is turned on — never on load — and a refusal is said plainly.
 */
import { useState } from 'preact/hooks';
import { desktopNotificationsOn, setDesktopNotifications } from '../core/alerts.js';

export function NotificationsSettings() {
  const supported = typeof Notification !== 'undefined';
  const [on, setOn] = useState(() => supported && desktopNotificationsOn());
  const [refused, setRefused] = useState(false);

  async function toggle(wanted: boolean) {
    const now = await setDesktopNotifications(wanted);
    setOn(now);
    setRefused(wanted && !now);
  }

  return (
    <section class="card mb-4" aria-labelledby="notifications-heading">
      <div class="card-body">
        <h2 class="h5 card-title" id="notifications-heading">
          Notifications
        </h2>
        <div class="form-check form-switch">
          <input
            class="form-check-input"
            type="checkbox"
            role="switch"
            id="desktop-notifications"
            data-testid="desktop-notifications"
            checked={on}
            disabled={!supported}
            onChange={(event) => void toggle(event.currentTarget.checked)}
          />
          <label class="form-check-label" for="desktop-notifications">
            Desktop notifications
          </label>
        </div>
        <p class="small text-body-secondary mb-0 mt-1">
          {supported
            ? "While SecureChat's tab is hidden, messages that match a room's notification level (set in the room's header) show as notifications."
            : 'This browser does not support notifications.'}
        </p>
        {refused && (
          <p class="small text-danger mb-0 mt-1" role="alert">
            The browser did not allow notifications; allow them in its site settings, then try again.
          </p>
        )}
      </div>
    </section>
  );
}
