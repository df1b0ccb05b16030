import { useEffect, useState } from 'preact/hooks';
import type { CreateJobBody, JobPreviewView, JobView } from '@app/contracts/dto/scheduler-api';
import { ApiFailure, SCHEDULER } from '../api';
import { ErrorNote, Time } from '../components/common';
import { useConsole } from '../context';
import { scheduleWords } from '../logic/schedule-words';
import { wallTime } from '../logic/time-format';

interface Draft {
  name: string;
  type: string;
  payload: string;
  timing: 'schedule' | 'runAt';
  schedule: string;
  timezone: string;
  runAt: string;
  maxAttempts: string;
  backoffMs: string;
  timeoutMs: string;
  concurrency: string;
  misfire: string;
  paused: boolean;
}

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

function draftOf(job: JobView | undefined): Draft {
  return {
    name: job?.name ?? '',
    type: job?.type ?? 'noop',
    payload:
      job && job.payload !== undefined && job.payload !== null
        ? JSON.stringify(job.payload, null, 2)
        : '',
    timing: job?.runAt ? 'runAt' : 'schedule',
    schedule: job?.schedule ?? '*/5 * * * *',
    timezone: job?.timezone ?? 'UTC',
    runAt: job?.runAt ?? '',
    maxAttempts: job ? String(job.retry.maxAttempts) : '',
    backoffMs: job ? String(job.retry.backoffMs) : '',
    timeoutMs: job?.timeoutMs ? String(job.timeoutMs) : '',
    concurrency: job?.concurrency ?? 'allow',
    misfire: job?.misfire ?? 'fire_once',
    paused: job?.paused ?? false,
  };
}

/** The body the API gets; a payload that is not JSON is sent as text for the API to refuse by name. */
function bodyOf(draft: Draft): CreateJobBody {
  let payload: unknown = undefined;
  if (draft.payload.trim() !== '') {
    try {
      payload = JSON.parse(draft.payload);
    } catch {
      payload = draft.payload;
    }
  }
  const number = (text: string): number | undefined =>
    text.trim() === '' ? undefined : Number(text);
  const maxAttempts = number(draft.maxAttempts);
  return {
    name: draft.name,
    type: draft.type,
    payload,
    ...(draft.timing === 'schedule'
      ? { schedule: draft.schedule, timezone: draft.timezone }
      : { runAt: draft.runAt, timezone: draft.timezone }),
    retry:
      maxAttempts === undefined ? undefined : { maxAttempts, backoffMs: number(draft.backoffMs) },
    timeoutMs: number(draft.timeoutMs),
    concurrency: draft.concurrency as CreateJobBody['concurrency'],
    misfire: draft.misfire as CreateJobBody['misfire'],
    paused: draft.paused,
  };
}

/**
 * Create or edit a job. The next 10 fire instants are previewed by the
 * scheduler (POST /v1/jobs/preview: the code the leader fires with) as the
 * schedule is typed; errors from the API are shown at their fields.
 */
