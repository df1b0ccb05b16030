import { useEffect, useState } from 'preact/hooks';
import type { JobView, Page, TaskView } from '@app/contracts/dto/scheduler-api';
import type { AuditEventView, AuditPageView } from '@app/contracts/dto/registry-api';
import { SCHEDULER, type Api } from '../api';
import { JobActions } from '../components/actions';
import { followEvents } from '../live-events';
import { Chart } from '../components/chart';
import { ErrorNote, Section, StateBadge, Time, useLoad, useNow } from '../components/common';
import { canAdmin, useConsole } from '../context';
import { scheduleWords } from '../logic/schedule-words';
import { elapsed } from '../logic/time-format';
import { JobForm } from './job-form';

const CHANGE_TYPES = ['job.created', 'job.updated', 'job.paused', 'job.resumed', 'job.deleted'];
const RUNS = 200;
/** Pages of the task list read at most for a job page (1,000 tasks each). */
const RUN_PAGES = 3;

/**
 * The job's latest runs. The task list has no "newest first": it gives the
 * tasks still in ZooKeeper (the recent ones, by id: a fire's id ends in its
 * instant) before the history's. Up to RUN_PAGES pages are read and the
 * latest RUNS kept, so a job with thousands of live tasks still shows its
 * newest runs.
 */
async function latestRuns(api: Api, jobId: string): Promise<TaskView[]> {
  const all: TaskView[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < RUN_PAGES; page++) {
    const answer = await api.get<Page<TaskView>>(`${SCHEDULER}/v1/tasks`, {
      jobId,
      limit: 1_000,
      cursor,
    });
    all.push(...answer.items);
    if (answer.nextCursor === null) break;
    cursor = answer.nextCursor;
  }
  return all.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, RUNS);
}

