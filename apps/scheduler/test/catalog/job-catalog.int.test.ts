/**
 * The job view (JobCatalog) against real ZooKeeper: after churn — thousands of
 * jobs created, patched, paused, deleted and their leader state written while
 * it follows — after its session expired, after the notes it missed were
 * collected, and across restarts of the servers of an ensemble, it holds
 * exactly what `/jobs` and `/jobstate` hold.
 */
import { randomUUID } from 'node:crypto';
import { ChangeLogFollower, NoNodeError, Op, ZkClient } from '@app/zk';
import {
  EventQueue,
  TcpProxy,
  TestingCluster,
  TestingServer,
  expireSession,
  timing,
} from '@app/zk/testing';
import {
  DEFAULT_RETRY,
  PERSISTENT_PARENTS,
  ZkLayout,
  type JobRecord,
  type JobSpec,
  type JobState,
} from '@app/contracts';
import { AuditWriter, JobStore, WriteBatcher, decodeJson, encodeJson } from '@app/store';
import { JobCatalog } from '../../src/catalog/job-catalog';
import { recordOf } from '../../src/catalog/catalog-entry';
import { scheduleForJob } from '../../src/timing/schedule-factory';
import { Rng } from '../../../../test/support/rng';

const SESSION_TIMEOUT_MS = 2_000;
const quiet = { log: () => undefined, warn: () => undefined };

