import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { AccessView, ClusterView } from '@app/contracts/dto/registry-api';
import { Api, ApiFailure } from './api';
import { ConsoleContext, type Console } from './context';
import { ClusterPage } from './pages/cluster-page';
import { HistoryPage } from './pages/history-page';
import { JobPage } from './pages/job-page';
import { JobsPage } from './pages/jobs-page';
import { TaskPage } from './pages/task-page';
import { TasksPage } from './pages/tasks-page';

const CLUSTER_POLL_MS = 2_000;

interface Route {
  page: 'cluster' | 'jobs' | 'job' | 'tasks' | 'task' | 'history';
  id?: string;
  query: URLSearchParams;
}

/** `#/jobs/<id>`, `#/tasks?state=failed`…: hash routes, so the registry serves one file. */
export function routeOf(hash: string): Route {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  const [, section = '', id] = path.split('/');
  const query = new URLSearchParams(search);
  if (section === 'jobs')
    return id ? { page: 'job', id: decodeURIComponent(id), query } : { page: 'jobs', query };
  if (section === 'tasks')
    return id ? { page: 'task', id: decodeURIComponent(id), query } : { page: 'tasks', query };
  if (section === 'history') return { page: 'history', query };
  return { page: 'cluster', query };
}

const NAV: Array<[Route['page'], string, string]> = [
  ['cluster', '#/cluster', 'Cluster'],
  ['jobs', '#/jobs', 'Jobs'],
  ['tasks', '#/tasks', 'Tasks'],
  ['history', '#/history', 'History'],
];

export function App() {
  const api = useMemo(() => new Api(sessionStorage), []);
  const [route, setRoute] = useState(routeOf(location.hash));
  const [access, setAccess] = useState<AccessView | null>(null);
  const [needToken, setNeedToken] = useState(false);
  const [tokenError, setTokenError] = useState<string | null>(null);
  const [cluster, setCluster] = useState<ClusterView | null>(null);
  const [registryDown, setRegistryDown] = useState(false);
  const [status, setStatus] = useState('');

  // A new page: its name in the title, and focus on the content, so a screen reader starts there.
  useEffect(() => {
    const label = NAV.find(
      ([page]) => page === route.page || `${page.replace(/s$/, '')}` === route.page,
    );
    document.title = `${label?.[2] ?? 'Console'} · zk-scheduler`;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.page, route.id]);
  useEffect(() => {
    const follow = (): void => setRoute(routeOf(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(
    () =>
      api.onHealth(({ reachable, unauthenticated }) => {
        setRegistryDown(!reachable);
        if (unauthenticated) setNeedToken(true);
      }),
    [api],
  );

  const loadAccess = useCallback(async (): Promise<void> => {
    try {
      setAccess(await api.get<AccessView>('/v1/access'));
      setNeedToken(false);
      setTokenError(null);
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) {
        setNeedToken(true);
        if (api.hasToken) setTokenError('That token is not valid.');
      }
    }
  }, [api]);
  useEffect(() => void loadAccess(), [loadAccess]);

  const refreshCluster = useCallback(() => {
    api.get<ClusterView>('/v1/cluster').then(setCluster, () => undefined);
  }, [api]);
  useEffect(() => {
    if (access === null) return undefined;
    refreshCluster();
    const timer = setInterval(refreshCluster, CLUSTER_POLL_MS);
    return () => clearInterval(timer);
  }, [access, refreshCluster]);

  // The toast goes after a few seconds; the status line keeps the words for screen readers.
  const [toast, setToast] = useState('');
  useEffect(() => {
    setToast(status);
    const timer = setTimeout(() => setToast(''), 4_000);
    return () => clearTimeout(timer);
  }, [status]);

  const value: Console | null =
    access === null ? null : { api, access, cluster, refreshCluster, announce: setStatus };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">zk-scheduler</span>
        <nav aria-label="sections">
          {NAV.map(([page, href, label]) => (
            <a
              key={page}
              href={href}
              aria-current={
                route.page === page || route.page === `${page.replace(/s$/, '')}`
                  ? 'page'
                  : undefined
              }
            >
              {label}
            </a>
          ))}
        </nav>
        {access && (
          <span class="who" data-testid="access">
            {access.tokensRequired
              ? `${access.tokenName} (${access.role})`
              : 'no tokens: full access'}
            {access.role === 'reader' && <span class="badge">read-only</span>}
            {access.tokensRequired && (
              <button
                type="button"
                onClick={() => {
                  api.setToken(null);
                  setAccess(null);
                  setNeedToken(true);
                }}
              >
                Sign out
              </button>
            )}
          </span>
        )}
      </header>
      {registryDown && (
        <div class="banner" role="alert">
          The registry cannot be reached: what you see may be out of date. Retrying…
        </div>
      )}
      {!registryDown && cluster !== null && cluster.schedulers.length === 0 && (
        <div class="banner" role="alert">
          No scheduler is running: jobs and tasks cannot be read or changed until one is back.
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {needToken && access === null ? (
          <TokenForm
            error={tokenError}
            onToken={(token) => {
              api.setToken(token);
              void loadAccess();
            }}
          />
        ) : value === null ? (
          <p>Connecting…</p>
        ) : (
          <ConsoleContext.Provider value={value}>
            <Page route={route} />
          </ConsoleContext.Provider>
        )}
      </main>
      <div class="sr-only" role="status" aria-live="polite">
        {status}
      </div>
      {toast && (
        <div class="toast" aria-hidden="true">
          {toast}
        </div>
      )}
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'jobs':
      return <JobsPage />;
    case 'job':
      return <JobPage id={route.id as string} />;
    case 'tasks':
      return <TasksPage state={route.query.get('state') ?? 'running'} />;
    case 'task':
      return <TaskPage id={route.id as string} />;
    case 'history':
      return <HistoryPage />;
    default:
      return <ClusterPage />;
  }
}

function TokenForm({ onToken, error }: { onToken: (token: string) => void; error: string | null }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="card form narrow"
      aria-label="Sign in with an API token"
      onSubmit={(event) => {
        event.preventDefault();
        onToken(token.trim());
      }}
    >
      <h1>API token</h1>
      <p>
        This cluster requires a token. It is sent in the Authorization header of every call and kept
        in this tab only.
      </p>
      <label>
        Token
        <input
          type="password"
          name="token"
          autoComplete="off"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
          aria-describedby={error ? 'token-error' : undefined}
        />
      </label>
      {error && (
        <p class="field-error" id="token-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Sign in
      </button>
    </form>
  );
}
