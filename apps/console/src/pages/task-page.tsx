import { useEffect, useState } from 'preact/hooks';
import type { TaskView } from '@app/contracts/dto/scheduler-api';
import type { AuditEventView, AuditPageView } from '@app/contracts/dto/registry-api';
import { SCHEDULER } from '../api';
import { ErrorNote, Section, StateBadge, Time, useLoad, useNow } from '../components/common';
import { canSubmit, useConsole } from '../context';
import { followEvents } from '../live-events';
import { elapsed } from '../logic/time-format';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 3_000;

/** One task: its record, attempts and gang, and the timeline of its audit events, live. */
export function TaskPage({ id }: { id: string }) {
  const { api, access, announce } = useConsole();
  const now = useNow();
  const task = useLoad(
    () => api.get<TaskView>(`${SCHEDULER}/v1/tasks/${encodeURIComponent(id)}`),
    [id],
  );
  const [events, setEvents] = useState<AuditEventView[]>([]);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setEvents([]);
    let seen = new Set<string>();
    const add = (more: AuditEventView[]): void => {
      const fresh = more.filter((e) => !seen.has(e.id));
      seen = new Set([...seen, ...fresh.map((e) => e.id)]);
      if (fresh.length > 0)
        setEvents((list) =>
          [...list, ...fresh].sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq))),
        );
    };
    const loadTimeline = (): void =>
      void api.get<AuditPageView>('/v1/audit', { taskId: id, limit: 1000 }).then(
        (page) => add(page.items),
        () => undefined,
      );
    loadTimeline();
    // The stream brings each change at once, but it starts with the next event stored: one
    // stored between the first reads and the stream's start would be missed. A slow poll closes
    // that gap (and any break of the stream).
    const poll = setInterval(() => {
      loadTimeline();
      task.reload();
    }, POLL_MS);
    const stopStream = followEvents(api, {
      filter: { taskId: id },
      onEvent: (event) => {
        add([event]);
        task.reload();
      },
    });
    const stop = (): void => {
      clearInterval(poll);
      stopStream();
    };
    return stop;
  }, [api, id]);

  if (task.error) return <ErrorNote error={task.error} />;
  if (!task.data) return <p>Loading…</p>;
  const t = task.data;
  const cancel = async (): Promise<void> => {
    try {
      await api.post(`${SCHEDULER}/v1/tasks/${encodeURIComponent(t.id)}/cancel`);
      announce(`cancel requested for ${t.id}`);
      task.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div class="page">
      <p>
        <a href="#/tasks">← Tasks</a>
        {t.jobId && (
          <>
            {' · '}
            <a href={`#/jobs/${t.jobId}`}>its job</a>
          </>
        )}
      </p>
      <h1>
        Task <code>{t.id}</code> <StateBadge state={t.state} />
      </h1>
      {canSubmit(access) && !TERMINAL.has(t.state) && (
        <button type="button" class="danger" onClick={cancel}>
          Cancel task
        </button>
      )}
      <ErrorNote error={error} />
      <Section title="Record">
        <dl class="facts" data-testid="task-record">
          <dt>handler</dt>
          <dd>{t.type}</dd>
          <dt>attempt</dt>
          <dd>
            {t.attempt}{' '}
            <span class="muted">
              ({t.failures} failed of {t.retry.maxAttempts} allowed; a reassignment is not a
              failure)
            </span>
          </dd>
          <dt>worker</dt>
          <dd>{t.workerId ?? '—'}</dd>
          {t.parallelism > 1 && (
            <>
              <dt>gang workers</dt>
              <dd>{t.workers.join(', ') || '—'}</dd>
            </>
          )}
          <dt>created</dt>
          <dd>
            <Time at={t.createdAt} />
          </dd>
          <dt>started</dt>
          <dd>
            <Time at={t.startedAt} />
          </dd>
          <dt>duration</dt>
          <dd>{elapsed(t.startedAt, t.finishedAt, now)}</dd>
          <dt>payload</dt>
          <dd>
            <code>{JSON.stringify(t.payload)}</code>
          </dd>
          {t.result !== null && t.result !== undefined && (
            <>
              <dt>result</dt>
              <dd>
                <pre>{JSON.stringify(t.result, null, 2)}</pre>
              </dd>
            </>
          )}
          {t.error && (
            <>
              <dt>error</dt>
              <dd class="error-text">
                <pre>{JSON.stringify(t.error, null, 2)}</pre>
              </dd>
            </>
          )}
        </dl>
      </Section>
      <Section title="Timeline">
        <ol class="timeline" data-testid="timeline" aria-live="polite">
          {events.map((e) => (
            <li key={e.id} data-type={e.type}>
              <Time at={e.time} /> <strong>{e.type.replace('task.', '')}</strong>
              {e.attempt !== null && <span> attempt {e.attempt}</span>}
              {e.workerId && <span> on {e.workerId}</span>}
              {typeof e.detail?.reason === 'string' && (
                <span class="reason"> — {e.detail.reason}</span>
              )}
              <span class="muted small"> by {e.actor}</span>
            </li>
          ))}
        </ol>
        {events.length === 0 && (
          <p class="muted">No event stored yet (the drain stores them within a second or so).</p>
        )}
      </Section>
    </div>
  );
}
