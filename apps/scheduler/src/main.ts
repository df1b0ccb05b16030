import { bootstrapService } from '@app/common';
import { SCHEDULER_API_BOOTSTRAP } from './api/api-bootstrap';
import { SchedulerModule, SCHEDULER_SERVICE } from './scheduler.module';

void bootstrapService(SchedulerModule, SCHEDULER_SERVICE, SCHEDULER_API_BOOTSTRAP);
