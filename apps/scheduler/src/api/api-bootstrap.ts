import type { BootstrapOptions } from '@app/common';
import { MAX_REQUEST_BYTES } from '@app/contracts/dto/scheduler-api';
import {
  PROTO_LOADER_OPTIONS,
  SCHEDULER_PROTO_PACKAGE,
  SCHEDULER_PROTO_PATH,
} from '@app/contracts/proto';

/** What the application serving ApiModule needs: pass to bootstrapService / prepareApplication. */
export const SCHEDULER_API_BOOTSTRAP: BootstrapOptions = {
  // Room for a batch of 1,000 tasks; one payload is capped at 256 KiB by validation.
  jsonBodyLimitBytes: MAX_REQUEST_BYTES,
  openApi: {
    title: 'zk-scheduler scheduler API',
    description:
      'Jobs (cron or one-off) and tasks. Every error answers { statusCode, error, message, errors: [{ field, reason }] }. The same operations are served over gRPC (zkscheduler.scheduler.v1.SchedulerService).',
    version: 'v1',
  },
  grpc: {
    package: SCHEDULER_PROTO_PACKAGE,
    protoPath: SCHEDULER_PROTO_PATH,
    loader: PROTO_LOADER_OPTIONS,
    maxReceiveMessageLength: MAX_REQUEST_BYTES,
  },
};
