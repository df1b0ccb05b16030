import {
  CONCURRENCY_POLICIES,
  MISFIRE_POLICIES,
  type ConcurrencyPolicy,
  type JobRecord,
  type JobState,
  type MisfirePolicy,
  type TaskTemplate,
  taskTemplateOf,
} from '@app/contracts';
import type { ScheduleFactory } from '../timing/schedule-factory';
import type { InternPool } from './intern-pool';

/** Task templates up to this size (JSON) are kept in memory; larger ones are read when needed. */
export const INLINE_TEMPLATE_BYTES = 8 * 1024;

/**
 * What every replica keeps of one job: the definition without its task
 * template's objects (a shared JSON string instead, or nothing when large),
 * the leader state, and the first instant due. Numbers for instants, interned
 * strings, no parsed schedule.
 */
export interface CatalogEntry {
  readonly id: string;
  name: string;
  /** Version of `/jobs/<id>`. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** Cron expression (interned); undefined for a one-off job. */
  schedule: string | undefined;
  timezone: string;
  runAt: number | undefined;
  concurrency: ConcurrencyPolicy;
  misfire: MisfirePolicy;
  paused: boolean;
  /** JSON of the TaskTemplate (interned); undefined when larger than INLINE_TEMPLATE_BYTES. */
  template: string | undefined;
  /** The API token that created the job (interned; its fires are its tasks). */
  owner: string | undefined;
  /** Version of `/jobstate/<id>`; -1 while it does not exist. */
  stateVersion: number;
  state: JobState | undefined;
  /**
   * The first instant the leader has to deal with: the leader's planned next
   * fire when planned from this definition, else the schedule's first instant
   * after the last fire (or the creation); NaN when none (paused, done).
   * Computed when the entry changes, so a new leader arms its timers without
   * parsing any schedule.
   */
  dueAt: number;
  /** The leader's bookkeeping: bumped on every re-plan, so older timers are ignored. */
  generation: number;
}

export function newEntry(
  record: JobRecord,
  version: number,
  strings: InternPool,
  scheduleFor: ScheduleFactory,
  stored?: { state: JobState; version: number },
): CatalogEntry {
  const entry: CatalogEntry = {
    id: record.id,
    name: record.name,
    version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    schedule: undefined,
    timezone: '',
    runAt: undefined,
    concurrency: 'allow',
    misfire: 'fire_once',
    paused: false,
    template: undefined,
    owner: undefined,
    stateVersion: stored?.version ?? -1,
    state: stored?.state,
    dueAt: NaN,
    generation: 0,
  };
  setDefinition(entry, record, version, strings, scheduleFor);
  return entry;
}

/** Replaces the definition (the leader state stays). */
export function setDefinition(
  entry: CatalogEntry,
  record: JobRecord,
  version: number,
  strings: InternPool,
  scheduleFor: ScheduleFactory,
): void {
  const template = JSON.stringify(taskTemplateOf(record));
  strings.release(entry.schedule);
  strings.release(entry.timezone);
  strings.release(entry.template);
  strings.release(entry.owner);
  entry.name = record.name;
  entry.version = version;
  entry.createdAt = record.createdAt;
  entry.updatedAt = record.updatedAt;
  entry.schedule = record.schedule === undefined ? undefined : strings.take(record.schedule);
  entry.timezone = strings.take(record.timezone);
  entry.runAt = record.runAt;
  entry.concurrency = canonical(CONCURRENCY_POLICIES, record.concurrency);
  entry.misfire = canonical(MISFIRE_POLICIES, record.misfire);
  entry.paused = record.paused;
  entry.template = template.length <= INLINE_TEMPLATE_BYTES ? strings.take(template) : undefined;
  entry.owner = record.owner === undefined ? undefined : strings.take(record.owner);
  entry.dueAt = dueAtOf(entry, scheduleFor);
}

export function setState(
  entry: CatalogEntry,
  version: number,
  state: JobState | undefined,
  scheduleFor: ScheduleFactory,
): void {
  entry.stateVersion = version;
  entry.state = state;
  entry.dueAt = dueAtOf(entry, scheduleFor);
}

/** Drops the entry's uses of pooled strings (it is leaving the catalog). */
export function releaseEntry(entry: CatalogEntry, strings: InternPool): void {
  strings.release(entry.schedule);
  strings.release(entry.timezone);
  strings.release(entry.template);
  strings.release(entry.owner);
}

/** The leader state counts only when it was planned from this version of the definition. */
export function isPlanCurrent(entry: CatalogEntry): boolean {
  return entry.state !== undefined && entry.state.jobUpdatedAt === entry.updatedAt;
}

/** The stored definition again; undefined when the template is not kept (read the znode). */
export function recordOf(entry: CatalogEntry): JobRecord | undefined {
  if (entry.template === undefined) return undefined;
  const template = JSON.parse(entry.template) as TaskTemplate;
  const record: JobRecord = {
    ...template,
    id: entry.id,
    name: entry.name,
    timezone: entry.timezone,
    concurrency: entry.concurrency,
    misfire: entry.misfire,
    paused: entry.paused,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
  if (entry.schedule !== undefined) record.schedule = entry.schedule;
  if (entry.runAt !== undefined) record.runAt = entry.runAt;
  if (entry.owner !== undefined) record.owner = entry.owner;
  return record;
}

function dueAtOf(entry: CatalogEntry, scheduleFor: ScheduleFactory): number {
  if (entry.paused) return NaN;
  if (isPlanCurrent(entry)) return entry.state!.nextFireAt ?? NaN;
  const baseline = entry.state?.lastFireAt ?? entry.createdAt;
  try {
    return scheduleFor(entry).next(baseline) ?? NaN;
  } catch {
    return NaN; // an invalid schedule (stored by another version): the leader says so when it plans
  }
}

/** The constant instance of a policy name (one string for every job). */
function canonical<T extends string>(values: readonly T[], value: T): T {
  return values.find((candidate) => candidate === value) ?? value;
}