export function JobForm({ job, onDone }: { job?: JobView; onDone: (job: JobView | null) => void }) {
  const { api, announce } = useConsole();
  const [draft, setDraft] = useState<Draft>(() => draftOf(job));
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [preview, setPreview] = useState<JobPreviewView | null>(null);
  const [previewError, setPreviewError] = useState<ApiFailure | null>(null);
  const set = (field: keyof Draft) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setDraft({ ...draft, [field]: target.type === 'checkbox' ? target.checked : target.value });
  };

  useEffect(() => {
    const timer = setTimeout(() => {
      const timing =
        draft.timing === 'schedule'
          ? { schedule: draft.schedule, timezone: draft.timezone }
          : { runAt: draft.runAt, timezone: draft.timezone };
      api.post<JobPreviewView>(`${SCHEDULER}/v1/jobs/preview`, { ...timing, count: 10 }).then(
        (answer) => {
          setPreview(answer);
          setPreviewError(null);
        },
        (failure: unknown) => {
          setPreview(null);
          setPreviewError(failure instanceof ApiFailure ? failure : null);
        },
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [draft.timing, draft.schedule, draft.timezone, draft.runAt]);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setSaving(true);
    try {
      const body = bodyOf(draft);
      const saved = job
        ? await api.patch<JobView>(`${SCHEDULER}/v1/jobs/${job.id}`, body)
        : await api.post<JobView>(`${SCHEDULER}/v1/jobs`, body);
      announce(`${job ? 'saved' : 'created'} job ${saved.name}`);
      onDone(saved);
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };

  const failure = error instanceof ApiFailure ? error : null;
  const fieldError = (field: string) => {
    const reason =
      failure?.reasonFor(field) ??
      (field === 'schedule' || field === 'timezone' || field === 'runAt'
        ? previewError?.reasonFor(field)
        : undefined);
    return reason ? (
      <span class="field-error" id={`err-${field}`} role="alert">
        {field} {reason}
      </span>
    ) : null;
  };
  const described = (field: string) => (fieldError(field) ? `err-${field}` : undefined);

  return (
    <form class="card form" onSubmit={submit} aria-label={job ? `Edit job ${job.name}` : 'New job'}>
      <h2>{job ? `Edit ${job.name}` : 'New job'}</h2>
      <div class="form-grid">
        <label>
          Name
          <input
            name="name"
            value={draft.name}
            onInput={set('name')}
            required
            aria-describedby={described('name')}
          />
          {fieldError('name')}
        </label>
        <label>
          Handler (type)
          <input
            name="type"
            value={draft.type}
            onInput={set('type')}
            list="handlers"
            aria-describedby={described('type')}
          />
          <datalist id="handlers">
            {['noop', 'sleep', 'http', 'shell', 'logs.compress'].map((h) => (
              <option key={h} value={h} />
            ))}
          </datalist>
          {fieldError('type')}
        </label>
        <fieldset>
          <legend>When</legend>
          <label class="inline">
            <input
              type="radio"
              name="timing"
              value="schedule"
              checked={draft.timing === 'schedule'}
              onChange={set('timing')}
            />{' '}
            cron schedule
          </label>
          <label class="inline">
            <input
              type="radio"
              name="timing"
              value="runAt"
              checked={draft.timing === 'runAt'}
              onChange={set('timing')}
            />{' '}
            once, at a time
          </label>
        </fieldset>
        {draft.timing === 'schedule' ? (
          <label>
            Schedule (cron, 5 or 6 fields)
            <input
              name="schedule"
              value={draft.schedule}
              onInput={set('schedule')}
              aria-describedby={described('schedule') ?? 'schedule-words'}
            />
            <span class="hint" id="schedule-words">
              {scheduleWords(draft.schedule)}
            </span>
            {fieldError('schedule')}
          </label>
        ) : (
          <label>
            Run at (ISO 8601 with offset)
            <input
              name="runAt"
              value={draft.runAt}
              onInput={set('runAt')}
              placeholder="2030-01-01T09:00:00Z"
              aria-describedby={described('runAt')}
            />
            {fieldError('runAt')}
          </label>
        )}
        <label>
          Time zone
          <input
            name="timezone"
            value={draft.timezone}
            onInput={set('timezone')}
            list="zones"
            aria-describedby={described('timezone')}
          />
          <datalist id="zones">
            {[
              'UTC',
              BROWSER_ZONE,
              'Europe/London',
              'Europe/Paris',
              'America/New_York',
              'Asia/Tokyo',
            ].map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
          {fieldError('timezone')}
        </label>
        <label class="wide">
          Payload (JSON)
          <textarea
            name="payload"
            rows={3}
            value={draft.payload}
            onInput={set('payload')}
            aria-describedby={described('payload')}
          />
          {fieldError('payload')}
        </label>
        <label>
          Attempts
          <input
            name="maxAttempts"
            inputMode="numeric"
            value={draft.maxAttempts}
            onInput={set('maxAttempts')}
            placeholder="1"
            aria-describedby={described('retry')}
          />
          {fieldError('retry')}
        </label>
        <label>
          Backoff (ms)
          <input
            name="backoffMs"
            inputMode="numeric"
            value={draft.backoffMs}
            onInput={set('backoffMs')}
            placeholder="1000"
          />
        </label>
        <label>
          Timeout (ms)
          <input
            name="timeoutMs"
            inputMode="numeric"
            value={draft.timeoutMs}
            onInput={set('timeoutMs')}
            aria-describedby={described('timeoutMs')}
          />
          {fieldError('timeoutMs')}
        </label>
        <label>
          Concurrency
          <select name="concurrency" value={draft.concurrency} onChange={set('concurrency')}>
            <option value="allow">allow</option>
            <option value="forbid">forbid</option>
            <option value="replace">replace</option>
          </select>
        </label>
        <label>
          Misfire
          <select name="misfire" value={draft.misfire} onChange={set('misfire')}>
            <option value="skip">skip</option>
            <option value="fire_once">fire once</option>
            <option value="fire_all">fire all</option>
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" name="paused" checked={draft.paused} onChange={set('paused')} />{' '}
          paused
        </label>
      </div>
      <section class="preview" aria-label="Next fire instants" aria-live="polite">
        <h3>
          Next fires{' '}
          {preview && (
            <span class="muted">
              ({preview.timezone}; your zone {BROWSER_ZONE})
            </span>
          )}
        </h3>
        {preview === null ? (
          <p class="muted">{previewError ? 'fix the timing to see when it fires' : '…'}</p>
        ) : preview.instants.length === 0 ? (
          <p class="muted">never</p>
        ) : (
          <ol data-testid="preview">
            {preview.instants.map((i) => (
              <li key={i.at}>
                <span title={`${i.at} UTC`}>{i.local.replace('T', ' ')}</span>{' '}
                <span class="muted">
                  = <Time at={i.at} /> here
                  {BROWSER_ZONE === 'UTC' ? '' : ` (${wallTime(i.at, 'UTC')} UTC)`}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
      {error !== null && <ErrorNote error={error} />}
      <div class="actions">
        <button type="submit" class="primary" disabled={saving}>
          {job ? 'Save' : 'Create job'}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
