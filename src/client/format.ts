/** Display formatting for times and counts. */

// The browser's default locale decides 12- or 24-hour time: no hour12 or hourCycle is set.
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "14:05" (or "2:05 PM", by locale) today, "Mar 3, 14:05" otherwise. */
export function formatMessageTime(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? timeFormat.format(date) : dayTimeFormat.format(date);
}

/** "Tuesday, March 3, 2026 at 14:05", for tooltips. */
export function formatFullTime(iso: string): string {
  return fullFormat.format(new Date(iso));
}

/** Just the time of day, by the locale's clock: "14:05" or "2:05 PM". */
export function formatTimeOfDay(iso: string): string {
  return timeFormat.format(new Date(iso));
}

/** A date separator's label: "Today", "Yesterday", "Monday, March 2" (with the year if not this one). */
export function formatDayLabel(day: Date, now: Date = new Date()): string {
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const startOfDay = new Date(day.getFullYear(), day.getMonth(), day.getDate());
  const daysAgo = Math.round((startOfToday.getTime() - startOfDay.getTime()) / 86_400_000);
  if (daysAgo === 0) return 'Today';
  if (daysAgo === 1) return 'Yesterday';
  return (day.getFullYear() === now.getFullYear() ? dayFormat : dayWithYearFormat).format(day);
}

export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** "1 member", "3 members". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
