import { useEffect, useState } from 'preact/hooks';
import { AUDIT_EVENT_TYPES } from '@app/contracts/audit-event';
import type { AuditEventView, AuditPageView } from '@app/contracts/dto/registry-api';
import { ErrorNote, Pager, Time, useLoad } from '../components/common';
import { useConsole } from '../context';
import { followEvents } from '../live-events';
import { CursorPager } from '../logic/cursor-pager';

const FILTERS = ['jobId', 'taskId', 'workerId', 'type', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** The audit history with the API's filters and keyset pages, and a live tail of the same filters. */
export function HistoryPage() {
  const { api } = useConsole();
  const [draft, setDraft] = useState<Filters>({});
  const [filters, setFilters] = useState<Filters>({});
  const [pager, setPager] = useState(CursorPager.first());
  const [tail, setTail] = useState(false);
  const [live, setLive] = useState<AuditEventView[]>([]);
  const [streamState, setStreamState] = useState<'connecting' | 'open' | 'reconnecting'>(
    'connecting',
  );
  const page = useLoad(
    () => api.get<AuditPageView>('/v1/audit', { ...filters, cursor: pager.cursor, limit: 100 }),
    [JSON.stringify(filters), pager.cursor],
  );
  useEffect(() => {
    if (page.data)
      setPager((p) =>
        p.next === page.data?.nextCursor ? p : p.loaded(page.data?.nextCursor ?? null),
      );
  }, [page.data]);
  useEffect(() => {
    if (!tail) return undefined;
    setLive([]);
    const { since: _since, until: _until, ...streamFilter } = filters;
    const defined = Object.fromEntries(Object.entries(streamFilter).filter(([, v]) => v)) as Record<
      string,
      string
    >;
    setStreamState('connecting');
    return followEvents(api, {
      filter: defined,
      onEvent: (event) => setLive((list) => [event, ...list].slice(0, 500)),
      onState: setStreamState,
    });
  }, [api, tail, JSON.stringify(filters)]);

  const apply = (event: Event): void => {
    event.preventDefault();
    const cleaned: Filters = {};
    for (const key of FILTERS) {
      const value = draft[key]?.trim();
      if (value)
        cleaned[key] = key === 'since' || key === 'until' ? new Date(value).toISOString() : value;
    }
    setFilters(cleaned);
    setPager(CursorPager.first());
  };
  const field = (key: (typeof FILTERS)[number]) => (e: Event) =>
    setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement).value });

  return (
    <div class="page">
      <h1>History</h1>
      <form class="card form" onSubmit={apply} aria-label="Filter the history">
        <div class="form-grid">
          {(['jobId', 'taskId', 'workerId'] as const).map((key) => (
            <label key={key}>
              {key}
              <input name={key} value={draft[key] ?? ''} onInput={field(key)} />
            </label>
          ))}
          <label>
            type
            <select name="type" value={draft.type ?? ''} onChange={field('type')}>
              <option value="">any</option>
              {AUDIT_EVENT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label>
            since (your zone)
            <input
              type="datetime-local"
              step={1}
              name="since"
              value={draft.since ?? ''}
              onInput={field('since')}
            />
          </label>
          <label>
            until (your zone)
            <input
              type="datetime-local"
              step={1}
              name="until"
              value={draft.until ?? ''}
              onInput={field('until')}
            />
          </label>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            Search
          </button>
          <label class="inline">
            <input
              type="checkbox"
              checked={tail}
              onChange={(e) => setTail(e.currentTarget.checked)}
            />{' '}
            live tail
          </label>
        </div>
      </form>
      <ErrorNote error={page.error} />
      {tail && (
        <section class="card" aria-label="Live tail">
          <h2>
            Live ({live.length}){' '}
            <span class="muted small" data-testid="stream-state">
              {streamState === 'open' ? 'following' : `${streamState}…`}
            </span>
          </h2>
          <EventTable events={live} />
        </section>
      )}
      <EventTable events={page.data?.items ?? []} />
      <Pager pager={pager} onChange={setPager} />
    </div>
  );
}

function EventTable({ events }: { events: AuditEventView[] }) {
  return (
    <table data-testid="history">
      <thead>
        <tr>
          <th scope="col">seq</th>
          <th scope="col">time</th>
          <th scope="col">type</th>
          <th scope="col">job / task / worker</th>
          <th scope="col">actor</th>
          <th scope="col">detail</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id}>
            <td>{e.seq}</td>
            <td>
              <Time at={e.time} />
            </td>
            <td>{e.type}</td>
            <td>
              {e.jobId && <a href={`#/jobs/${e.jobId}`}>job</a>}{' '}
              {e.taskId && <a href={`#/tasks/${encodeURIComponent(e.taskId)}`}>{e.taskId}</a>}{' '}
              {e.workerId}
              {e.attempt !== null && ` #${e.attempt}`}
            </td>
            <td class="small">{e.actor}</td>
            <td class="small">{e.detail ? <code>{JSON.stringify(e.detail)}</code> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
