/**
 * UTC offsets of IANA time zones, read from the platform's Intl time-zone
 * database (ICU), for the cron arithmetic in `cron-schedule.ts`.
 *
 * Intl only answers "what does the clock show at instant t" and costs several
 * microseconds per question, so a zone's timeline is probed once per 32-day
 * chunk (one probe per day, then a bisection to the exact second of every
 * offset change) and cached. The leader then answers "offset at t" and "next
 * offset change after t" from memory.
 *
 * Assumption (true of every zone in tzdata since 1970): two offset changes are
 * more than a day apart. A pair of changes inside one probe day that cancel
 * out would go unseen; non-cancelling ones are all found.
 *
 * Every replica computes the same answers only if they run the same tzdata
 * (same Node/ICU build): a zone rule change that one replica knows about and
 * another does not moves fire instants.
 */

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;
/** Chunk length: whole days, so every probe lands on a whole second. */
const CHUNK_DAYS = 32;
const CHUNK_MS = CHUNK_DAYS * DAY_MS;
/** Bound on cached chunks per zone (~280 years); the cache is dropped past it. */
const MAX_CHUNKS_PER_ZONE = 3_200;
/** More offset changes than this inside one probe day means the data is broken. */
const MAX_CHANGES_PER_PROBE = 8;

/** IANA names: letters, digits, `_ + -`, `/` separated; never an offset like `+05:00`. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const MAX_ZONE_NAME_LENGTH = 64;

/** An instant at which a zone's UTC offset changes (offsets in ms, local = utc + offset). */
export interface OffsetTransition {
  /** First instant (epoch ms, a whole second) that has `offsetAfter`. */
  readonly at: number;
  readonly offsetBefore: number;
  readonly offsetAfter: number;
}

interface Chunk {
  /** Offset in force just before the chunk starts. */
  readonly offsetBefore: number;
  /** Changes inside the chunk, ascending. */
  readonly transitions: readonly OffsetTransition[];
}

/** Timelines by canonical zone (links and spellings of one zone share one). */
const canonicalZones = new Map<string, ZoneOffsets>();
/** Spelling → timeline; bounded because spellings are user input (`utc`, `UtC`…). */
const zones = new Map<string, ZoneOffsets>();
const MAX_SPELLINGS = 4_096;

/**
 * Whether `timezone` names an IANA zone the platform knows (`UTC`,
 * `Europe/Berlin`, links such as `US/Eastern`). Rejects `''`, surrounding
 * spaces, numeric offsets and unknown names.
 */
