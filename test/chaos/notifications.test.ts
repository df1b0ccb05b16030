import { webhookSignature } from '@app/audit';
import type { AuditRow } from '../../apps/registry/test/support/audit-validator';
import type { ReceivedWebhook } from '../support/webhook-receiver';
import { finalFailures, notificationCheck } from './notifications';

/** The chaos notification check on hand-made histories and deliveries: each violation is caught. */

const SECRET = 'whsec_chaos';
let seq = 0;

function row(fields: Partial<AuditRow> & Pick<AuditRow, 'type'>): AuditRow {
  seq++;
  return {
    seq: String(seq),
    id: `e-${seq}`,
    taskId: null,
    jobId: null,
    workerId: null,
    attempt: null,
    detail: null,
    actor: 'worker/worker-1/2',
    fencingToken: null,
    time: 1_800_000_000_000 + seq,
    ...fields,
  };
}

function delivered(event: AuditRow, overrides: Partial<ReceivedWebhook> = {}): ReceivedWebhook {
  const json = {
    id: event.id,
    type: 'task.failed',
    occurredAt: new Date(event.time).toISOString(),
    data: { taskId: event.taskId },
  };
  const body = JSON.stringify(json);
  return {
    path: '/chaos',
    event: 'task.failed',
    delivery: event.id,
    signature: webhookSignature(SECRET, body, Math.floor(Date.now() / 1000)),
    body,
    json,
    at: Date.now(),
    status: 204,
    ...overrides,
  };
}

const retried = row({ type: 'task.failed', taskId: 't1', detail: { state: 'retrying' } });
const final = row({ type: 'task.failed', taskId: 't1', detail: { state: 'failed' } });
const finalTimeout = row({ type: 'task.timed_out', taskId: 't2', detail: { state: 'failed' } });
const rows = [row({ type: 'task.created', taskId: 't1' }), retried, final, finalTimeout];

test('the final failures are the failed and timed-out attempts that left the task failed', () => {
  expect(finalFailures(rows).map((r) => r.id)).toEqual([final.id, finalTimeout.id]);
});

test('all delivered, signed, a repeat with the same body: ok', () => {
  const check = notificationCheck(
    rows,
    [delivered(final), delivered(finalTimeout), delivered(final)],
    SECRET,
  );
  expect(check).toMatchObject({ ok: true, problems: [] });
});

test('a final failure never delivered, an invented one, a bad signature, a changed repeat', () => {
  const other = delivered(final);
  const check = notificationCheck(
    rows,
    [
      delivered(final),
      { ...other, body: `${other.body} ` },
      delivered(retried),
      delivered(final, { signature: 't=1,v1=00' }),
    ],
    SECRET,
  );
  expect(check.ok).toBe(false);
  expect(check.problems).toEqual(
    expect.arrayContaining([
      `final failure of t2 (event ${finalTimeout.id}) never delivered`,
      `delivery ${retried.id} (task.failed) is no final failure of the history`,
      `delivery ${final.id}: bad signature`,
      `delivery ${final.id} repeated with another body`,
    ]),
  );
});
