import { randomUUID } from 'node:crypto';
import { ZkClient } from '@app/zk';
import { TestingServer } from '@app/zk/testing';
import type { TaskRecord, WorkerInfo } from '@app/contracts';
import { ProtocolWorker, type Behaviour } from './protocol-worker';
import { startScheduler, type InProcessScheduler } from './scheduler-process';

const SESSION_TIMEOUT_MS = 2_000;

/**
 * One ZooKeeper server per test file, a fresh root per test, and in-process
 * schedulers, hand-driven protocol workers and plain clients on it, all
 * closed after each test. Call `install()` at the top of a test file.
 */
export class LeaderFixture {
  server!: TestingServer;
  root = '';
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(private readonly schedulerEnv: Record<string, string> = {}) {}

  install(): this {
    beforeAll(async () => {
      this.server = await TestingServer.start();
    }, 60_000);
    beforeEach(() => {
      this.root = `/leader-test-${randomUUID()}`;
    });
    afterEach(async () => {
      for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    });
    afterAll(async () => {
      await this.server?.close();
    });
    return this;
  }

  async client(): Promise<ZkClient> {
    const zk = new ZkClient({
      connectString: this.server.connectString,
      root: this.root,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    await zk.start();
    this.closers.push(() => zk.close());
    return zk;
  }

  async scheduler(id: string, env: Record<string, string> = {}): Promise<InProcessScheduler> {
    const started = await startScheduler({
      ZK_CONNECT: this.server.connectString,
      ZK_ROOT: this.root,
      ZK_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      MEMBER_ID: id,
      ...this.schedulerEnv,
      ...env,
    });
    this.closers.push(() => started.close());
    return started;
  }

  async worker(
    id: string,
    info: Partial<WorkerInfo> = {},
    behaviour?: (record: TaskRecord) => Behaviour,
  ): Promise<ProtocolWorker> {
    const worker = new ProtocolWorker(await this.client(), id, info, behaviour);
    await worker.start();
    this.closers.push(() => worker.close());
    return worker;
  }
}
