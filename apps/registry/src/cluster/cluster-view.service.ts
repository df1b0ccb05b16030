import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { GroupView, ZkClient, basename, sequenceOf } from '@app/zk';
import { ZkLayout, type MemberInfo, type WorkerInfo } from '@app/contracts';
import type {
  ClusterView,
  LeaderView,
  RegistryView,
  SchedulerView,
  WorkerView,
} from '@app/contracts/dto/registry-api';
import { AssignmentCounts } from './assignment-counts';
import { LeaderWatch } from './leader-watch';

/** What an election candidate node holds (LeaderElection writes `id` beside its data). */
interface Candidate {
  id: string;
}

/**
 * The live cluster as this registry sees it in ZooKeeper: watched views of
 * the members (`/members/*`), of both elections, of `/leader`, and of each
 * worker's assignments. Requests read the cached views; nothing is re-read
 * per request. While the connection is in trouble the views are kept and the
 * snapshot says `stale: true`.
 */
@Injectable()
export class ClusterViewService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ClusterView');
  private readonly schedulers: GroupView<MemberInfo>;
  private readonly workers: GroupView<WorkerInfo>;
  private readonly registries: GroupView<MemberInfo>;
  private readonly schedulerCandidates: GroupView<Candidate>;
  private readonly registryCandidates: GroupView<Candidate>;
  private readonly leader: LeaderWatch;
  private readonly running: AssignmentCounts;

  constructor(private readonly client: ZkClient) {
    this.schedulers = new GroupView(client, { path: ZkLayout.members('schedulers') });
    this.workers = new GroupView(client, { path: ZkLayout.members('workers') });
    this.registries = new GroupView(client, { path: ZkLayout.members('registries') });
    this.schedulerCandidates = new GroupView(client, { path: ZkLayout.schedulerElection });
    this.registryCandidates = new GroupView(client, { path: ZkLayout.registryElection });
    this.leader = new LeaderWatch(client);
    this.running = new AssignmentCounts(client);
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const view of this.views()) {
      view.on('error', (error) =>
        this.logger.warn({ msg: 'cluster view problem', error: error.message }),
      );
    }
    this.workers.on('joined', (id) => this.running.track(id));
    this.workers.on('left', (id) => this.running.untrack(id));
    await Promise.all([...this.views().map((view) => view.start()), this.leader.start()]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running.close();
    await Promise.all([this.leader.close(), ...this.views().map((view) => view.close())]);
  }

  /** The snapshot plus what is read per request: the outbox depth (one stat) and the session state. */
  async view(): Promise<ClusterView> {
    return { ...this.snapshot(), outboxDepth: await this.outboxDepth() };
  }

  snapshot(): ClusterView {
    const leader = this.leaderView();
    const drainer = this.drainerId();
    const schedulers: SchedulerView[] = [...this.schedulers.members()].map(([id, info]) => ({
      ...member(id, info),
      leader: leader !== null && leader.inElection && leader.id === id,
    }));
    const workers: WorkerView[] = [...this.workers.members()].map(([id, info]) => ({
      ...member(id, info),
      capacity: info.capacity,
      running: this.running.count(id),
      labels: { ...info.labels },
      draining: info.draining === true,
    }));
    const registries: RegistryView[] = [...this.registries.members()].map(([id, info]) => ({
      ...member(id, info),
      drainer: id === drainer,
    }));
    const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id);
    return {
      leader,
      schedulers: schedulers.sort(byId),
      workers: workers.sort(byId),
      registries: registries.sort(byId),
      drainer,
      stale: this.views().some((view) => view.isStale) || this.leader.isStale,
      outboxDepth: null,
      zookeeper: { state: this.client.state },
    };
  }

  private async outboxDepth(): Promise<number | null> {
    if (!this.client.isConnected) return null;
    try {
      return (await this.client.exists(ZkLayout.outbox))?.numChildren ?? 0;
    } catch (error) {
      this.logger.warn({ msg: 'outbox depth unknown', error: (error as Error).message });
      return null;
    }
  }

  private views(): Array<GroupView<object>> {
    return [
      this.schedulers,
      this.workers,
      this.registries,
      this.schedulerCandidates,
      this.registryCandidates,
    ];
  }

  private leaderView(): LeaderView | null {
    const info = this.leader.current;
    if (!info) return null;
    // The fencing token is `<epoch>:<candidate path>`; its candidate node lives while that leader does.
    const candidate = basename(info.fencingToken.slice(info.fencingToken.indexOf(':') + 1));
    return {
      id: info.id,
      pid: info.pid,
      endpoint: info.endpoint,
      since: new Date(info.since).toISOString(),
      fencingToken: info.fencingToken,
      epoch: info.fencingToken.slice(0, info.fencingToken.indexOf(':')),
      inElection: this.schedulerCandidates.members().has(candidate),
    };
  }

  /** The registry whose candidate is first in the drain election. */
  private drainerId(): string | null {
    let first: { seq: number; id: string } | undefined;
    for (const [name, data] of this.registryCandidates.members()) {
      let seq: number;
      try {
        seq = sequenceOf(name);
      } catch {
        continue;
      }
      if (first === undefined || seq < first.seq) first = { seq, id: data.id };
    }
    return first?.id ?? null;
  }
}

function member(
  id: string,
  info: MemberInfo,
): { id: string; endpoint: string; pid: number; startedAt: string } {
  return {
    id,
    endpoint: info.endpoint,
    pid: info.pid,
    startedAt: new Date(info.startedAt).toISOString(),
  };
}
