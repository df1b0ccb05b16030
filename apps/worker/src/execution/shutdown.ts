import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { SHUTDOWN_GRACE_MS } from '../config/shutdown-grace';
import { MemberRegistration } from '@app/common';
import type { WorkerInfo } from '@app/contracts';
import { WorkerEngine } from './worker-engine';

/**
 * SIGTERM/SIGINT (Nest shutdown hooks), before the ZooKeeper session closes:
 * 1. mark the member `draining` so the leader assigns nothing more;
 * 2. stop taking assignments; let running tasks finish within the grace period;
 * 3. abort the rest and hand them back (protocol step 9);
 * 4. delete the member node. The session closes after this hook
 *    (ZkClientCloser, onApplicationShutdown).
 */
@Injectable()
export class WorkerShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerShutdown.name);

  constructor(
    private readonly engine: WorkerEngine,
    private readonly registration: MemberRegistration<WorkerInfo>,
    @Inject(SHUTDOWN_GRACE_MS) private readonly graceMs: number,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log({
      msg: 'worker draining',
      signal,
      graceMs: this.graceMs,
      running: this.engine.running,
    });
    // Bounded: a worker that cannot say so still drains (the leader sees it leave).
    if (!(await this.registration.update({ draining: true }))) {
      this.logger.warn({ msg: 'could not mark this worker draining; going on' });
    }
    const { handedBack } = await this.engine.drain(this.graceMs);
    await this.registration.close();
    this.logger.log({ msg: 'worker drained', handedBack });
  }
}
