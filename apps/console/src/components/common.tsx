import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from '../api';
import { utcTitle, wallTime } from '../logic/time-format';
import type { CursorPager } from '../logic/cursor-pager';

/** An instant in the browser's zone (or `zone`), the exact UTC instant on hover. */
export function Time({ at, zone }: { at: string | null | undefined; zone?: string }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  return (
    <time dateTime={at} title={utcTitle(at)}>
      {wallTime(at, zone)}
    </time>
  );
}

/** running / capacity as a bar that screen readers read as a meter. */
export function LoadBar({
  running,
  capacity,
  label,
}: {
  running: number;
  capacity: number;
  label: string;
}) {
  const ratio = capacity > 0 ? Math.min(1, running / capacity) : 0;
  return (
    <div
      class="load"
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={capacity}
      aria-valuenow={running}
      aria-valuetext={`${running} of ${capacity} running`}
    >
      <div class={`load-fill ${ratio >= 1 ? 'full' : ''}`} style={{ width: `${ratio * 100}%` }} />
      <span class="load-text">
        {running} / {capacity}
      </span>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

/** An error of the API as a message, plus each field it named. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const failure = error instanceof ApiFailure ? error : undefined;
  return (
    <div class="error" role="alert">
      <strong>{failure ? failure.message : String((error as Error).message ?? error)}</strong>
      {failure && failure.errors.length > 0 && (
        <ul>
          {failure.errors.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code> {e.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Pager({
  pager,
  onChange,
}: {
  pager: CursorPager;
  onChange: (pager: CursorPager) => void;
}) {
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={!pager.hasPrevious} onClick={() => onChange(pager.back())}>
        ← Previous
      </button>
      <span aria-live="polite">page {pager.page}</span>
      <button type="button" disabled={!pager.hasNext} onClick={() => onChange(pager.forward())}>
        Next →
      </button>
    </nav>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card" aria-label={title}>
      <header class="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** Re-renders every `ms` (relative times, running durations). */
export function useNow(ms = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/**
 * Loads `load()` now and whenever `deps` change; `reload` loads again. The
 * last answer stays shown while the next one loads (no flicker on refresh).
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
): { data: T | undefined; error: unknown; reload: () => void; loading: boolean } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((n) => n + 1) };
}
