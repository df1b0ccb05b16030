import { useEffect, useState } from 'preact/hooks';
import type { JobView, Page, TaskView } from '@app/contracts/dto/scheduler-api';
import { SCHEDULER } from '../api';
import { JobActions } from '../components/actions';
import { ErrorNote, Pager, StateBadge, Time, useLoad } from '../components/common';
import { canAdmin, useConsole } from '../context';
import { CursorPager } from '../logic/cursor-pager';
import { scheduleWords } from '../logic/schedule-words';
import { JobForm } from './job-form';

const PAGE_SIZE = 50;

/**
 * Jobs a page at a time from the scheduler's job view (server-side paging and
 * name search: the list stays as fast at 100,000 jobs as at 10).
 */
export function JobsPage() {
  const { api, access } = useConsole();
  const [search, setSearch] = useState('');
  const [name, setName] = useState('');
  const [pager, setPager] = useState(CursorPager.first());
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    const timer = setTimeout(() => {
      setName(search.trim());
      setPager(CursorPager.first());
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);

  const { data, error, reload } = useLoad(
    () =>
      api.get<Page<JobView>>(`${SCHEDULER}/v1/jobs`, {
        limit: PAGE_SIZE,
        cursor: pager.cursor,
        name: name || undefined,
      }),
    [pager.cursor, name],
  );
  useEffect(() => {
    if (data) setPager((p) => (p.next === data.nextCursor ? p : p.loaded(data.nextCursor)));
  }, [data]);

  return (
    <div class="page">
      <h1>Jobs</h1>
      <div class="toolbar">
        <label>
          Search by name{' '}
          <input type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        {canAdmin(access) && !creating && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New job
          </button>
        )}
      </div>
      {creating && (
        <JobForm
          onDone={(job) => {
            setCreating(false);
            if (job) location.hash = `#/jobs/${job.id}`;
          }}
        />
      )}
      <ErrorNote error={error} />
      <table data-testid="jobs">
        <thead>
          <tr>
            <th scope="col">name</th>
            <th scope="col">schedule</th>
            <th scope="col">zone</th>
            <th scope="col">next fire</th>
            <th scope="col">last fire</th>
            <th scope="col">last outcome</th>
            <th scope="col">state</th>
            <th scope="col">actions</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((job) => (
            <tr key={job.id} data-job={job.name}>
              <th scope="row">
                <a href={`#/jobs/${job.id}`}>{job.name}</a>
                <div class="muted small">{job.type}</div>
              </th>
              <td title={job.schedule ?? job.runAt ?? ''}>
                {job.schedule ? scheduleWords(job.schedule) : 'once'}
              </td>
              <td>{job.timezone}</td>
              <td>
                <Time at={job.nextFireAt} />
              </td>
              <td>
                <Time at={job.lastFireAt} />
              </td>
              <td>
                <LastOutcome job={job} />
              </td>
              <td>
                {job.paused ? (
                  <span class="badge paused">paused</span>
                ) : (
                  <span class="badge">active</span>
                )}
              </td>
              <td>
                <JobActions job={job} onChanged={() => reload()} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && (
        <p class="muted">No job{name ? ` named like “${name}”` : ''}.</p>
      )}
      <Pager pager={pager} onChange={setPager} />
    </div>
  );
}

/**
 * The state of the task of the job's last fire: its id is `<jobId>@<fire
 * instant in ms>` (fireTaskId in libs/contracts), so one read per row of the
 * page shown (the scheduler falls back to the history once it left ZooKeeper).
 * A fire that made no task (skipped by the concurrency policy) shows a dash.
 */
function LastOutcome({ job }: { job: JobView }) {
  const { api } = useConsole();
  const { data } = useLoad(
    () =>
      job.lastFireAt === null
        ? Promise.resolve(null)
        : api.get<TaskView>(
            `${SCHEDULER}/v1/tasks/${encodeURIComponent(`${job.id}@${Date.parse(job.lastFireAt)}`)}`,
          ),
    [job.id, job.lastFireAt],
  );
  return data ? <StateBadge state={data.state} /> : <span class="muted">—</span>;
}
