/**
 * Notifications under chaos (issue 13): a webhook receiver subscribed to
 * `task.failed` for the whole run; at the end, every final failure in the
 * audit history must have reached it, signed, and nothing else may have
 * (nothing lost, nothing invented; a repeat may only carry an id already
 * sent, with the same body). The receiver refuses a seeded share of requests
 * (503) so retries are part of every run.
 */
import { randomBytes } from 'node:crypto';
import { verifyWebhookSignature } from '@app/audit';
import { timing } from '@app/zk/testing';
import type { AuditRow } from '../../apps/registry/test/support/audit-validator';
import type { Rng } from '../support/rng';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver';
import type { ChaosCluster } from './chaos-cluster';
import type { CheckResult } from './checks';

/** What every scheduler and registry of the chaos cluster gets: one key, loopback allowed, quick retries. */
export const NOTIFICATION_ENV: Readonly<Record<string, string>> = {
  WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_BACKOFF_MIN_MS: '200',
  WEBHOOK_BACKOFF_MAX_MS: '2000',
  WEBHOOK_POLL_MS: '200',
};

const PATH = '/chaos';
/** Share of requests the receiver refuses (503), seeded. */
const REFUSED_SHARE = 0.05;

/** The final failures of a history: `task.failed`, or a timeout, that left the task `failed`. */
export function finalFailures(rows: readonly AuditRow[]): AuditRow[] {
  return rows.filter(
    (row) =>
      (row.type === 'task.failed' || row.type === 'task.timed_out') &&
      row.detail?.state === 'failed',
  );
}

/** The check itself, on what the receiver accepted (2xx) and the history. */
export function notificationCheck(
  rows: readonly AuditRow[],
  accepted: readonly ReceivedWebhook[],
  secret: string,
): CheckResult {
  const problems: string[] = [];
  const expected = new Map(finalFailures(rows).map((row) => [row.id, row]));
  const bodies = new Map<string, string>();
  for (const got of accepted) {
    if (!verifyWebhookSignature(got.signature, got.body, secret, { toleranceSeconds: 3_600 })) {
      problems.push(`delivery ${got.delivery}: bad signature`);
    }
    if (got.json.id !== got.delivery) {
      problems.push(`delivery ${got.delivery}: body id ${got.json.id}`);
    }
    const earlier = bodies.get(got.delivery);
    if (earlier !== undefined && earlier !== got.body) {
      problems.push(`delivery ${got.delivery} repeated with another body`);
    }
    bodies.set(got.delivery, got.body);
    const row = expected.get(got.delivery);
    if (row === undefined) {
      problems.push(`delivery ${got.delivery} (${got.event}) is no final failure of the history`);
    } else if (got.json.data.taskId !== row.taskId || got.event !== 'task.failed') {
      problems.push(`delivery ${got.delivery}: ${got.event} about ${String(got.json.data.taskId)}`);
    }
  }
  for (const [id, row] of expected) {
    if (!bodies.has(id))
      problems.push(`final failure of ${row.taskId} (event ${id}) never delivered`);
  }
  return {
    name: 'every final failure notified, signed, nothing else',
    ok: problems.length === 0,
    problems,
  };
}

export class NotificationWatch {
  private readonly receiver = new WebhookReceiver();
  private secret = '';

  private constructor(private readonly rng: Rng) {}

  /** Starts the receiver and subscribes it (through a live scheduler) to `task.failed`. */
  static async start(cluster: ChaosCluster, rng: Rng): Promise<NotificationWatch> {
    const watch = new NotificationWatch(rng);
    watch.receiver.answer = () => (watch.rng.chance(REFUSED_SHARE) ? 503 : 204);
    await watch.receiver.start();
    const scheduler = cluster.apiProcess((live) => live[0]);
    if (scheduler === undefined) throw new Error('no scheduler to subscribe through');
    const created = await cluster.local.api<{ secret: string }>(scheduler, 'POST', '/v1/webhooks', {
      url: watch.receiver.url(PATH),
      events: ['task.failed'],
    });
    if (created.status !== 201) throw new Error(`webhook not created: HTTP ${created.status}`);
    watch.secret = created.body.secret;
    return watch;
  }

  /** Accepted requests (the receiver's 2xx answers). */
  private accepted(): ReceivedWebhook[] {
    return this.receiver.on(PATH).filter((got) => got.status < 300);
  }

  /** Waits (at most `timeoutMs`) until every final failure of `rows` has been accepted once. */
  async settle(rows: readonly AuditRow[], timeoutMs = 120_000): Promise<void> {
    const wanted = finalFailures(rows).map((row) => row.id);
    await timing
      .waitFor(
        () => {
          const got = new Set(this.accepted().map((r) => r.delivery));
          return wanted.every((id) => got.has(id));
        },
        { timeoutMs, intervalMs: 500 },
      )
      .catch(() => undefined);
  }

  check(rows: readonly AuditRow[]): CheckResult {
    return notificationCheck(rows, this.accepted(), this.secret);
  }

  get counts(): { notified: number; refused: number } {
    const all = this.receiver.on(PATH);
    return {
      notified: new Set(this.accepted().map((r) => r.delivery)).size,
      refused: all.length - this.accepted().length,
    };
  }

  close(): Promise<void> {
    return this.receiver.stop();
  }
}