/** One job: its definition, its runs with a duration chart, and who changed it when. */
export function JobPage({ id }: { id: string }) {
  const { api, access } = useConsole();
  const now = useNow();
  const [editing, setEditing] = useState(false);
  const job = useLoad(
    () => api.get<JobView>(`${SCHEDULER}/v1/jobs/${encodeURIComponent(id)}`),
    [id],
  );
  const runs = useLoad(() => latestRuns(api, id), [id]);
  const changes = useLoad(async () => {
    // One query per change type (the audit index is per type): a job's task events are not read.
    const pages = await Promise.all(
      CHANGE_TYPES.map((type) =>
        api.get<AuditPageView>('/v1/audit', { jobId: id, type, limit: 100 }),
      ),
    );
    return pages.flatMap((p) => p.items).sort((a, b) => Number(BigInt(b.seq) - BigInt(a.seq)));
  }, [id]);

  // Live: a change of the job reloads it and its history at once; runs are refetched now and
  // then (and the changes too: the stream starts with the next event stored, after the reads).
  useEffect(() => {
    const stop = followEvents(api, {
      filter: { jobId: id },
      onEvent: (event) => {
        if (!event.type.startsWith('job.')) return;
        job.reload();
        changes.reload();
      },
    });
    const poll = setInterval(() => {
      runs.reload();
      changes.reload();
    }, 10_000);
    return () => {
      stop();
      clearInterval(poll);
    };
  }, [api, id]);

  if (job.error) return <ErrorNote error={job.error} />;
  if (!job.data) return <p>Loading…</p>;
  const j = job.data;
  const finished = (runs.data ?? []).filter((t) => t.startedAt && t.finishedAt).reverse();
  return (
    <div class="page">
      <p>
        <a href="#/jobs">← Jobs</a>
      </p>
      <h1>
        {j.name} {j.paused && <span class="badge paused">paused</span>}
      </h1>
      <div class="row-actions">
        <JobActions
          job={j}
          onChanged={(changed) => {
            if (changed === null) location.hash = '#/jobs';
            else {
              job.reload();
              runs.reload();
              changes.reload();
            }
          }}
        />
        {canAdmin(access) && !editing && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
      </div>
      {editing && (
        <JobForm
          job={j}
          onDone={(saved) => {
            setEditing(false);
            if (saved) {
              job.reload();
              changes.reload();
            }
          }}
        />
      )}
      <Section title="Definition">
        <dl class="facts">
          <dt>schedule</dt>
          <dd>
            {j.schedule ? (
              <>
                {scheduleWords(j.schedule)} <code>{j.schedule}</code>
              </>
            ) : (
              <>
                once at <Time at={j.runAt} />
              </>
            )}
          </dd>
          <dt>time zone</dt>
          <dd>{j.timezone}</dd>
          <dt>next fire</dt>
          <dd>
            <Time at={j.nextFireAt} />
          </dd>
          <dt>last fire</dt>
          <dd>
            <Time at={j.lastFireAt} />
          </dd>
          <dt>handler</dt>
          <dd>{j.type}</dd>
          <dt>payload</dt>
          <dd>
            <code>{JSON.stringify(j.payload)}</code>
          </dd>
          <dt>policies</dt>
          <dd>
            {j.retry.maxAttempts} attempt(s), backoff {j.retry.backoffMs} ms; concurrency{' '}
            {j.concurrency}; misfire {j.misfire}; timeout {j.timeoutMs ?? 'none'}; parallelism{' '}
            {j.parallelism}
          </dd>
          <dt>id</dt>
          <dd>
            <code>{j.id}</code>
          </dd>
        </dl>
      </Section>
      <Section title="Run durations">
        {finished.length === 0 ? (
          <p class="muted">No finished run yet.</p>
        ) : (
          <Chart
            title="Duration of each run"
            summary={`${finished.length} finished runs`}
            points
            yLabel="ms"
            x={finished.map((t) => Date.parse(t.startedAt as string) / 1000)}
            series={[
              {
                label: 'duration (ms)',
                color: '#3b6fd8',
                values: finished.map(
                  (t) => Date.parse(t.finishedAt as string) - Date.parse(t.startedAt as string),
                ),
              },
            ]}
          />
        )}
      </Section>
      <Section
        title="Runs"
        actions={
          <button type="button" onClick={() => runs.reload()}>
            Refresh
          </button>
        }
      >
        <ErrorNote error={runs.error} />
        <table data-testid="runs">
          <thead>
            <tr>
              <th scope="col">task</th>
              <th scope="col">state</th>
              <th scope="col">attempt</th>
              <th scope="col">worker</th>
              <th scope="col">started</th>
              <th scope="col">duration</th>
            </tr>
          </thead>
          <tbody>
            {(runs.data ?? []).map((t) => (
              <tr key={t.id}>
                <th scope="row">
                  <a href={`#/tasks/${encodeURIComponent(t.id)}`}>
                    {t.fireTime ? 'fire' : 'manual'}
                  </a>{' '}
                  <Time at={t.fireTime ?? t.createdAt} />
                </th>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td>{t.attempt}</td>
                <td>{t.workers.length > 1 ? t.workers.join(', ') : (t.workerId ?? '—')}</td>
                <td>
                  <Time at={t.startedAt} />
                </td>
                <td>{elapsed(t.startedAt, t.finishedAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Changes (audit history)">
        <ErrorNote error={changes.error} />
        <ol class="feed" data-testid="changes">
          {(changes.data ?? []).map((e: AuditEventView) => (
            <li key={e.id}>
              <Time at={e.time} /> <strong>{e.type.replace('job.', '')}</strong> by{' '}
              {typeof e.detail?.token === 'string' ? (
                <>
                  token <strong>{e.detail.token}</strong>{' '}
                  <span class="muted small">({e.actor})</span>
                </>
              ) : (
                <code>{e.actor}</code>
              )}
              <ChangedFields changed={e.detail?.changed} />
            </li>
          ))}
        </ol>
      </Section>
    </div>
  );
}

/** `detail.changed` of a job.updated/paused/resumed event: one line per field, from → to. */
function ChangedFields({ changed }: { changed: unknown }) {
  if (changed === null || typeof changed !== 'object') return null;
  const entries = Object.entries(changed as Record<string, { from?: unknown; to?: unknown }>);
  if (entries.length === 0) return null;
  const show = (value: unknown): string =>
    value === undefined ? '(unset)' : JSON.stringify(value);
  return (
    <ul class="changes">
      {entries.map(([field, { from, to }]) => (
        <li key={field}>
          <code>{field}</code>: {show(from)} → {show(to)}
        </li>
      ))}
    </ul>
  );
}
