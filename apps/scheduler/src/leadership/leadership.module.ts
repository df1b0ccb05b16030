import { Module } from '@nestjs/common';
import { memberRegistration } from '@app/common';
import { StoreModule } from '@app/store/store.module';
import { SCHEDULER_TUNING, loadSchedulerTuning } from '../scheduler-tuning';
import { SCHEDULE_FACTORY, scheduleForJob } from '../timing/schedule-factory';
import { SchedulerLeadership } from './scheduler-leadership';

/** Election, and the leader's work while elected. Needs ZooKeeperModule. */
@Module({
  imports: [StoreModule],
  providers: [
    SchedulerLeadership,
    ...memberRegistration({ kind: 'schedulers' }),
    { provide: SCHEDULER_TUNING, useFactory: () => loadSchedulerTuning(process.env) },
    { provide: SCHEDULE_FACTORY, useValue: scheduleForJob },
  ],
  exports: [SchedulerLeadership],
})
export class LeadershipModule {}
