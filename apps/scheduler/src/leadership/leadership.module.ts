import { Global, Module } from '@nestjs/common';
import { memberRegistration } from '@app/common';
import { StoreModule } from '@app/store/store.module';
import { SCHEDULER_TUNING, loadSchedulerTuning } from '../scheduler-tuning';
import { CatalogModule } from '../catalog/catalog.module';
import { SchedulerLeadership } from './scheduler-leadership';

/**
 * Election, and the leader's work while elected. Needs ZooKeeperModule. Global:
 * the API (which runs without it in its tests) hands new tasks to a local leader.
 */
@Global()
@Module({
  imports: [StoreModule, CatalogModule],
  providers: [
    SchedulerLeadership,
    ...memberRegistration({ kind: 'schedulers' }),
    { provide: SCHEDULER_TUNING, useFactory: () => loadSchedulerTuning(process.env) },
  ],
  exports: [SchedulerLeadership],
})
export class LeadershipModule {}
