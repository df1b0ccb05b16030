import { useState } from 'preact/hooks';
import type { JobView } from '@app/contracts/dto/scheduler-api';
import { SCHEDULER } from '../api';
import { canAdmin, canSubmit, useConsole } from '../context';
import { ErrorNote } from './common';

/**
 * Trigger, pause/resume and delete (with confirmation) for one job; each
 * button shows only when the token may use it.
 */
export function JobActions({
  job,
  onChanged,
}: {
  job: JobView;
  onChanged: (job: JobView | null) => void;
}) {
  const { api, access, announce } = useConsole();
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const run = async (what: () => Promise<void>): Promise<void> => {
    try {
      setError(null);
      await what();
    } catch (failure) {
      setError(failure);
    }
  };
  const path = `${SCHEDULER}/v1/jobs/${encodeURIComponent(job.id)}`;
  return (
    <div class="row-actions">
      {canSubmit(access) && (
        <button
          type="button"
          aria-label={`Trigger ${job.name} now`}
          onClick={() =>
            run(async () => {
              const { taskId } = await api.post<{ taskId: string }>(`${path}/trigger`);
              announce(`triggered ${job.name}: task ${taskId}`);
              onChanged(job);
            })
          }
        >
          Trigger
        </button>
      )}
      {canAdmin(access) && (
        <button
          type="button"
          aria-label={`${job.paused ? 'Resume' : 'Pause'} ${job.name}`}
          onClick={() =>
            run(async () => {
              const changed = await api.patch<JobView>(path, { paused: !job.paused });
              announce(`${changed.paused ? 'paused' : 'resumed'} ${job.name}`);
              onChanged(changed);
            })
          }
        >
          {job.paused ? 'Resume' : 'Pause'}
        </button>
      )}
      {canAdmin(access) &&
        (confirming ? (
          <span role="group" aria-label={`Confirm deleting ${job.name}`} class="confirm">
            Delete {job.name}?{' '}
            <button
              type="button"
              class="danger"
              onClick={() =>
                run(async () => {
                  await api.delete(path);
                  announce(`deleted ${job.name}`);
                  onChanged(null);
                })
              }
            >
              Yes, delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button
            type="button"
            aria-label={`Delete ${job.name}`}
            onClick={() => setConfirming(true)}
          >
            Delete
          </button>
        ))}
      <ErrorNote error={error} />
    </div>
  );
}
