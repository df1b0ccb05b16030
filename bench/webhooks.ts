/**
 * Webhook delivery lag: event → receiver, at a steady rate of final task
 * failures, through the real path: `task.failed` events written to the
 * ZooKeeper outbox as a worker's commit writes them (one node per failure),
 * drained into PostgreSQL by a real registry process, matched and delivered
 * by its WebhookDeliverer to an HTTP receiver in this process.
 *
 *   npm run bench:webhooks                     (20 s at 1,000 failures/s, 10 jobs)
 *   npm run bench:webhooks -- --rate 1000 --seconds 20 --jobs 10
 *
 * The failures are spread over `--jobs` jobs, with one subscription per job
 * (`filter.jobId`): each subscription is one lane, delivered in order, one
 * request after the other, so `--jobs 1` (every failure to one endpoint)
 * shows the most one subscription takes.
 *
 * Lag = arrival at the receiver − the event's time (its `occurredAt`, set
 * when it is written to the outbox). Runs until every event has arrived (or
 * 120 s after the last was written). ZooKeeper: a TestingServer (fsync on);
 * PostgreSQL: a fresh database on the shared server (127.0.0.1:5432).
 *
 * Prints a table, then ONE JSON line `{"bench":"webhooks",...}` last.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AuditDatabase, SecretBox, WebhookStore } from '@app/audit';
import { ZkLayout, type AuditEvent } from '@app/contracts';
import { outboxOp } from '@app/store';
import { TestingServer, timing } from '@app/zk/testing';
import { LocalCluster } from '../test/support/local-cluster';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { parseOptions } from './support/cli-options';
import { summarize } from './support/stats';
import { keyValues } from './support/table';

const options = parseOptions([
  { name: 'rate', help: 'final task failures per second', fallback: 1_000, min: 1 },
  { name: 'seconds', help: 'how long failures are written', fallback: 20, min: 1 },
  {
    name: 'jobs',
    help: 'jobs the failures are spread over, one subscription each',
    fallback: 10,
    min: 1,
  },
]);
const TICK_MS = 100;

async function main(): Promise<void> {
  const key = randomBytes(32);
  const server = await TestingServer.start();
  const receiver = await new WebhookReceiver().start();
  const cluster = new LocalCluster({
    connectString: server.connectString,
    env: {
      LOG_LEVEL: 'warn',
      WEBHOOK_SECRET_KEY: key.toString('base64'),
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  const database = new AuditDatabase({ url: await cluster.databaseUrl() });
  try {
    const registry = await cluster.start('registry');
    database.start();
    await database.whenReady();
    const store = new WebhookStore(database.dataSource);
    const box = new SecretBox(key);
    const jobs = Array.from({ length: options.jobs }, () => randomUUID());
    for (const [i, jobId] of jobs.entries()) {
      await store.create({
        url: receiver.url(`/s${i}`),
        events: ['task.failed'],
        filter: { jobId },
        sealSecret: (id) => box.seal(`whsec_bench_${i}`, id),
      });
    }
    const zk = await cluster.zk();
    await zk.mkdirp(ZkLayout.outbox);

    const total = Math.round(options.rate * options.seconds);
    const perTick = options.rate / (1000 / TICK_MS);
    const started = performance.now();
    let written = 0;
    let lateTicks = 0;
    for (let tick = 0; written < total; tick++) {
      const due = Math.min(total, Math.round((tick + 1) * perTick));
      const events: AuditEvent[] = [];
      for (; written < due; written++) {
        events.push({
          id: randomUUID(),
          time: Date.now(),
          type: 'task.failed',
          jobId: jobs[written % jobs.length],
          taskId: `bench-${written}`,
          attempt: 1,
          actor: 'bench/webhooks/1',
          detail: { code: 'BENCH', message: 'failed on purpose', failures: 1, state: 'failed' },
        });
      }
      // One outbox node per failure, as a worker's commit writes it.
      await zk.multi(events.map((event) => outboxOp([event])));
      const next = started + (tick + 1) * TICK_MS;
      const wait = next - performance.now();
      if (wait > 0) await timing.sleep(wait);
      else lateTicks += 1;
    }
    const writeSeconds = (performance.now() - started) / 1000;
    const expected = total;
    // When the drain had stored every event: the part of the lag before matching.
    await timing.waitFor(
      async () => {
        const [{ n }] = (await database.dataSource.query(
          `SELECT COUNT(*)::int AS n FROM audit_events WHERE "type" = 'task.failed'`,
        )) as Array<{ n: number }>;
        return n >= total;
      },
      { timeoutMs: 120_000, intervalMs: 100, message: 'every event stored' },
    );
    const storedSeconds = (performance.now() - started) / 1000;
    await timing
      .waitFor(
        () => new Set(receiver.received.map((r) => `${r.path} ${r.delivery}`)).size >= expected,
        {
          timeoutMs: 120_000,
          intervalMs: 200,
          message: 'every event delivered',
        },
      )
      .catch(() => undefined);
    const doneSeconds = (performance.now() - started) / 1000;

    const seen = new Set<string>();
    const lags: number[] = [];
    let duplicates = 0;
    for (const got of receiver.received) {
      const id = `${got.path} ${got.delivery}`;
      if (seen.has(id)) {
        duplicates += 1;
        continue;
      }
      seen.add(id);
      lags.push(got.at - Date.parse(got.json.occurredAt));
    }
    const lag = summarize(lags);
    const metrics = await (await fetch(registry.url('/metrics'))).text();
    const result = {
      bench: 'webhooks',
      rate: options.rate,
      seconds: options.seconds,
      jobs: options.jobs,
      events: total,
      delivered: seen.size,
      expected,
      duplicates,
      lateWriteTicks: lateTicks,
      writeSeconds: round(writeSeconds),
      storedSeconds: round(storedSeconds),
      deliveredSeconds: round(doneSeconds),
      deliveredPerSecond: round(seen.size / doneSeconds),
      lagMs: lag,
      registryLagCount: metricValue(metrics, 'zks_webhook_delivery_lag_seconds_count'),
    };
    process.stdout.write(
      `${keyValues([
        [
          'failures written',
          `${total} in ${round(writeSeconds)} s (${options.rate}/s target, ${lateTicks} late ticks)`,
        ],
        ['subscriptions', `${options.jobs} (one per job)`],
        ['all stored (drain)', `${round(storedSeconds)} s after the first write`],
        ['all delivered', `${round(doneSeconds)} s after the first write`],
        ['delivered', `${seen.size} of ${expected} (${duplicates} repeats)`],
        ['lag p50', `${lag.p50} ms`],
        ['lag p90', `${lag.p90} ms`],
        ['lag p99', `${lag.p99} ms`],
        ['lag max', `${lag.max} ms`],
        ['delivered/s', String(result.deliveredPerSecond)],
      ])}\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await database.close().catch(() => undefined);
    await cluster.close();
    await receiver.stop();
    await server.close();
  }
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
