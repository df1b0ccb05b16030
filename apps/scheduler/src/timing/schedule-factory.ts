import type { JobRecord } from '@app/contracts';
import { CronSchedule } from './cron-schedule';
import { OneOffSchedule, type FireSchedule } from './fire-schedule';

/** What decides when a job fires. */
export type JobTiming = Pick<JobRecord, 'id' | 'schedule' | 'timezone' | 'runAt'>;

/** Builds the fire schedule of a job (cron or one-off); throws for an invalid one. */
export type ScheduleFactory = (job: JobTiming) => FireSchedule;

/** Injection token of the ScheduleFactory. */
export const SCHEDULE_FACTORY = Symbol('SCHEDULE_FACTORY');

/** Cron jobs fire on their schedule in their time zone; one-off jobs at `runAt`. */
export const scheduleForJob: ScheduleFactory = (job: JobTiming): FireSchedule => {
  if (job.schedule !== undefined) return CronSchedule.parse(job.schedule, job.timezone);
  if (job.runAt !== undefined) return new OneOffSchedule(job.runAt);
  throw new Error(`job ${job.id} has neither schedule nor runAt`);
};
