import { bootstrapService } from '@app/common';
import { exitZeroAfterShutdown } from './runtime/exit-after-shutdown';
import { WorkerModule, WORKER_SERVICE } from './worker.module';

void bootstrapService(WorkerModule, WORKER_SERVICE).then(exitZeroAfterShutdown);
