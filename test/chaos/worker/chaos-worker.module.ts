import { Module } from '@nestjs/common';
import { WorkerModule } from '../../../apps/worker/src/worker.module';
import { ChaosWorkHandler } from './chaos-work.handler';

/** The worker application plus the chaos handler (found by the handler registry like any other). */
@Module({ imports: [WorkerModule], providers: [ChaosWorkHandler] })
export class ChaosWorkerModule {}
