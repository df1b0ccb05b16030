import type { JobRecord } from '@app/contracts';
import { CronSchedule } from './cron-schedule';
import { OneOffSchedule, type FireSchedule } from './fire-schedule';
import type { ScheduleFactory } from './job-scheduler';

/** Injection token of the ScheduleFactory. */
export const SCHEDULE_FACTORY = Symbol('SCHEDULE_FACTORY');

/** Cron jobs fire on their schedule in their time zone; one-off jobs at `runAt`. */
export const scheduleForJob: ScheduleFactory = (job: JobRecord): FireSchedule => {
  if (job.schedule !== undefined) return CronSchedule.parse(job.schedule, job.timezone);
  if (job.runAt !== undefined) return new OneOffSchedule(job.runAt);
  throw new Error(`job ${job.id} has neither schedule nor runAt`);
};
