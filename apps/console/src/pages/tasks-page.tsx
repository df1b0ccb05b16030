import { useEffect, useState } from 'preact/hooks';
import type { Page, SubmittedTaskView, TaskView } from '@app/contracts/dto/scheduler-api';
import { SCHEDULER } from '../api';
import { ErrorNote, Pager, StateBadge, Time, useLoad, useNow } from '../components/common';
import { canSubmit, useConsole } from '../context';
import { followEvents } from '../live-events';
import { CursorPager } from '../logic/cursor-pager';
import { elapsed } from '../logic/time-format';

const STATES = [
  'running',
  'assigned',
  'pending',
  'retrying',
  'succeeded',
  'failed',
  'cancelled',
] as const;

/** Tasks by state, kept current from the live stream; a form to submit one. */
export function TasksPage({ state = 'running' }: { state?: string }) {
  const { api, access } = useConsole();
  const now = useNow();
  const [pager, setPager] = useState(CursorPager.first());
  const [submitting, setSubmitting] = useState(false);
  const list = useLoad(
    () =>
      api.get<Page<TaskView>>(`${SCHEDULER}/v1/tasks`, { state, limit: 50, cursor: pager.cursor }),
    [state, pager.cursor],
  );
  useEffect(() => setPager(CursorPager.first()), [state]);
  useEffect(() => {
    if (list.data)
      setPager((p) =>
        p.next === list.data?.nextCursor ? p : p.loaded(list.data?.nextCursor ?? null),
      );
  }, [list.data]);
  // Any task change may move a task in or out of this list: refetch, at most twice a second.
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const stop = followEvents(api, {
      onEvent: (event) => {
        if (!event.type.startsWith('task.') || pending) return;
        pending = setTimeout(() => {
          pending = undefined;
          list.reload();
        }, 500);
      },
    });
    // And a slow poll: the stream starts with the next event stored, after the list was read.
    const poll = setInterval(() => list.reload(), 5_000);
    return () => {
      stop();
      clearTimeout(pending);
      clearInterval(poll);
    };
  }, [api, state]);

  return (
    <div class="page">
      <h1>Tasks</h1>
      <nav class="tabs" aria-label="task states">
        {STATES.map((s) => (
          <a key={s} href={`#/tasks?state=${s}`} aria-current={s === state ? 'page' : undefined}>
            {s}
          </a>
        ))}
      </nav>
      {canSubmit(access) &&
        (submitting ? (
          <SubmitForm onDone={() => setSubmitting(false)} />
        ) : (
          <button type="button" class="primary" onClick={() => setSubmitting(true)}>
            Submit a task
          </button>
        ))}
      <ErrorNote error={list.error} />
      <table data-testid="tasks">
        <thead>
          <tr>
            <th scope="col">task</th>
            <th scope="col">type</th>
            <th scope="col">state</th>
            <th scope="col">attempt</th>
            <th scope="col">worker</th>
            <th scope="col">created</th>
            <th scope="col">running for / took</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((t) => (
            <tr key={t.id}>
              <th scope="row">
                <a href={`#/tasks/${encodeURIComponent(t.id)}`}>{t.id}</a>
              </th>
              <td>{t.type}</td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td>{t.attempt}</td>
              <td>{t.workers.length > 1 ? t.workers.join(', ') : (t.workerId ?? '—')}</td>
              <td>
                <Time at={t.createdAt} />
              </td>
              <td>{elapsed(t.startedAt, t.finishedAt, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.items.length === 0 && <p class="muted">No {state} task.</p>}
      <Pager pager={pager} onChange={setPager} />
    </div>
  );
}

function SubmitForm({ onDone }: { onDone: () => void }) {
  const { api, announce } = useConsole();
  const [type, setType] = useState('sleep');
  const [payload, setPayload] = useState('{"ms": 1000}');
  const [maxAttempts, setMaxAttempts] = useState('');
  const [parallelism, setParallelism] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    let body: unknown = payload;
    try {
      body = payload.trim() === '' ? undefined : JSON.parse(payload);
    } catch {
      // Sent as text: the API names the field.
    }
    try {
      const task = await api.post<SubmittedTaskView>(`${SCHEDULER}/v1/tasks`, {
        type,
        payload: body,
        retry: maxAttempts ? { maxAttempts: Number(maxAttempts) } : undefined,
        parallelism: parallelism ? Number(parallelism) : undefined,
      });
      announce(`submitted task ${task.id}`);
      location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
      onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form class="card form" onSubmit={submit} aria-label="Submit a task">
      <div class="form-grid">
        <label>
          Handler (type)
          <input name="type" value={type} onInput={(e) => setType(e.currentTarget.value)} />
        </label>
        <label class="wide">
          Payload (JSON)
          <textarea
            name="payload"
            rows={2}
            value={payload}
            onInput={(e) => setPayload(e.currentTarget.value)}
          />
        </label>
        <label>
          Attempts
          <input
            name="maxAttempts"
            inputMode="numeric"
            value={maxAttempts}
            onInput={(e) => setMaxAttempts(e.currentTarget.value)}
          />
        </label>
        <label>
          Gang size (parallelism)
          <input
            name="parallelism"
            inputMode="numeric"
            value={parallelism}
            onInput={(e) => setParallelism(e.currentTarget.value)}
          />
        </label>
      </div>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary">
          Submit
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