interface Writer {
  zk: ZkClient;
  store: JobStore;
  writes: WriteBatcher;
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function client(connectString: string, root: string): Promise<ZkClient> {
  const zk = new ZkClient({ connectString, root, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  await zk.start();
  closers.push(() => zk.close());
  return zk;
}

async function writer(connectString: string, root: string): Promise<Writer> {
  const zk = await client(connectString, root);
  await Promise.all(PERSISTENT_PARENTS.map((path) => zk.mkdirp(path)));
  const writes = new WriteBatcher({ commit: (ops) => zk.multi(ops) });
  return { zk, writes, store: new JobStore(zk, writes, new AuditWriter('test')) };
}

async function catalogOn(zk: ZkClient): Promise<JobCatalog> {
  const catalog = new JobCatalog(zk, scheduleForJob, quiet);
  closers.push(() => catalog.close());
  await catalog.start();
  return catalog;
}

function spec(rng: Rng, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: `job-${randomUUID()}`,
    type: 'noop',
    payload: { n: rng.int(0, 5) },
    schedule: `${rng.int(0, 59)} ${rng.int(0, 23)} * * *`,
    timezone: rng.chance(0.5) ? 'UTC' : 'Europe/Paris',
    retry: DEFAULT_RETRY,
    parallelism: 1,
    concurrency: 'allow',
    misfire: 'fire_once',
    paused: false,
    ...overrides,
  };
}

/** What a leader writes when it fires: the state, with its note, at the version it knows. */
async function writeState(w: Writer, id: string, state: JobState): Promise<void> {
  const path = ZkLayout.jobState(id);
  const current = await w.zk.exists(path);
  const version = current ? current.version + 1 : 0;
  await w.writes.submit({
    ops: [
      current
        ? Op.set(path, encodeJson(state), current.version)
        : Op.create(path, encodeJson(state)),
      Op.check(ZkLayout.job(id)),
    ],
    jobChanges: [{ stateOf: id, version, state }],
  });
}

/**
 * Thousands of changes in a seeded random order, many in flight at once: a
 * change that loses a race (the job was deleted meanwhile) is simply dropped.
 */
async function churn(w: Writer, rng: Rng, jobs: number): Promise<void> {
  const ids: string[] = [];
  const step = async (): Promise<void> => {
    const roll = rng.next();
    if (ids.length < 20 || roll < 0.4) {
      const oneOff = rng.chance(0.1);
      const record = await w.store.create(
        spec(rng, oneOff ? { schedule: undefined, runAt: Date.now() + rng.int(1, 1e7) } : {}),
      );
      ids.push(record.id);
      return;
    }
    const id = ids[rng.int(0, ids.length - 1)];
    if (roll < 0.55) {
      await w.store.update(id, (job) => ({
        ...job,
        schedule: `*/${rng.int(1, 30)} * * * *`,
        runAt: undefined,
      }));
    } else if (roll < 0.7) {
      await w.store.update(id, (job) => ({ ...job, paused: !job.paused }));
    } else if (roll < 0.8) {
      await w.store.delete(id);
      ids.splice(ids.indexOf(id), 1);
    } else {
      const at = Date.now();
      await writeState(w, id, { lastFireAt: at, nextFireAt: at + 60_000, jobUpdatedAt: at });
    }
  };
  let done = 0;
  const lanes = Array.from({ length: 32 }, async () => {
    while (done < jobs) {
      done++;
      await step().catch((error: unknown) => {
        // A change that lost a race (the job deleted, its state written meanwhile) is dropped.
        if (!/not found|no node|NoNode|BadVersion|already exists/i.test(String(error))) throw error;
      });
    }
  });
  await Promise.all(lanes);
}

/** Every job and its state, as ZooKeeper holds them. */
async function zookeeperView(zk: ZkClient): Promise<Map<string, object>> {
  const view = new Map<string, object>();
  const { children } = await zk.children(ZkLayout.jobs);
  await Promise.all(
    children.map(async (id) => {
      const job = await zk.get(ZkLayout.job(id));
      const state = await zk.get(ZkLayout.jobState(id)).catch((error: unknown) => {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      });
      view.set(id, {
        record: decodeJson<JobRecord>(job.data),
        version: job.stat.version,
        state: state && decodeJson<JobState>(state.data),
        stateVersion: state?.stat.version ?? -1,
      });
    }),
  );
  return view;
}

function catalogView(catalog: JobCatalog): Map<string, object> {
  const view = new Map<string, object>();
  for (const entry of catalog.values()) {
    view.set(entry.id, {
      record: recordOf(entry),
      version: entry.version,
      state: entry.state,
      stateVersion: entry.stateVersion,
    });
  }
  return view;
}

async function expectSame(catalog: JobCatalog, zk: ZkClient): Promise<void> {
  await catalog.catchUp();
  const expected = await zookeeperView(zk);
  const actual = catalogView(catalog);
  expect(actual.size).toBe(expected.size);
  for (const [id, stored] of expected) expect([id, actual.get(id)]).toEqual([id, stored]);
}

describe('one server', () => {
  let server: TestingServer;
  beforeAll(async () => {
    server = await TestingServer.start();
  }, timing.ms(60_000));
  afterAll(async () => {
    await server?.close();
  });

  it(
    'equals ZooKeeper after thousands of jobs created, patched, paused, deleted and fired while it follows',
    async () => {
      const root = `/catalog-${randomUUID()}`;
      const w = await writer(server.connectString, root);
      const rng = new Rng(11);
      await churn(w, rng, 300); // some jobs before it starts: its first build reads them
      const catalog = await catalogOn(await client(server.connectString, root));
      await churn(w, rng, 3_000);
      await expectSame(catalog, w.zk);
      expect(catalog.size).toBeGreaterThan(500);
      expect(catalog.isCurrent).toBe(true);
    },
    timing.ms(120_000),
  );

  it('reads its own writes at once and ignores a note older than what it holds', async () => {
    const root = `/catalog-${randomUUID()}`;
    const w = await writer(server.connectString, root);
    const catalog = await catalogOn(await client(server.connectString, root));
    const record = await w.store.create(spec(new Rng(3)));
    catalog.record({ job: record, version: 0 });
    expect(recordOf(catalog.get(record.id)!)).toEqual(record);
    const renamed = { ...record, name: 'renamed', updatedAt: record.updatedAt + 1 };
    catalog.record({ job: renamed, version: 1 });
    catalog.record({ job: record, version: 0 }); // late: ignored
    expect(catalog.get(record.id)!.name).toBe('renamed');
  });

  it(
    'equals ZooKeeper after its session expired while jobs changed',
    async () => {
      const root = `/catalog-${randomUUID()}`;
      const w = await writer(server.connectString, root);
      const rng = new Rng(12);
      const zk = await client(server.connectString, root);
      const catalog = await catalogOn(zk);
      await churn(w, rng, 500);
      const rebuilds = new EventQueue<string>();
      catalog.on('rebuilt', () => rebuilds.push('rebuilt'));
      const lost = new EventQueue<string>();
      zk.on('lost', () => lost.push('lost'));
      const changes = churn(w, rng, 1_000);
      await expireSession(server.connectString, zk.sessionCredentials());
      await lost.next();
      await changes;
      await expectSame(catalog, w.zk);
      expect(rebuilds.drain()).toHaveLength(0); // nothing was collected: the log had it all
    },
    timing.ms(120_000),
  );

  it(
    'rebuilds, then equals ZooKeeper, when the notes it missed were collected',
    async () => {
      const root = `/catalog-${randomUUID()}`;
      const w = await writer(server.connectString, root);
      const rng = new Rng(13);
      const proxy = new TcpProxy(server.port);
      await proxy.start();
      closers.push(() => proxy.close());
      const zk = await client(proxy.connectString, root);
      const catalog = await catalogOn(zk);
      await churn(w, rng, 300);
      await catalog.catchUp();
      const rebuilds = new EventQueue<string>();
      catalog.on('rebuilt', () => rebuilds.push('rebuilt'));
      const lost = new EventQueue<string>();
      zk.on('lost', () => lost.push('lost'));

      proxy.partition();
      await lost.next(timing.ms(10_000));
      await churn(w, rng, 1_000);
      // The leader's collector: every note is old enough.
      const collector = new ChangeLogFollower(w.zk, ZkLayout.jobChanges);
      await collector.start();
      closers.push(() => collector.close());
      await collector.catchUp();
      expect(await collector.collect(0, (ops) => w.zk.multi(ops))).toBeGreaterThan(0);
      expect(catalog.isCurrent).toBe(false);
      proxy.heal();

      await rebuilds.next(timing.ms(20_000));
      await expectSame(catalog, w.zk);
    },
    timing.ms(120_000),
  );
});

describe('an ensemble of three', () => {
  let cluster: TestingCluster;
  beforeAll(async () => {
    cluster = await TestingCluster.start();
  }, timing.ms(120_000));
  afterAll(async () => {
    await cluster?.close();
  });

  it(
    'equals ZooKeeper after each server restarts while jobs change',
    async () => {
      const root = `/catalog-${randomUUID()}`;
      const connectString = cluster.connectStringOf([0, 1, 2]);
      const w = await writer(connectString, root);
      const rng = new Rng(14);
      const catalog = await catalogOn(await client(connectString, root));
      for (const index of [0, 1, 2]) {
        const changes = churn(w, rng, 400);
        await cluster.stopServer(index);
        await cluster.restartServer(index);
        await cluster.waitForQuorum();
        await changes.catch(() => undefined); // writes cut by the restart: their outcome is unknown
      }
      await churn(w, rng, 300);
      await expectSame(catalog, w.zk);
    },
    timing.ms(240_000),
  );
});