export function isValidTimeZone(timezone: string): boolean {
  if (typeof timezone !== 'string') return false;
  if (zones.has(timezone)) return true;
  if (timezone.length === 0 || timezone.length > MAX_ZONE_NAME_LENGTH) return false;
  if (!ZONE_NAME.test(timezone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The offset timeline of one zone; get one with `ZoneOffsets.of`. */
export class ZoneOffsets {
  /** True for UTC and its aliases (`Etc/UTC`, `GMT`…): offset 0 forever, no Intl at all. */
  readonly isUtc: boolean;
  private readonly chunks = new Map<number, Chunk>();
  private readonly format: Intl.DateTimeFormat | null;

  /** `timezone`: the canonical name Intl resolved. */
  private constructor(readonly timezone: string) {
    this.isUtc = timezone === 'UTC';
    this.format = this.isUtc
      ? null
      : new Intl.DateTimeFormat('en-US', {
          timeZone: timezone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** The shared timeline of `timezone`; throws a RangeError for an invalid zone. */
  static of(timezone: string): ZoneOffsets {
    let zone = zones.get(timezone);
    if (zone === undefined) {
      if (!isValidTimeZone(timezone)) throw new RangeError(`unknown time zone '${timezone}'`);
      const canonical = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions()
        .timeZone;
      zone = canonicalZones.get(canonical);
      if (zone === undefined) {
        zone = new ZoneOffsets(canonical);
        canonicalZones.set(canonical, zone);
      }
      if (zones.size >= MAX_SPELLINGS) zones.clear();
      zones.set(timezone, zone);
    }
    return zone;
  }

  /** UTC offset (ms) in force at `instant`. */
  offsetAt(instant: number): number {
    if (this.isUtc) return 0;
    const chunk = this.chunk(Math.floor(instant / CHUNK_MS));
    let offset = chunk.offsetBefore;
    for (const transition of chunk.transitions) {
      if (transition.at > instant) break;
      offset = transition.offsetAfter;
    }
    return offset;
  }

  /** The earliest offset change with `from < at <= to`, or null. */
  firstTransitionIn(from: number, to: number): OffsetTransition | null {
    if (this.isUtc || !(to > from)) return null;
    const last = Math.floor(to / CHUNK_MS);
    for (let index = Math.floor(from / CHUNK_MS); index <= last; index++) {
      for (const transition of this.chunk(index).transitions) {
        if (transition.at > to) return null;
        if (transition.at > from) return transition;
      }
    }
    return null;
  }

  /** The latest offset change with `from < at <= to`, or null. */
  lastTransitionIn(from: number, to: number): OffsetTransition | null {
    if (this.isUtc || !(to > from)) return null;
    const first = Math.floor(from / CHUNK_MS);
    for (let index = Math.floor(to / CHUNK_MS); index >= first; index--) {
      const transitions = this.chunk(index).transitions;
      for (let i = transitions.length - 1; i >= 0; i--) {
        const transition = transitions[i];
        if (transition.at <= from) return null;
        if (transition.at <= to) return transition;
      }
    }
    return null;
  }

  private chunk(index: number): Chunk {
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      if (this.chunks.size >= MAX_CHUNKS_PER_ZONE) this.chunks.clear();
      chunk = this.probeChunk(index * CHUNK_MS);
      this.chunks.set(index, chunk);
    }
    return chunk;
  }

  /**
   * Offsets at `start - 1 s` and then every day, so that a change exactly at
   * `start` belongs to this chunk and one at the next chunk's start does not.
   */
  private probeChunk(start: number): Chunk {
    const transitions: OffsetTransition[] = [];
    let probe = start - SECOND_MS;
    const offsetBefore = this.intlOffset(probe);
    let offset = offsetBefore;
    for (let day = 1; day <= CHUNK_DAYS; day++) {
      const nextProbe = probe + DAY_MS;
      const nextOffset = this.intlOffset(nextProbe);
      if (nextOffset !== offset) this.collect(probe, offset, nextProbe, nextOffset, transitions);
      probe = nextProbe;
      offset = nextOffset;
    }
    return { offsetBefore, transitions };
  }

  /** Finds every change in `(lo, hi]` (whole seconds) by repeated bisection. */
  private collect(
    lo: number,
    loOffset: number,
    hi: number,
    hiOffset: number,
    out: OffsetTransition[],
  ): void {
    for (let found = 0; loOffset !== hiOffset; found++) {
      if (found === MAX_CHANGES_PER_PROBE) {
        throw new Error(`time zone ${this.timezone}: offset data does not settle near ${hi}`);
      }
      let low = lo;
      let high = hi;
      while (high - low > SECOND_MS) {
        const mid = low + Math.floor((high - low) / 2 / SECOND_MS) * SECOND_MS;
        if (this.intlOffset(mid) === loOffset) low = mid;
        else high = mid;
      }
      const offsetAfter = this.intlOffset(high);
      out.push({ at: high, offsetBefore: loOffset, offsetAfter });
      lo = high;
      loOffset = offsetAfter;
    }
  }

  /** Offset at a whole-second instant, straight from Intl (slow: microseconds). */
  private intlOffset(instant: number): number {
    const format = this.format as Intl.DateTimeFormat;
    const date = new Date(instant);
    // en-US with h23 prints "M/D/YYYY, HH:MM:SS"; parts are read by position.
    const match = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/.exec(format.format(date));
    let fields: number[];
    if (match !== null) {
      fields = [+match[3], +match[1], +match[2], +match[4], +match[5], +match[6]];
    } else {
      const parts = format.formatToParts(date);
      const get = (type: Intl.DateTimeFormatPartTypes): number =>
        Number(parts.find((part) => part.type === type)?.value);
      fields = [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
    }
    const [year, month, day, hour, minute, second] = fields;
    const local = new Date(0);
    local.setUTCFullYear(year, month - 1, day); // setUTCFullYear: no 0-99 → 19xx mapping
    local.setUTCHours(hour, minute, second, 0);
    return local.getTime() - Math.floor(instant / SECOND_MS) * SECOND_MS;
  }
}
