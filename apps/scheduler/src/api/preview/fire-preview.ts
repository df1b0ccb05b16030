import { DEFAULT_TIMEZONE } from '@app/contracts';
import {
  DEFAULT_PREVIEW_COUNT,
  type FireInstantView,
  type JobPreviewView,
} from '@app/contracts/dto/scheduler-api';
import { parseIsoDateTime } from '@app/common/api';
import { scheduleForJob } from '../../timing/schedule-factory';
import { ZoneOffsets } from '../../timing/time-zone';
import type { PreviewJobDto } from '../dto/preview.dto';

/**
 * The next fire instants of a (validated) job timing, computed by the same
 * schedule code the leader fires with, so the preview cannot disagree with
 * what will happen (DST gaps and repeats included). Nothing is written.
 */
export function previewFires(body: PreviewJobDto, now: number): JobPreviewView {
  const timezone = body.timezone ?? DEFAULT_TIMEZONE;
  const schedule = scheduleForJob({
    id: 'preview',
    schedule: body.schedule,
    timezone,
    runAt: body.runAt === undefined ? undefined : parseIsoDateTime(body.runAt),
  });
  const count = body.count ?? DEFAULT_PREVIEW_COUNT;
  const zone = ZoneOffsets.of(timezone);
  const instants: FireInstantView[] = [];
  let after = body.after === undefined ? now : (parseIsoDateTime(body.after) ?? now);
  while (instants.length < count) {
    const next = schedule.next(after);
    if (next === null) break;
    instants.push({
      at: new Date(next).toISOString(),
      local: wallClock(next, zone.offsetAt(next)),
    });
    after = next;
  }
  return { timezone, instants };
}

/** `2030-01-01T09:00:00+01:00`: the instant on a clock `offsetMs` ahead of UTC. */
export function wallClock(instant: number, offsetMs: number): string {
  const local = new Date(instant + offsetMs).toISOString().slice(0, 19);
  if (offsetMs === 0) return `${local}Z`;
  const minutes = Math.abs(offsetMs) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${local}${offsetMs < 0 ? '-' : '+'}${hh}:${mm}`;
}
