/** Entry of the chaos run's workers: the real worker with the `chaos.work` handler added. */
import { bootstrapService } from '@app/common';
import { exitZeroAfterShutdown } from '../../../apps/worker/src/runtime/exit-after-shutdown';
import { WORKER_SERVICE } from '../../../apps/worker/src/worker.module';
import { ChaosWorkerModule } from './chaos-worker.module';

void bootstrapService(ChaosWorkerModule, WORKER_SERVICE).then(exitZeroAfterShutdown);
