// How the inbox writes values for people. Mirrors parley/conversations/format.py and enums.py.

export const DASH = '-';

/** 3725 -> "1h 02m 05s", 187 -> "3m 07s", 42 -> "42s"; null -> null. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return null;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (hours) return `${hours}h ${two(minutes)}m ${two(secs)}s`;
  if (minutes) return `${minutes}m ${two(secs)}s`;
  return `${secs}s`;
}

/** "no_answer" -> "No Answer". */
export function statusLabel(status) {
  return status.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

export function isGuest(userId) {
  return typeof userId === 'string' && userId.startsWith('guest_');
}

/** The viewer's IANA time zone, e.g. "America/New_York". */
export const viewerTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// Built once: constructing a DateTimeFormat per cell would dominate rendering 10,000 rows.
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });

export const localDate = (iso) => dateFormat.format(new Date(iso));
export const localTime = (iso) => timeFormat.format(new Date(iso));
export const localFull = (iso) => fullFormat.format(new Date(iso));
export const localDateTime = (iso) => dateTimeFormat.format(new Date(iso));

const two = (n) => String(n).padStart(2, '0');

/** A transcript offset as the detail page writes it: 65000 -> "01:05", 3725000 -> "1:02:05". */
export function formatOffset(ms) {
  const total = Math.floor(Math.max(ms || 0, 0) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

/** Time on a running clock: 125 -> "02:05", 3725 -> "1:02:05", 2 days -> "2d 00:00:00". */
export function formatElapsed(seconds) {
  const total = Math.max(Math.floor(seconds), 0);
  const days = Math.floor(total / 86400);
  const rest = total % 86400;
  if (!days) return formatOffset(rest * 1000);
  return `${days}d ${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}`;
}

/** 1234567 -> "1.2 MB", as the detail page writes a recording's size. */
export function formatBytes(size) {
  let value = size;
  for (const unit of ['B', 'KB', 'MB']) {
    if (value < 1000) return unit === 'B' ? `${value.toFixed(0)} ${unit}` : `${value.toFixed(1)} ${unit}`;
    value /= 1000;
  }
  return `${value.toFixed(1)} GB`;
}
