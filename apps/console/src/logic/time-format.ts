/**
 * Times as the console shows them: in the browser's zone (or a job's zone),
 * with the exact UTC instant for the hover title, and short durations.
 * Pure functions over Intl so they are tested with a fixed zone.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(key, format);
  }
  return format;
}

/** `2030-01-01 09:00:00` on the wall clock of `timeZone` (default: the browser's). */
export function wallTime(iso: string | number, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const parts = Object.fromEntries(
    formatIn(timeZone)
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** The exact instant for a title attribute: `2030-01-01T08:00:00.000Z UTC`. */
export function utcTitle(iso: string | number): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : `${date.toISOString()} UTC`;
}

/** `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 07 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 3_600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** `in 5 min`, `12 s ago`, `now`: how far `iso` is from `now`. */
export function relative(iso: string | number, now: number): string {
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return '—';
  const delta = at - now;
  if (Math.abs(delta) < 1_000) return 'now';
  // Minutes need no seconds beside them.
  const text = duration(Math.abs(delta)).replace(/ min \d+ s$/, ' min');
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** The time between two instants, or since `from` when `to` is absent (a running task). */
export function elapsed(from: string | null, to: string | null, now: number): string {
  if (from === null) return '—';
  return duration((to === null ? now : Date.parse(to)) - Date.parse(from));
}
