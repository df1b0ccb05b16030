import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AuditEventView, TaskRatesView } from '@app/contracts/dto/registry-api';
import { Chart } from '../components/chart';
import { LoadBar, Section, Time, useNow } from '../components/common';
import { useConsole } from '../context';
import { followEvents } from '../live-events';
import { RATE_OUTCOMES, RateWindow, type RateOutcome } from '../logic/rate-window';
import { relative } from '../logic/time-format';

const COLORS: Record<RateOutcome, string> = {
  'task.created': '#3b6fd8',
  'task.succeeded': '#1f9d55',
  'task.failed': '#d64545',
  'task.retry_scheduled': '#e08a00',
  'task.reassigned': '#8a4fd8',
  'task.cancelled': '#6b7280',
  'task.timed_out': '#a0522d',
};
const MEMBER_EVENTS = new Set(['worker.joined', 'worker.left', 'leader.elected', 'leader.revoked']);

/** The cluster as it is now, its throughput, and who came and went. */
export function ClusterPage() {
  const { api, cluster, refreshCluster } = useConsole();
  const now = useNow();
  const rates = useRef(new RateWindow(900));
  const [ratesReady, setRatesReady] = useState(false);
  const [changes, setChanges] = useState<AuditEventView[]>([]);

  useEffect(() => {
    let stop = (): void => undefined;
    api.get<TaskRatesView>('/v1/task-rates', { minutes: 15 }).then(
      (view) => {
        for (const second of view.seconds) {
          for (const [type, count] of Object.entries(second.counts)) {
            rates.current.add(second.at, type, count);
          }
        }
        setRatesReady(true);
      },
      () => setRatesReady(true),
    );
    stop = followEvents(api, {
      onEvent: (event) => {
        rates.current.add(Math.floor(Date.parse(event.time) / 1000), event.type);
        if (MEMBER_EVENTS.has(event.type)) {
          setChanges((list) => [event, ...list].slice(0, 50));
          refreshCluster();
        }
      },
    });
    return () => stop();
  }, [api]);

  const series = useMemo(() => {
    const { x, values } = rates.current.series(Math.floor(now / 1000));
    return {
      x,
      series: RATE_OUTCOMES.map((outcome) => ({
        label: outcome.replace('task.', ''),
        color: COLORS[outcome],
        values: values[outcome],
      })),
    };
  }, [now, ratesReady]);

  if (cluster === null) return <p>Loading the cluster…</p>;
  const leader = cluster.leader;
  const standbys = cluster.schedulers.filter((s) => !s.leader);
  const perMinute = Math.round(
    rates.current.recentRate('task.succeeded', Math.floor(now / 1000)) * 60,
  );

  return (
    <div class="page">
      <h1>Cluster</h1>
      {cluster.stale && (
        <p class="warning" role="status">
          The registry's ZooKeeper connection is in trouble: this view may be out of date.
        </p>
      )}
      <div class="grid">
        <Section title="Leader">
          {leader === null ? (
            <p class="warning">No scheduler leads: nothing fires and nothing is assigned.</p>
          ) : (
            <dl class="facts" data-testid="leader">
              <dt>id</dt>
              <dd>{leader.id}</dd>
              <dt>pid</dt>
              <dd>{leader.pid}</dd>
              <dt>endpoint</dt>
              <dd>{leader.endpoint}</dd>
              <dt>since</dt>
              <dd>
                <Time at={leader.since} /> ({relative(leader.since, now)})
              </dd>
              <dt>fencing epoch</dt>
              <dd title={leader.fencingToken}>{leader.epoch}</dd>
              {!leader.inElection && (
                <>
                  <dt>state</dt>
                  <dd class="warning">left the election; a standby is taking over</dd>
                </>
              )}
            </dl>
          )}
          <h3>Standbys</h3>
          {standbys.length === 0 ? (
            <p class="muted">none</p>
          ) : (
            <ul class="plain">
              {standbys.map((s) => (
                <li key={s.id}>
                  {s.id}{' '}
                  <span class="muted">
                    pid {s.pid}, {s.endpoint}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Coordination">
          <dl class="facts">
            <dt>ZooKeeper</dt>
            <dd>
              <span class={`badge zk-${cluster.zookeeper.state}`}>{cluster.zookeeper.state}</span>
            </dd>
            <dt>audit outbox</dt>
            <dd data-testid="outbox">
              {cluster.outboxDepth === null ? 'unknown' : `${cluster.outboxDepth} waiting`}
            </dd>
            <dt>drainer</dt>
            <dd>
              {cluster.drainer ?? <span class="warning">none: history is not being stored</span>}
            </dd>
            <dt>registries</dt>
            <dd>
              {cluster.registries.map((r) => (
                <div key={r.id}>
                  {r.id}{' '}
                  <span class="muted">
                    {r.endpoint}
                    {r.drainer ? ', drains' : ''}
                  </span>
                </div>
              ))}
            </dd>
            <dt>succeeded / min</dt>
            <dd>{perMinute}</dd>
          </dl>
        </Section>
      </div>
      <Section title={`Workers (${cluster.workers.length})`}>
        <table data-testid="workers">
          <thead>
            <tr>
              <th scope="col">worker</th>
              <th scope="col">load</th>
              <th scope="col">labels</th>
              <th scope="col">pid</th>
              <th scope="col">up since</th>
            </tr>
          </thead>
          <tbody>
            {cluster.workers.map((w) => (
              <tr key={w.id} data-worker={w.id}>
                <th scope="row">
                  {w.id} {w.draining && <span class="badge">draining</span>}
                </th>
                <td>
                  <LoadBar running={w.running} capacity={w.capacity} label={`load of ${w.id}`} />
                </td>
                <td>
                  {Object.entries(w.labels).map(([k, v]) => (
                    <span class="label" key={k}>
                      {k}={v}
                    </span>
                  ))}
                </td>
                <td>{w.pid}</td>
                <td>
                  <Time at={w.startedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {cluster.workers.length === 0 && (
          <p class="warning">No worker is live: tasks wait in the queue.</p>
        )}
      </Section>
      <Section title="Tasks per second, last 15 minutes">
        <Chart
          title="Tasks per second by outcome"
          summary={`${perMinute} tasks succeeded in the last minute`}
          x={series.x}
          series={series.series}
        />
      </Section>
      <Section title="Members joining and leaving">
        {changes.length === 0 ? (
          <p class="muted">Nothing since this page opened.</p>
        ) : (
          <ol class="feed" aria-live="polite" data-testid="member-feed">
            {changes.map((e) => (
              <li key={e.id}>
                <Time at={e.time} /> <strong>{e.type}</strong> {e.workerId ?? e.actor}
                {typeof e.detail?.reason === 'string' && (
                  <span class="muted"> ({e.detail.reason})</span>
                )}
              </li>
            ))}
          </ol>
        )}
      </Section>
    </div>
  );
}
